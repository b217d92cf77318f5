// gla_cuda_common.cuh — helpers shared by the GLA CUDA kernels: element loads/stores for tensors that are
// f32 or bf16 (chosen at run time: the choice is uniform over a launch, so the branch costs nothing next to
// the arithmetic), warp reductions, and the host-side argument checks of the CUDA backend.
// Precision: every kernel computes in fp32; bf16 is only a storage format of q, k, v, o and their gradients.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/cuda_check.cuh"
#include "core/cuda_scratch.cuh"
#include "core/tensor.h"
#include "gla/cuda/gla_mma.cuh"  // smem_u32

namespace hgrn::gla_cuda {

// The chunkwise kernels: chunk length, log2(e) (cumsums of g are kept in log2 units) and the largest decay
// span (log2 units) within a 16-row block that the factored (reference-row) path takes; wider chunks take the
// exact elementwise path (docs/gla_math.md §4).
constexpr int kC = 64;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kMaxSpan = 100.f;
// Index of the 16-row block pair (i, b), b < i, i in 1..3, among the 6 off-diagonal pairs of a chunk.
__device__ __forceinline__ int pair_index(int i, int b) { return i * (i - 1) / 2 + b; }

// 16 bytes global -> shared without passing through registers; wait for all of a thread's copies.
__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_u32(dst)), "l"(src));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>  // wait until at most N of this thread's committed groups are pending
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
__device__ __forceinline__ void cp_async_wait_all() {  // commit the pending copies, then wait for all of them
    cp_async_commit();
    cp_async_wait<0>();
}

// Eight bf16 (one 16-byte load) into eight floats.
__device__ __forceinline__ void unpack8(const uint4& u, float* dst) {  // dst 16-byte aligned: two 16-byte stores
    const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&u);
    const float2 f0 = __bfloat1622float2(p[0]), f1 = __bfloat1622float2(p[1]);
    const float2 f2 = __bfloat1622float2(p[2]), f3 = __bfloat1622float2(p[3]);
    reinterpret_cast<float4*>(dst)[0] = make_float4(f0.x, f0.y, f1.x, f1.y);
    reinterpret_cast<float4*>(dst)[1] = make_float4(f2.x, f2.y, f3.x, f3.y);
}

// Non-finite detection for kernels whose TF32 operands skip the inf / NaN guard (gla_mma.cuh, tf32_fast): nonzero
// where an element has an all-ones exponent (inf or NaN). Eight bf16 of a 16-byte load: per 32-bit pair, the
// exponent fields plus one carry into bit 15 / 31 exactly when they are all ones.
__device__ __forceinline__ uint32_t nonfinite_bf16x8(const uint4& u) {
    const auto f = [](uint32_t w) { return ((w & 0x7f807f80u) + 0x00800080u) & 0x80008000u; };
    return f(u.x) | f(u.y) | f(u.z) | f(u.w);
}
__device__ __forceinline__ uint32_t nonfinite_f32(float x) {
    return ((__float_as_uint(x) & 0x7f800000u) + 0x00800000u) & 0x80000000u;
}
__device__ __forceinline__ uint32_t nonfinite_f32x4(const float4& v) {
    return nonfinite_f32(v.x) | nonfinite_f32(v.y) | nonfinite_f32(v.z) | nonfinite_f32(v.w);
}

// 2^x in one MUFU instruction (max relative error ~2^-22; results below 2^-126 flush to zero, which only
// drops terms that are negligible next to the ones they are summed with).
__device__ __forceinline__ float exp2_fast(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// The fused HGRN2 key k = 1 - exp(g) for a log forget gate g <= 0, within about 3 ulp (expm1f: 1 ulp) at a
// third of expm1f's instructions: a degree-7 Taylor polynomial of -expm1 where |g| < 0.35 (no cancellation),
// else 1 - 2^{g log2 e} (k >= 0.29 there, so the exponential's error is amplified at most 2.4x). g = -inf
// gives 1. (Host check over g in [-1e10, -1e-10]: worst 1.3 ulp with an exact exp2.)
// The form with f: it also returns exp(g) as 2^{g log2 e} (ex2.approx: relative error ~2^-22, 0 below 2^-126), which
// the branch above computes anyway, for callers that need the forget gate too.
__device__ __forceinline__ float one_minus_exp(float g, float& f) {
    float p = 1.f / 5040;
    p = fmaf(p, g, 1.f / 720);
    p = fmaf(p, g, 1.f / 120);
    p = fmaf(p, g, 1.f / 24);
    p = fmaf(p, g, 1.f / 6);
    p = fmaf(p, g, 0.5f);
    p = fmaf(p, g, 1.f);
    f = exp2_fast(g * 1.4426950408889634f);
    return fabsf(g) < 0.35f ? -(p * g) : 1.f - f;
}
__device__ __forceinline__ float one_minus_exp(float g) {
    float f;
    return one_minus_exp(g, f);
}

// A read-only or writable tensor of f32 or bf16 elements, flattened.
struct In {
    const void* p = nullptr;
    bool bf16 = false;
};
struct Out {
    void* p = nullptr;
    bool bf16 = false;
};

__device__ __forceinline__ float ld(In x, int64_t i) {
    return x.bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(x.p)[i]) : static_cast<const float*>(x.p)[i];
}
__device__ __forceinline__ void st(Out x, int64_t i, float v) {
    if (x.bf16) static_cast<__nv_bfloat16*>(x.p)[i] = __float2bfloat16_rn(v);
    else static_cast<float*>(x.p)[i] = v;
}

// Sum over the 32 lanes of a warp of N values per lane (N a power of two <= 32), "transposed": on return
// v[0] of lane l holds the total of value index (l >> (5 - log2 N)). Costs N - 1 + (5 - log2 N) shuffles
// instead of 5 N for N separate reductions.
template <int N>
__device__ __forceinline__ float warp_reduce_transposed(float (&v)[N], int lane) {
    static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0, "N must be a power of two <= 32");
    int off = 16;
#pragma unroll
    for (int n = N; n > 1; n /= 2) {
        const bool upper = (lane & off) != 0;
#pragma unroll
        for (int i = 0; i < n / 2; ++i) {
            const float send = upper ? v[i] : v[i + n / 2];
            const float keep = upper ? v[i + n / 2] : v[i];
            v[i] = keep + __shfl_xor_sync(0xffffffffu, send, off);
        }
        off >>= 1;
    }
    for (; off >= 1; off >>= 1) v[0] += __shfl_xor_sync(0xffffffffu, v[0], off);
    return v[0];
}
template <int N>
constexpr int log2_of() {
    return N <= 1 ? 0 : 1 + log2_of<N / 2>();
}

// Host side: a tensor of the CUDA backend must be on the GPU with one of the allowed dtypes.
inline In in_of(const Tensor& t, const char* name, bool allow_bf16 = true) {
    if (t.empty()) return {};
    HGRN_CHECK(t.device() == Device::cuda, "GLA (CUDA): ", name, " must be on the GPU, got ", t.describe());
    HGRN_CHECK(t.dtype() == DType::f32 || (allow_bf16 && t.dtype() == DType::bf16), "GLA (CUDA): ", name,
               " must be ", allow_bf16 ? "f32 or bf16" : "f32", ", got ", t.describe());
    return {t.data(), t.dtype() == DType::bf16};
}
inline Out out_of(const Tensor& t, const char* name, bool allow_bf16 = true) {
    const In i = in_of(t, name, allow_bf16);
    return {const_cast<void*>(i.p), i.bf16};
}
inline const float* f32_in(const Tensor& t, const char* name) { return static_cast<const float*>(in_of(t, name, false).p); }
inline float* f32_out(const Tensor& t, const char* name) { return static_cast<float*>(out_of(t, name, false).p); }

inline int next_pow2(int64_t x) {
    int p = 1;
    while (p < x) p *= 2;
    return p;
}

}  // namespace hgrn::gla_cuda
