// gla_mma.cuh — warp-level tensor-core products for the chunkwise kernels (sm_80 and later): TF32 mma.sync
// m16n8k8 with the split-TF32 variants that give fp32 accuracy where an output is fp32 (dg, dh0), bf16 m16n8k16
// with bf16 hi + lo (+ lo2) splits of fp32 values, and ldmatrix fragment loads.
// Fragment layout (PTX ISA, m16n8k8 .tf32): lane = 4 gr + tg;
//   A (16 x 8): a0 = A[gr][tg], a1 = A[gr + 8][tg], a2 = A[gr][tg + 4], a3 = A[gr + 8][tg + 4]
//   B (8 x 8):  b0 = B[tg][gr], b1 = B[tg + 4][gr]
//   C (16 x 8): c0 = C[gr][2 tg], c1 = C[gr][2 tg + 1], c2 = C[gr + 8][2 tg], c3 = C[gr + 8][2 tg + 1]
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace hgrn::gla_cuda::mma {

__device__ __forceinline__ uint32_t tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The same with the A fragment as four registers.
__device__ __forceinline__ void mma(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                    uint32_t b1) {
    const uint32_t a[4] = {a0, a1, a2, a3};
    mma(c, a, b0, b1);
}

// D += A B on bf16 operands (m16n8k16, fp32 accumulation). Fragments (PTX ISA): a0 = A[gr][2tg, 2tg+1],
// a1 = A[gr+8][2tg, 2tg+1], a2 = A[gr][2tg+8, 2tg+9], a3 = A[gr+8][2tg+8, 2tg+9]; b0 = B[2tg, 2tg+1][gr],
// b1 = B[2tg+8, 2tg+9][gr] (the lower column / row in the low half); C as in the TF32 form.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// Four 8 x 8 matrices of 16-bit elements (here: 8 x 4 of 32-bit words) from shared memory, lanes 8 m..8 m + 7
// giving the row addresses of matrix m; lane i receives word i % 4 of row i / 4 of each.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
}
// x0, x1 as bf16 pairs hi + lo (+ lo2): 16 (24) significant bits, against TF32's 11 (split TF32's 22).
__device__ __forceinline__ void split_bf16(float x0, float x1, uint32_t& hi, uint32_t& lo) {
    hi = pack_bf16(x0, x1);
    lo = pack_bf16(x0 - __uint_as_float(hi << 16), x1 - __uint_as_float(hi & 0xffff0000u));
}
__device__ __forceinline__ void split_bf16(float x0, float x1, uint32_t& hi, uint32_t& lo, uint32_t& lo2) {
    hi = pack_bf16(x0, x1);
    const float r0 = x0 - __uint_as_float(hi << 16), r1 = x1 - __uint_as_float(hi & 0xffff0000u);
    lo = pack_bf16(r0, r1);
    lo2 = pack_bf16(r0 - __uint_as_float(lo << 16), r1 - __uint_as_float(lo & 0xffff0000u));
}

// Precision of one product: one TF32 product of rounded operands (~1e-3 relative), or split products where
// x = hi + lo (both TF32) so that the result keeps about fp32 accuracy:
enum Prec {
    kTF32 = 1,     // operands rounded to TF32
    kExactA = 2,   // A already exact in TF32 (bf16 data): A (Bhi + Blo)
    kSplit3 = 3,   // both split: Ahi Bhi + Ahi Blo + Alo Bhi
    kExactB = 4,   // B exact: (Ahi + Alo) B
    kExactAB = 5,  // both exact in TF32 (bf16 data): one product, no conversion
    kTF32xB = 6,   // A rounded to TF32, B exact: one product
};

// One warp: acc[n] (the 16 x 8 tile n) += sum over k in [k0, k1) of A(r, k) B(k, 8 n + c), r < 16, c < 8.
// fa(r, k) and fb(k, c) return fp32 values (from shared memory); k0 and k1 are multiples of 8.
template <int P, int NT, class FA, class FB>
__device__ __forceinline__ void warp_mma(float (&acc)[NT][4], int k0, int k1, const FA& fa, const FB& fb) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
#pragma unroll 1
    for (int k = k0; k < k1; k += 8) {
        const float x[4] = {fa(gr, k + tg), fa(gr + 8, k + tg), fa(gr, k + tg + 4), fa(gr + 8, k + tg + 4)};
        uint32_t ah[4], al[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            ah[e] = (P == kExactA || P == kExactAB) ? __float_as_uint(x[e]) : tf32(x[e]);  // exact: already TF32
            al[e] = (P == kSplit3 || P == kExactB) ? tf32(x[e] - __uint_as_float(ah[e])) : 0u;
        }
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const float y0 = fb(k + tg, 8 * n + gr), y1 = fb(k + tg + 4, 8 * n + gr);
            constexpr bool bx = P == kExactB || P == kExactAB || P == kTF32xB;
            const uint32_t bh0 = bx ? __float_as_uint(y0) : tf32(y0);
            const uint32_t bh1 = bx ? __float_as_uint(y1) : tf32(y1);
            if (P == kExactA || P == kSplit3) {  // small terms first
                mma(acc[n], ah, tf32(y0 - __uint_as_float(bh0)), tf32(y1 - __uint_as_float(bh1)));
            }
            if (P == kSplit3 || P == kExactB) mma(acc[n], al, bh0, bh1);
            mma(acc[n], ah, bh0, bh1);
        }
    }
}

// One warp, a full-height strip: acc[m][n] (rows 16 m.., columns 8 n..) += sum over k in [k0, k1) of
// A(r, k) B(k, c), r < 16 M, c < 8 NT; A exact in TF32 (bf16 data), B split (hi + lo): each B element is
// read and split once per warp (not once per row block), so a block whose warps own disjoint column strips
// splits every B element once.
template <int M, int NT, class FA, class FB>
__device__ __forceinline__ void warp_mma_strip(float (&acc)[M][NT][4], int k0, int k1, const FA& fa, const FB& fb) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
#pragma unroll 1
    for (int k = k0; k < k1; k += 8) {
        uint32_t bh[NT][2], bl[NT][2];
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const float y0 = fb(k + tg, 8 * n + gr), y1 = fb(k + tg + 4, 8 * n + gr);
            bh[n][0] = tf32(y0), bh[n][1] = tf32(y1);
            bl[n][0] = tf32(y0 - __uint_as_float(bh[n][0])), bl[n][1] = tf32(y1 - __uint_as_float(bh[n][1]));
        }
#pragma unroll
        for (int m = 0; m < M; ++m) {
            const int r = 16 * m + gr;
            const uint32_t a[4] = {__float_as_uint(fa(r, k + tg)), __float_as_uint(fa(r + 8, k + tg)),
                                   __float_as_uint(fa(r, k + tg + 4)), __float_as_uint(fa(r + 8, k + tg + 4))};
#pragma unroll
            for (int n = 0; n < NT; ++n) {
                mma(acc[m][n], a, bl[n][0], bl[n][1]);  // small terms first
                mma(acc[m][n], a, bh[n][0], bh[n][1]);
            }
        }
    }
}

}  // namespace hgrn::gla_cuda::mma
