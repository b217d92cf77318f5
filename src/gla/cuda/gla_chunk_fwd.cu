// gla_chunk_fwd.cu — chunkwise GLA forward on tensor cores (mma.sync TF32, sm_80 and later).
// One block (8 warps) per (64-column tile of V, head, sequence) walks the chunks of C = 64 tokens in order,
// keeping its K x 64 slice of the state in fp32 registers (MMA accumulators). Per chunk, with G the
// in-chunk cumsum of g in log2 units, Gamma = G at the last row, r_b = G at the first row of 16-row block b:
//     o_t   = s (q_t . 2^{G_t})^T H  +  sum_{u <= t} A[t,u] v_u,   A[t,u] = s sum_j q_tj k_uj 2^{G_tj - G_uj}
//     H    <- Diag(2^Gamma) H + sum_u (k_u . 2^{Gamma - G_u}) v_u^T
// Stability without clamping: q^ = q . 2^{G_t - r_b(t)} (<= 1) and k^ = k . 2^{r_b(u) - G_u} (<= 2^100, checked)
// are formed once; every other factor is a per-column scale 2^{r_i - r_b}, 2^{r_b}, 2^{Gamma - r_b}, all <= 1,
// so nothing overflows and an underflow only drops a term that is tiny next to the chunk's own. A chunk whose
// 16-row blocks span more than 2^100 of decay (log f below about -4.3 per step on average) takes an exact
// elementwise path for A. Operands are rounded to TF32 (10-bit mantissa; bf16 inputs are exact in it); the
// state update splits k~ into two TF32 halves, so the state keeps fp32 accuracy. k absent: k = 1 - exp(g).
// Covered: q, v, o bf16 (k bf16 or absent), K in {64, 128, 256}, V a multiple of 64; else the caller falls back.
// K = 256 runs the K = 128 kernels on the two 128-column halves of q, k, g (= the state's row halves, which
// evolve independently): o is the sum of the halves' o, written as fp32 partials and summed into bf16.
// Few blocks (B H V / 64 at most half the SMs, T > 256): the split path instead, the backward's state pass
// (H direction) writing every H_n to scratch, then gla_chunk_out_kernel with all chunks in parallel.
#include <cstdint>
#include <algorithm>
#include <cstdlib>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"

namespace hgrn::gla_cuda {
namespace {

constexpr int kC = 64, kBV = 64, kThreads = 256;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kMaxSpan = 100.f;  // largest in-block decay span (log2 units) of the factored path

struct FwdArgs {
    const __nv_bfloat16 *q, *k, *v;  // k may be null
    const float *g, *h0;
    __nv_bfloat16* o;
    float* ht;
    float* o32;  // K = 256 (two 128-halves): this half's fp32 partial of o instead of o (summed afterwards)
    int T, H, V;
    float scale;
};

__device__ __forceinline__ uint32_t tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}
__device__ __forceinline__ void mma(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                    uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

template <int K>
struct Smem {
    static constexpr int LQ = K + 4, LK = K + 8, LV = kBV + 8, LA = kC + 4;
    float G[kC * LQ];     // cumsum (log2 units)
    float Q[kC * LQ];     // q, then q^
    float Kh[kC * LK];    // k, then k^
    float Vs[kC * LV];    // v tile
    float A[kC * LA];     // intra-chunk scores (scaled, masked)
    float Hs[K * LV];     // state before the chunk, the B operand of q~ H
    float cq[4][K];       // 2^{r_b}
    float ck[4][K];       // 2^{Gamma - r_b}
    float cib[6][K];      // 2^{r_i - r_b}, b < i
    float dec[K];         // 2^{Gamma}
};
__device__ __forceinline__ int pair_index(int i, int b) { return i * (i - 1) / 2 + b; }  // b < i, i in 1..3

// All global loads of a chunk are issued before any is used (16-byte vectors), so their latencies overlap.
template <int K, int KS>
__device__ void load_chunk(const FwdArgs& a, Smem<K>& s, int b, int h, int c0, int t0) {
    using S = Smem<K>;
    constexpr int NQ = kC * K / 8 / kThreads, NG = kC * K / 4 / kThreads, NV = kC * kBV / 8 / kThreads;
    uint4 rq[NQ], rk[NQ], rv[NV];
    float4 rg[NG];
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    auto row = [&](int tt) { return (int64_t(b) * a.T + tt) * a.H + h; };
#pragma unroll
    for (int i = 0; i < NQ; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (K / 8), j = 8 * (idx % (K / 8)), tt = t0 + t;
        rq[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.q + row(tt) * KS + j)) : z4;
        rk[i] = (tt < a.T && a.k) ? __ldg(reinterpret_cast<const uint4*>(a.k + row(tt) * KS + j)) : z4;
    }
#pragma unroll
    for (int i = 0; i < NG; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (K / 4), j = 4 * (idx % (K / 4)), tt = t0 + t;
        rg[i] = tt < a.T ? __ldg(reinterpret_cast<const float4*>(a.g + row(tt) * KS + j)) : make_float4(0, 0, 0, 0);
    }
#pragma unroll
    for (int i = 0; i < NV; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (kBV / 8), c = 8 * (idx % (kBV / 8)), tt = t0 + t;
        rv[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.v + row(tt) * a.V + c0 + c)) : z4;
    }
    // 8 bf16 -> two 16-byte stores. Threads of a row are 8 floats apart, so a quarter warp (8 threads) would
    // hit each bank twice; threads with bit 2 of their column group set store their upper half first, which
    // makes every 16-byte store instruction conflict-free. K = 64 keeps scalar stores: the vector form takes
    // it past 128 registers, i.e. from 2 blocks per SM to 1 (measured 0.45 -> 0.57 ms at 8x2048x32x64).
    auto unpack = [](const uint4& u, float* dst, bool swap) {
        const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&u);
        if constexpr (K < 128) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float2 f = __bfloat1622float2(p[e]);
                dst[2 * e] = f.x, dst[2 * e + 1] = f.y;
            }
        } else {
            float f[8];
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float2 x = __bfloat1622float2(p[e]);
                f[2 * e] = x.x, f[2 * e + 1] = x.y;
            }
            const float4 lo = make_float4(f[0], f[1], f[2], f[3]), hi = make_float4(f[4], f[5], f[6], f[7]);
            float4* d = reinterpret_cast<float4*>(dst);
            d[swap ? 1 : 0] = swap ? hi : lo;
            d[swap ? 0 : 1] = swap ? lo : hi;
        }
    };
#pragma unroll
    for (int i = 0; i < NQ; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (K / 8), j = 8 * (idx % (K / 8));
        const bool swap = (j >> 5) & 1;
        unpack(rq[i], s.Q + t * S::LQ + j, swap);
        if (a.k) unpack(rk[i], s.Kh + t * S::LK + j, swap);
    }
#pragma unroll
    for (int i = 0; i < NG; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (K / 4), j = 4 * (idx % (K / 4));
        if constexpr (K < 128) {
            const float g[4] = {rg[i].x, rg[i].y, rg[i].z, rg[i].w};
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s.G[t * S::LQ + j + e] = g[e] * kLog2e;
                if (!a.k) s.Kh[t * S::LK + j + e] = -expm1f(g[e]);
            }
            continue;
        }
        const float4 x = rg[i];  // 16-byte stores: consecutive threads, consecutive columns (no conflicts)
        *reinterpret_cast<float4*>(s.G + t * S::LQ + j) = make_float4(x.x * kLog2e, x.y * kLog2e, x.z * kLog2e, x.w * kLog2e);
        if (!a.k)
            *reinterpret_cast<float4*>(s.Kh + t * S::LK + j) = make_float4(-expm1f(x.x), -expm1f(x.y), -expm1f(x.z), -expm1f(x.w));
    }
#pragma unroll
    for (int i = 0; i < NV; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (kBV / 8), c = 8 * (idx % (kBV / 8));
        unpack(rv[i], s.Vs + t * S::LV + c, (c >> 5) & 1);
    }
}

// The v tile (columns c0..) of the chunk at t0 into Vs.
template <int K>
__device__ void load_v(const FwdArgs& a, Smem<K>& s, int b, int h, int c0, int t0) {
    using S = Smem<K>;
    constexpr int NV = kC * kBV / 8 / kThreads;
    uint4 rv[NV];
#pragma unroll
    for (int i = 0; i < NV; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (kBV / 8), c = 8 * (idx % (kBV / 8)), tt = t0 + t;
        rv[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.v + ((int64_t(b) * a.T + tt) * a.H + h) * a.V + c0 + c))
                         : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int i = 0; i < NV; ++i) {
        const int idx = threadIdx.x + i * kThreads, t = idx / (kBV / 8), c = 8 * (idx % (kBV / 8));
        const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&rv[i]);
        float f[8];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const float2 x = __bfloat1622float2(p[e]);
            f[2 * e] = x.x, f[2 * e + 1] = x.y;
        }
        const bool swap = K >= 128 && ((c >> 5) & 1);  // as in load_chunk: conflict-free 16-byte stores
        *reinterpret_cast<float4*>(s.Vs + t * S::LV + c + (swap ? 4 : 0)) =
            swap ? make_float4(f[4], f[5], f[6], f[7]) : make_float4(f[0], f[1], f[2], f[3]);
        *reinterpret_cast<float4*>(s.Vs + t * S::LV + c + (swap ? 0 : 4)) =
            swap ? make_float4(f[0], f[1], f[2], f[3]) : make_float4(f[4], f[5], f[6], f[7]);
    }
}

// In-place inclusive cumsum of G over the 64 rows, per column; threads split each column into parts, each
// scanned in registers (the part totals pass through s.A, which is free until the scores are formed).
template <int K>
__device__ void cumsum(Smem<K>& s) {
    using S = Smem<K>;
    constexpr int P = kThreads / K, R = kC / P;
    const int j = threadIdx.x % K, p = threadIdx.x / K;
    float x[R];
#pragma unroll
    for (int i = 0; i < R; ++i) x[i] = s.G[(p * R + i) * S::LQ + j];
#pragma unroll
    for (int i = 1; i < R; ++i) x[i] += x[i - 1];
    s.A[p * K + j] = x[R - 1];
    __syncthreads();
    float off = 0;
    for (int pp = 0; pp < p; ++pp) off += s.A[pp * K + j];
#pragma unroll
    for (int i = 0; i < R; ++i) s.G[(p * R + i) * S::LQ + j] = x[i] + off;
    __syncthreads();
}

// Exact A for chunks with a very wide decay span: every exponent G_t - G_u <= 0 taken elementwise.
template <int K>
__device__ void scores_exact(Smem<K>& s, float scale) {
    using S = Smem<K>;
    for (int idx = threadIdx.x; idx < kC * kC; idx += kThreads) {
        const int t = idx / kC, u = idx % kC;
        float acc = 0;
        if (u <= t)
            for (int j = 0; j < K; ++j)
                acc += s.Q[t * S::LQ + j] * s.Kh[u * S::LK + j] * exp2f(s.G[t * S::LQ + j] - s.G[u * S::LQ + j]);
        s.A[t * S::LA + u] = acc * scale;
    }
}

// q^, k^ and the column scales (wide: q~, k~ directly and unit scales).
template <int K>
__device__ void prepare(Smem<K>& s, bool wide) {
    using S = Smem<K>;
    for (int idx = threadIdx.x; idx < kC * K; idx += kThreads) {
        const int t = idx / K, j = idx % K, rb = (t / 16) * 16;
        const float G = s.G[t * S::LQ + j], r = s.G[rb * S::LQ + j], Gam = s.G[(kC - 1) * S::LQ + j];
        s.Q[t * S::LQ + j] *= exp2f(wide ? G : G - r);
        s.Kh[t * S::LK + j] *= exp2f(wide ? Gam - G : r - G);
    }
    for (int j = threadIdx.x; j < K; j += kThreads) {
        const float Gam = s.G[(kC - 1) * S::LQ + j];
        float r[4];
#pragma unroll
        for (int b = 0; b < 4; ++b) r[b] = s.G[16 * b * S::LQ + j];
#pragma unroll
        for (int b = 0; b < 4; ++b) {
            s.cq[b][j] = wide ? 1.f : exp2f(r[b]);
            s.ck[b][j] = wide ? 1.f : exp2f(Gam - r[b]);
        }
#pragma unroll
        for (int i = 1; i < 4; ++i)
#pragma unroll
            for (int b = 0; b < i; ++b) s.cib[pair_index(i, b)][j] = exp2f(r[i] - r[b]);
        s.dec[j] = exp2f(Gam);
    }
}

// A[16i.., 16b..] = s (q^_i . 2^{r_i - r_b}) k^_b^T, masked to u <= t. 10 block pairs over 8 warps.
template <int K>
__device__ void scores_mma(Smem<K>& s, float scale) {
    using S = Smem<K>;
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    for (int p = w; p < 10; p += 8) {
        int i = 0;
        while ((i + 1) * (i + 2) / 2 <= p) ++i;
        const int bb = p - i * (i + 1) / 2;  // b <= i
        float acc[2][4] = {};
        const float* cs = bb < i ? s.cib[pair_index(i, bb)] : nullptr;
#pragma unroll 4
        for (int j0 = 0; j0 < K; j0 += 8) {
            const float f0 = cs ? cs[j0 + tg] : 1.f, f1 = cs ? cs[j0 + tg + 4] : 1.f;
            const float* qr = s.Q + (16 * i + gr) * S::LQ + j0 + tg;
            const uint32_t a0 = tf32(qr[0] * f0), a1 = tf32(qr[8 * S::LQ] * f0), a2 = tf32(qr[4] * f1),
                           a3 = tf32(qr[8 * S::LQ + 4] * f1);
#pragma unroll
            for (int n = 0; n < 2; ++n) {
                const float* kr = s.Kh + (16 * bb + 8 * n + gr) * S::LK + j0 + tg;
                mma(acc[n], a0, a1, a2, a3, tf32(kr[0]), tf32(kr[4]));
            }
        }
#pragma unroll
        for (int n = 0; n < 2; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int t = 16 * i + gr + (e >= 2 ? 8 : 0), u = 16 * bb + 8 * n + 2 * tg + (e & 1);
                s.A[t * S::LA + u] = u <= t ? acc[n][e] * scale : 0.f;
            }
    }
    // Blocks above the diagonal are zero.
    for (int idx = threadIdx.x; idx < kC * kC; idx += kThreads) {
        const int t = idx / kC, u = idx % kC;
        if (u / 16 > t / 16) s.A[t * S::LA + u] = 0.f;
    }
}

// o = s q~ H + A v for the chunk at t0 and the V tile c0.., from Q (q^), cq, A, Vs and Hs; warp w: rows
// 16 (w % 4).., columns 32 (w / 4).. (4 n-tiles). v is bf16 (exact in TF32): its bits go in unconverted.
template <int K, int KS>
__device__ __forceinline__ void output_tile(const FwdArgs& a, Smem<K>& s, int b, int h, int c0, int t0) {
    using S = Smem<K>;
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    const int orb = w % 4, oc0 = 32 * (w / 4);
    float oacc[4][4] = {};
#pragma unroll 2
    for (int j0 = 0; j0 < K; j0 += 8) {
        const float f0 = s.cq[orb][j0 + tg], f1 = s.cq[orb][j0 + tg + 4];
        const float* qr = s.Q + (16 * orb + gr) * S::LQ + j0 + tg;
        const uint32_t a0 = tf32(qr[0] * f0), a1 = tf32(qr[8 * S::LQ] * f0), a2 = tf32(qr[4] * f1),
                       a3 = tf32(qr[8 * S::LQ + 4] * f1);
#pragma unroll
        for (int n = 0; n < 4; ++n) {
            const float* hb = s.Hs + (j0 + tg) * S::LV + oc0 + 8 * n + gr;
            mma(oacc[n], a0, a1, a2, a3, tf32(hb[0]), tf32(hb[4 * S::LV]));
        }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) oacc[n][e] *= a.scale;
    for (int u0 = 0; u0 < 16 * (orb + 1); u0 += 8) {
        const float* ar = s.A + (16 * orb + gr) * S::LA + u0 + tg;
        const uint32_t a0 = tf32(ar[0]), a1 = tf32(ar[8 * S::LA]), a2 = tf32(ar[4]), a3 = tf32(ar[8 * S::LA + 4]);
#pragma unroll
        for (int n = 0; n < 4; ++n) {
            const float* vb = s.Vs + (u0 + tg) * S::LV + oc0 + 8 * n + gr;
            mma(oacc[n], a0, a1, a2, a3, __float_as_uint(vb[0]), __float_as_uint(vb[4 * S::LV]));
        }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int e = 0; e < 4; e += 2) {
            const int t = t0 + 16 * orb + gr + (e >= 2 ? 8 : 0), c = c0 + oc0 + 8 * n + 2 * tg;
            if (t < a.T) {
                const int64_t off = ((int64_t(b) * a.T + t) * a.H + h) * a.V + c;
                if constexpr (KS > K)
                    *reinterpret_cast<float2*>(a.o32 + off) = make_float2(oacc[n][e], oacc[n][e + 1]);
                else
                    *reinterpret_cast<__nv_bfloat162*>(a.o + off) = __floats2bfloat162_rn(oacc[n][e], oacc[n][e + 1]);
            }
        }
}

// The chunk's scores and q^ / k^ / column scales, after load_chunk (all threads; ends with a barrier).
template <int K>
__device__ __forceinline__ void chunk_prologue(Smem<K>& s, float scale) {
    using S = Smem<K>;
    cumsum<K>(s);
    bool wide_local = false;
    for (int idx = threadIdx.x; idx < 4 * K; idx += kThreads) {
        const int bb = idx / K, j = idx % K;
        wide_local |= s.G[16 * bb * S::LQ + j] - s.G[(16 * bb + 15) * S::LQ + j] > kMaxSpan;
    }
    const bool wide = __syncthreads_or(wide_local);
    if (wide) {
        scores_exact<K>(s, scale);
        __syncthreads();
    }
    prepare<K>(s, wide);
    __syncthreads();
    if (!wide) {
        scores_mma<K>(s, scale);
        __syncthreads();
    }
}

__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
    const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src));
}

// The arguments of K half kh (KS = 256 as two K = 128 halves; KS = K: kh = 0, unchanged): q, k, g columns and
// h0, ht rows of the half, o32 the half's partial (nvo = B T H V apart).
template <int K, int KS>
__device__ __forceinline__ void to_half(FwdArgs& a, int kh, int64_t nvo) {
    if (KS > K && kh > 0) {
        a.q += kh * K;
        if (a.k) a.k += kh * K;
        a.g += kh * K;
        if (a.h0) a.h0 += int64_t(kh) * K * a.V;
        if (a.ht) a.ht += int64_t(kh) * K * a.V;
        if (a.o32) a.o32 += kh * nvo;
    }
}

// o = bf16(p0 + p1): the two K halves' fp32 partials (n a multiple of 4, 16-byte aligned).
__global__ void gla_sum_halves_kernel(const float* p, __nv_bfloat16* o, int64_t n) {
    for (int64_t i = 4 * (int64_t(blockIdx.x) * blockDim.x + threadIdx.x); i < n; i += 4 * int64_t(gridDim.x) * blockDim.x) {
        const float4 x = *reinterpret_cast<const float4*>(p + i), y = *reinterpret_cast<const float4*>(p + n + i);
        __nv_bfloat162 r[2] = {__floats2bfloat162_rn(x.x + y.x, x.y + y.y), __floats2bfloat162_rn(x.z + y.z, x.w + y.w)};
        *reinterpret_cast<uint2*>(o + i) = *reinterpret_cast<const uint2*>(r);
    }
}

// Split forward, part 2 (part 1 is chunk_states_forward: every H_n into hbuf): one block per (chunk, head,
// sequence), all chunks in parallel; the scores are formed once and the V tiles walked with H_n from hbuf.
template <int K, int KS>
__global__ void __launch_bounds__(kThreads, 1) gla_chunk_out_kernel(FwdArgs a, const float* hbuf, int N) {
    using S = Smem<K>;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    constexpr int nh = KS / K;
    const int kh = blockIdx.z % nh;  // K half (K = 256: blockIdx.z = 2 b + half)
    const int n = blockIdx.x, h = blockIdx.y, b = blockIdx.z / nh, t0 = n * kC;
    if constexpr (KS > K) to_half<K, KS>(a, kh, int64_t(gridDim.z / nh) * a.T * a.H * a.V);
    const float* hp = hbuf + ((int64_t(b) * a.H + h) * N + n) * KS * a.V + int64_t(kh) * K * a.V;
    auto issue_h = [&](int c0) {  // K x 64 fp32 tile of H_n into Hs (asynchronous)
#pragma unroll
        for (int i = 0; i < K * kBV / 4 / kThreads; ++i) {
            const int idx = threadIdx.x + i * kThreads, j = idx / (kBV / 4), c = 4 * (idx % (kBV / 4));
            cp_async16(s.Hs + j * S::LV + c, hp + int64_t(j) * a.V + c0 + c);
        }
        asm volatile("cp.async.commit_group;\n" ::: "memory");
    };
    issue_h(0);
    load_chunk<K, KS>(a, s, b, h, 0, t0);
    __syncthreads();
    chunk_prologue<K>(s, a.scale);
    for (int c0 = 0; c0 < a.V; c0 += kBV) {
        if (c0 > 0) {
            issue_h(c0);
            load_v<K>(a, s, b, h, c0, t0);
        }
        asm volatile("cp.async.wait_group 0;\n" ::: "memory");
        __syncthreads();
        output_tile<K, KS>(a, s, b, h, c0, t0);
        __syncthreads();
    }
}

template <int K, int KS>
__global__ void __launch_bounds__(kThreads, 1) gla_chunk_fwd_kernel(FwdArgs a) {
    using S = Smem<K>;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    const int nvt = a.V / kBV, kh = KS > K ? blockIdx.x / nvt : 0;  // K half (KS = 256: blockIdx.x = half V/64 + tile)
    const int c0 = (KS > K ? blockIdx.x % nvt : blockIdx.x) * kBV, h = blockIdx.y, b = blockIdx.z;
    if constexpr (KS > K) to_half<K, KS>(a, kh, int64_t(gridDim.z) * a.T * a.H * a.V);
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    // State tile of this warp: rows 16 * (w % RB) .., columns (w / RB) * NT * 8 ..
    constexpr int RB = K / 16, WC = 8 / RB, NT = kBV / WC / 8;
    const int hr0 = 16 * (w % RB), hc0 = (w / RB) * NT * 8;
    float Hacc[NT][4];
    const int64_t sbase = (int64_t(b) * a.H + h) * KS * a.V;  // h0, ht already offset to this half's rows
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int j = hr0 + gr + (e >= 2 ? 8 : 0), c = hc0 + 8 * n + 2 * tg + (e & 1);
            Hacc[n][e] = a.h0 ? a.h0[sbase + int64_t(j) * a.V + c0 + c] : 0.f;
            s.Hs[j * S::LV + c] = Hacc[n][e];
        }
    for (int t0 = 0; t0 < a.T; t0 += kC) {
        load_chunk<K, KS>(a, s, b, h, c0, t0);
        __syncthreads();
        chunk_prologue<K>(s, a.scale);
        output_tile<K, KS>(a, s, b, h, c0, t0);
        // H <- Diag(2^Gamma) H + k~^T v, k~ split into two TF32 halves.
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const float d0 = s.dec[hr0 + gr], d1 = s.dec[hr0 + gr + 8];
            Hacc[n][0] *= d0, Hacc[n][1] *= d0, Hacc[n][2] *= d1, Hacc[n][3] *= d1;
        }
#pragma unroll 2
        for (int u0 = 0; u0 < kC; u0 += 8) {
            const int ub0 = (u0 + tg) / 16, ub1 = (u0 + tg + 4) / 16;
            const int j0 = hr0 + gr, j1 = j0 + 8;
            const float x0 = s.Kh[(u0 + tg) * S::LK + j0] * s.ck[ub0][j0];
            const float x1 = s.Kh[(u0 + tg) * S::LK + j1] * s.ck[ub0][j1];
            const float x2 = s.Kh[(u0 + tg + 4) * S::LK + j0] * s.ck[ub1][j0];
            const float x3 = s.Kh[(u0 + tg + 4) * S::LK + j1] * s.ck[ub1][j1];
            const uint32_t h0 = tf32(x0), h1 = tf32(x1), h2 = tf32(x2), h3 = tf32(x3);
            const uint32_t l0 = tf32(x0 - __uint_as_float(h0)), l1 = tf32(x1 - __uint_as_float(h1)),
                           l2 = tf32(x2 - __uint_as_float(h2)), l3 = tf32(x3 - __uint_as_float(h3));
#pragma unroll
            for (int n = 0; n < NT; ++n) {
                const float* vb = s.Vs + (u0 + tg) * S::LV + hc0 + 8 * n + gr;
                const uint32_t b0 = __float_as_uint(vb[0]), b1 = __float_as_uint(vb[4 * S::LV]);  // bf16: exact
                mma(Hacc[n], h0, h1, h2, h3, b0, b1);
                mma(Hacc[n], l0, l1, l2, l3, b0, b1);
            }
        }
        __syncthreads();  // every warp is done with Hs, Q, Kh, Vs, A of this chunk
        if constexpr (K < 128) {
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    s.Hs[(hr0 + gr + (e >= 2 ? 8 : 0)) * S::LV + hc0 + 8 * n + 2 * tg + (e & 1)] = Hacc[n][e];
        } else {
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 4; e += 2)  // 8-byte stores (a half warp spans all banks once)
                    *reinterpret_cast<float2*>(s.Hs + (hr0 + gr + (e >= 2 ? 8 : 0)) * S::LV + hc0 + 8 * n + 2 * tg) =
                        make_float2(Hacc[n][e], Hacc[n][e + 1]);
        }
        __syncthreads();
    }
    if (a.ht)
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int j = hr0 + gr + (e >= 2 ? 8 : 0), c = hc0 + 8 * n + 2 * tg + (e & 1);
                a.ht[sbase + int64_t(j) * a.V + c0 + c] = Hacc[n][e];
            }
}

// KS / K halves of the full head dim KS (KS = 256: 2, each block one half, a.o32 the partials), else 1.
template <int K, int KS>
void launch(const FwdArgs& a, int B, cudaStream_t stream) {
    const size_t smem = sizeof(Smem<K>);
    static bool configured = false;  // one attribute call per process and K (same value every time)
    if (!configured) {
        HGRN_CUDA_CHECK(
            cudaFuncSetAttribute(gla_chunk_fwd_kernel<K, KS>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    const dim3 grid(unsigned(KS / K * (a.V / kBV)), unsigned(a.H), unsigned(B));
    gla_chunk_fwd_kernel<K, KS><<<grid, kThreads, smem, stream>>>(a);
    HGRN_LAUNCH_CHECK();
}

// Split forward (state pass + per-chunk outputs) where the sequential kernel has too few blocks to fill the
// GPU: its blocks (B H V / 64) walk all N chunks in turn, the state pass has 4x as many (K/32 x V/64 tiles
// per head, several per SM) and the output kernel is fully parallel over chunks. HGRN_GLA_FWD_SPLIT=0 / 1
// forces either path (benchmarks); the sequential one needs no scratch.
bool use_split(const GlaDims& d, int nh) {
    static const int forced = [] {
        const char* e = std::getenv("HGRN_GLA_FWD_SPLIT");
        return e ? std::atoi(e) : -1;
    }();
    if (forced >= 0) return forced != 0;
    int dev = 0, sms = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    // Measured on the H100 (132 SMs), K = V = 128: 32 sequential blocks 3.81 ms vs split 1.74; 128 blocks
    // 1.02 vs 1.46; 256 blocks 0.93 vs 1.39. The split pays below about half an SM per block.
    return d.T > 4 * kC && 2 * d.B * d.H * (d.V / kBV) * nh <= int64_t(sms);
}

template <int K, int KS>
void launch_split(const FwdArgs& a, int B, cudaStream_t stream) {
    const size_t smem = sizeof(Smem<K>);
    static bool configured = false;
    if (!configured) {
        HGRN_CUDA_CHECK(
            cudaFuncSetAttribute(gla_chunk_out_kernel<K, KS>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    const int N = (a.T + kC - 1) / kC;
    float* hbuf = nullptr;
    const size_t nstate = size_t(B) * a.H * size_t(N) * KS * a.V;
    HGRN_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&hbuf), nstate * sizeof(float), stream));
    chunk_states_forward(a.k, a.v, a.g, a.h0, hbuf, a.ht, B, a.T, a.H, KS, a.V, stream);
    const dim3 grid(unsigned(N), unsigned(a.H), unsigned(B * (KS / K)));
    gla_chunk_out_kernel<K, KS><<<grid, kThreads, smem, stream>>>(a, hbuf, N);
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(hbuf, stream));
}

}  // namespace

bool chunk_forward_tc(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out,
                      cudaStream_t stream) {
    const bool bf16_io = in.q.dtype() == DType::bf16 && in.v.dtype() == DType::bf16 &&
                         out.o.dtype() == DType::bf16 && (in.k.empty() || in.k.dtype() == DType::bf16);
    if (!bf16_io || (d.K != 64 && d.K != 128 && d.K != 256) || d.V % kBV != 0) return false;
    if (d.T >= (int64_t(1) << 31) || d.H >= 65536 || d.B * (d.K / 128 + 1) >= 65536) return false;
    for (const Tensor* t : {&in.q, &in.k, &in.v, &in.g})  // 16-byte vector loads
        if (!t->empty() && reinterpret_cast<uintptr_t>(t->data()) % 16 != 0) return false;
    FwdArgs a{};
    a.q = static_cast<const __nv_bfloat16*>(in_of(in.q, "q").p);
    a.k = static_cast<const __nv_bfloat16*>(in_of(in.k, "k").p);
    a.v = static_cast<const __nv_bfloat16*>(in_of(in.v, "v").p);
    a.g = f32_in(in.g, "g");
    a.h0 = f32_in(in.h0, "h0");
    a.o = static_cast<__nv_bfloat16*>(out_of(out.o, "o").p);
    a.ht = f32_out(out.ht, "ht");
    a.T = int(d.T), a.H = int(d.H), a.V = int(d.V);
    a.scale = scale;
    int dev = 0, optin = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (size_t(optin) < (d.K == 64 ? sizeof(Smem<64>) : sizeof(Smem<128>))) return false;  // e.g. sm_80
    const int B = int(d.B);
    if (d.K == 64) {
        use_split(d, 1) ? launch_split<64, 64>(a, B, stream) : launch<64, 64>(a, B, stream);
        return true;
    }
    // K = 256: the K = 128 kernels on the two 128-column halves of q, k, g (rows of the state), each block
    // writing its half's fp32 partial of o; then o = bf16(sum of the two).
    const int nh = int(d.K / 128);
    const int64_t no = d.B * d.T * d.H * d.V;
    if (nh > 1) HGRN_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&a.o32), nh * no * sizeof(float), stream));
    if (nh > 1)
        use_split(d, nh) ? launch_split<128, 256>(a, B, stream) : launch<128, 256>(a, B, stream);
    else
        use_split(d, nh) ? launch_split<128, 128>(a, B, stream) : launch<128, 128>(a, B, stream);
    if (nh > 1) {
        gla_sum_halves_kernel<<<unsigned(std::min<int64_t>((no / 4 + 255) / 256, 4096)), 256, 0, stream>>>(a.o32, a.o, no);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(a.o32, stream));
    }
    return true;
}

}  // namespace hgrn::gla_cuda
