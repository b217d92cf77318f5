// gla_wgmma.cuh — Hopper warpgroup products (wgmma.mma_async, sm_90a) for the chunkwise kernels, and the
// 128-byte-swizzled shared-memory layout they read.
// A warpgroup is 4 consecutive warps (128 threads, warps 4 g .. 4 g + 3); one wgmma m64nNk8 (TF32) multiplies
// a 64 x 8 A by an 8 x N B into a 64 x N fp32 accumulator held by the warpgroup, warp i of the group owning
// rows 16 i .. 16 i + 15 in the m16n8 accumulator layout of mma.sync (gla_mma.cuh) for each 8-column block:
// d[n][0..3] = D[16 i + gr][8 n + 2 tg, + 1], D[16 i + gr + 8][8 n + 2 tg, + 1]. Both operands come from shared
// memory, "K-major" (the reduction index contiguous), in the SW128 layout below; the tensor cores read them
// once per warpgroup (mma.sync reads them once per warp).
// SW128 plane of R rows x KC fp32 columns (KC a multiple of 32): column block a = j / 32 of all rows is a
// contiguous [R][32] region of R x 128 bytes; within it, row r's 16-byte chunk c (columns 4 c .. 4 c + 3) sits
// at chunk c ^ (r % 8). The plane must start at a 1024-byte boundary for wgmma (the hardware applies the XOR
// to address bits 4-6 from bits 7-9); the index function itself is plane-relative, so mma.sync readers that use
// it agree with the writers at any alignment.
// SW128 bf16 plane, "MN-major" (a B operand stored k-row by k-row, its N index contiguous): R rows (k) x NC
// bf16 columns (NC a multiple of 64); column block c / 64 is a contiguous [R][64] region of R x 128 bytes and
// row u's 16-byte chunk (columns 8 c' .. 8 c' + 7 of the block) sits at chunk c' ^ (u % 8).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gla/cuda/gla_mma.cuh"  // smem_u32

namespace hgrn::gla_cuda::wg {

// wgmma exists only in the sm_90a compilation pass; elsewhere the callers take their mma.sync path.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HGRN_HAVE_WGMMA 1
#else
#define HGRN_HAVE_WGMMA 0
#endif

// Float index of (row r, column j) in an SW128 plane of R rows.
template <int R>
__device__ __forceinline__ int sw128(int r, int j) {
    return (j >> 5) * (R * 32) + r * 32 + ((((j & 31) >> 2) ^ (r & 7)) << 2) + (j & 3);
}

// Byte offset of (row u, column c) in an MN-major SW128 bf16 plane of R rows.
template <int R>
__device__ __forceinline__ int sw128_bf16_bytes(int u, int c) {
    return (c >> 6) * (R * 128) + u * 128 + ((((c & 63) >> 3) ^ (u & 7)) << 4) + ((c & 7) << 1);
}

// Descriptor of a K-major SW128 operand whose first row starts at p (1024-byte aligned atom; 8-row groups
// 1024 bytes apart). Stepping k within the 128-byte swizzle width adds the byte offset to the start address.
__device__ __forceinline__ uint64_t desc_sw128(uint32_t addr) {
    return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
}

// Descriptor of an MN-major SW128 bf16 B operand starting at row addr (k rows 128 bytes apart, 8-row groups
// 1024 bytes apart; N blocks of 64 columns nblk bytes apart).
__device__ __forceinline__ uint64_t desc_sw128_mn(uint32_t addr, uint32_t nblk) {
    return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t((nblk >> 4) & 0x3FFF) << 16) | (uint64_t(1024 >> 4) << 32) |
           (uint64_t(1) << 62);
}

// Shared-memory stores by ordinary instructions, made visible to the tensor cores' (async proxy) reads; each
// writing thread runs it before the barrier that precedes the wgmma.
__device__ __forceinline__ void fence_proxy_async() {
#if HGRN_HAVE_WGMMA
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// Keeps the compiler from moving accesses of an accumulator register across the asynchronous region.
__device__ __forceinline__ void pin(float& x) { asm volatile("" : "+f"(x)::"memory"); }

__device__ __forceinline__ void pin(uint32_t (&r)[4]) {
#pragma unroll
    for (int e = 0; e < 4; ++e) asm volatile("" : "+r"(r[e])::"memory");
}

template <int N>
__device__ __forceinline__ void pin(float (&d)[N][4]) {
#pragma unroll
    for (int n = 0; n < N; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) pin(d[n][e]);
}

__device__ __forceinline__ void fence() {
#if HGRN_HAVE_WGMMA
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void commit() {
#if HGRN_HAVE_WGMMA
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wait() {
#if HGRN_HAVE_WGMMA
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}

// d += A B: A 64 x 8, B 8 x 32 (TF32 values in fp32 words), both K-major SW128 in shared memory.
__device__ __forceinline__ void mma_m64n32k8_tf32(float (&d)[4][4], uint64_t da, uint64_t db) {
#if HGRN_HAVE_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %18, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, %16, %17, p, 1, 1;\n}\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]),
          "+f"(d[1][3]), "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]), "+f"(d[3][0]), "+f"(d[3][1]),
          "+f"(d[3][2]), "+f"(d[3][3])
        : "l"(da), "l"(db), "r"(1));
#else
    (void)d, (void)da, (void)db;
#endif
}

// d += A B: A 64 x 16 bf16 from registers (per warp the m16n8k16 A fragment of its 16 rows: gla_mma.cuh),
// B 16 x 64 bf16 MN-major SW128 in shared memory. A's registers must stay unchanged until the wait.
__device__ __forceinline__ void mma_m64n64k16_bf16_rs(float (&d)[8][4], const uint32_t (&a)[4], uint64_t db) {
#if HGRN_HAVE_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %38, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, "
        "%23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, %37;\n}\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]),
          "+f"(d[1][3]), "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]), "+f"(d[3][0]), "+f"(d[3][1]),
          "+f"(d[3][2]), "+f"(d[3][3]), "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]), "+f"(d[5][0]),
          "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]), "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
          "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "n"(1), "r"(1));
#else
    (void)d, (void)a, (void)db;
#endif
}

}  // namespace hgrn::gla_cuda::wg
