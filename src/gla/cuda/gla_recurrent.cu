// gla_recurrent.cu — the general GLA path on the GPU: the recurrence token by token, in fp32.
//     S_t = Diag(exp g_t) S_{t-1} + k_t v_t^T,   o_t = s S_t^T q_t          (forward, step)
//     backward: dq_t = s S_t do_t (forward sweep); dS += s q_t do_t^T, dk_t = dS v_t, dv_t = dS^T k_t,
//     dS <- Diag(exp g_t) dS (reverse sweep); dg_t = sum_{t' >= t} (q . dq - k . dk)_{t'} + rowsum(S_T . dht)
//     and, in the fused HGRN2 form (k = 1 - exp g), dg_t -= exp(g_t) dk_t.
// One block per (b, h, tile of 32*CPL state columns); 16 warps, warp w owns state rows w + 16 r (r < RPW),
// lane l owns columns l + 32 i (i < CPL): the state tile lives in registers. Tokens are staged in shared
// memory kTT at a time. Reductions over rows (o, dv) go through shared memory, over columns (dq, dk) through
// warp shuffles; with several column tiles, dq/dk partial sums are added atomically into fp32 scratch.
// Layouts as gla.h: q, k, g (B, T, H, K); v, o (B, T, H, V); states (B, H, K, V) fp32.
#include <algorithm>
#include <cstdint>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"

namespace hgrn::gla_cuda {
namespace {

constexpr int kWarps = 16;
constexpr int kThreads = kWarps * 32;
constexpr int kTT = 4;  // tokens staged per round

struct RecArgs {
    In q, k, v, dout;  // k.p == nullptr: fused k = 1 - exp(g)
    const float* g;
    const float* h0;   // may be null; may alias ht
    const float* dht;  // may be null
    Out o;
    float* ht;         // may be null
    // backward outputs
    float* dq_acc;     // (B, T, H, K) fp32: s S_t do_t summed over column tiles
    float* dk_acc;     // (B, T, H, K) fp32
    float* term_acc;   // (B, H, K) fp32: rowsum(S_T . dht)
    Out dv;
    float* dh0;        // may be null
    int T, H, K, V, Kp;  // Kp = rows padded to 16 * RPW
    float scale;
    bool atomic;       // several column tiles: add partial sums atomically
};

__device__ __forceinline__ int64_t tok(const RecArgs& a, int b, int t, int h) { return (int64_t(b) * a.T + t) * a.H + h; }

// Stages tokens [t0, t0 + nt) of (b, h): sq = s q (or raw q), sk = k, sf = exp(g), sv/sd = columns of v/dout.
__device__ void stage(const RecArgs& a, int b, int h, int c0, int VT, int t0, int nt, float qscale, float* sq,
                      float* sk, float* sf, float* sv, float* sd) {
    for (int idx = threadIdx.x; idx < nt * a.Kp; idx += kThreads) {
        const int tt = idx / a.Kp, j = idx - tt * a.Kp;
        float qq = 0, kk = 0, ff = 0;
        if (j < a.K) {
            const int64_t off = tok(a, b, t0 + tt, h) * a.K + j;
            const float gv = a.g[off];
            ff = expf(gv);
            kk = a.k.p ? ld(a.k, off) : -expm1f(gv);
            if (sq) qq = ld(a.q, off) * qscale;
        }
        if (sq) sq[idx] = qq;
        sk[idx] = kk;
        sf[idx] = ff;
    }
    for (int idx = threadIdx.x; idx < nt * VT; idx += kThreads) {
        const int tt = idx / VT, c = c0 + idx - tt * VT;
        const bool ok = c < a.V;
        const int64_t off = tok(a, b, t0 + tt, h) * a.V + c;
        if (sv) sv[idx] = ok ? ld(a.v, off) : 0.f;
        if (sd) sd[idx] = ok ? ld(a.dout, off) : 0.f;
    }
}

template <int RPW, int CPL>
__device__ void load_state(const float* src, const RecArgs& a, int b, int h, int c0, float (&S)[RPW][CPL]) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
#pragma unroll
    for (int r = 0; r < RPW; ++r)
#pragma unroll
        for (int i = 0; i < CPL; ++i) {
            const int j = w + kWarps * r, c = c0 + lane + 32 * i;
            S[r][i] = (src && j < a.K && c < a.V) ? src[((int64_t(b) * a.H + h) * a.K + j) * a.V + c] : 0.f;
        }
}
template <int RPW, int CPL>
__device__ void store_state(float* dst, const RecArgs& a, int b, int h, int c0, const float (&S)[RPW][CPL]) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
#pragma unroll
    for (int r = 0; r < RPW; ++r)
#pragma unroll
        for (int i = 0; i < CPL; ++i) {
            const int j = w + kWarps * r, c = c0 + lane + 32 * i;
            if (j < a.K && c < a.V) dst[((int64_t(b) * a.H + h) * a.K + j) * a.V + c] = S[r][i];
        }
}

// Sums red[tt][w][c] over w and stores column c of token t0 + tt into out.
__device__ void store_col_sums(const RecArgs& a, Out out, const float* red, int b, int h, int c0, int VT, int t0,
                               int nt) {
    for (int idx = threadIdx.x; idx < nt * VT; idx += kThreads) {
        const int tt = idx / VT, cc = idx - tt * VT, c = c0 + cc;
        float s = 0;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) s += red[(tt * kWarps + w) * VT + cc];
        if (c < a.V) st(out, tok(a, b, t0 + tt, h) * a.V + c, s);
    }
}

// Writes the per-row totals left by warp_reduce_transposed (row w + 16 r for r = lane >> (5 - log2 RPW)).
template <int RPW>
__device__ __forceinline__ void store_row_sum(float* dst, int64_t base, const RecArgs& a, float v) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    constexpr int L = log2_of<RPW>();
    const int r = lane >> (5 - L), j = w + kWarps * r;
    if ((lane & ((1 << (5 - L)) - 1)) == 0 && j < a.K) {
        if (a.atomic) atomicAdd(dst + base + j, v);
        else dst[base + j] = v;
    }
}

template <int RPW, int CPL>
__global__ void __launch_bounds__(kThreads, 1) gla_rec_fwd_kernel(RecArgs a) {
    constexpr int VT = 32 * CPL;
    const int c0 = blockIdx.x * VT, h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    extern __shared__ float sm[];
    float* sq = sm;
    float* sk = sq + kTT * a.Kp;
    float* sf = sk + kTT * a.Kp;
    float* sv = sf + kTT * a.Kp;
    float* red = sv + kTT * VT;  // [kTT][kWarps][VT]
    float S[RPW][CPL];
    load_state<RPW, CPL>(a.h0, a, b, h, c0, S);
    for (int t0 = 0; t0 < a.T; t0 += kTT) {
        const int nt = min(kTT, a.T - t0);
        stage(a, b, h, c0, VT, t0, nt, a.scale, sq, sk, sf, sv, nullptr);
        __syncthreads();
        for (int tt = 0; tt < nt; ++tt) {
            float acc[CPL] = {};
            float vv[CPL];
#pragma unroll
            for (int i = 0; i < CPL; ++i) vv[i] = sv[tt * VT + lane + 32 * i];
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const int j = tt * a.Kp + w + kWarps * r;
                const float f = sf[j], kk = sk[j], qq = sq[j];
#pragma unroll
                for (int i = 0; i < CPL; ++i) {
                    S[r][i] = fmaf(f, S[r][i], kk * vv[i]);
                    acc[i] = fmaf(S[r][i], qq, acc[i]);
                }
            }
#pragma unroll
            for (int i = 0; i < CPL; ++i) red[(tt * kWarps + w) * VT + lane + 32 * i] = acc[i];
        }
        __syncthreads();
        store_col_sums(a, a.o, red, b, h, c0, VT, t0, nt);
    }
    if (a.ht) store_state<RPW, CPL>(a.ht, a, b, h, c0, S);
}

template <int RPW, int CPL>
__global__ void __launch_bounds__(kThreads, 1) gla_rec_bwd_kernel(RecArgs a) {
    constexpr int VT = 32 * CPL;
    const int c0 = blockIdx.x * VT, h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    extern __shared__ float sm[];
    float* sq = sm;
    float* sk = sq + kTT * a.Kp;
    float* sf = sk + kTT * a.Kp;
    float* sv = sf + kTT * a.Kp;
    float* sd = sv + kTT * VT;
    float* red = sd + kTT * VT;  // [kTT][kWarps][VT]
    float S[RPW][CPL];
    // Sweep 1, forward in time: S_t and the partial dq_t = s S_t do_t over this tile's columns.
    load_state<RPW, CPL>(a.h0, a, b, h, c0, S);
    for (int t0 = 0; t0 < a.T; t0 += kTT) {
        const int nt = min(kTT, a.T - t0);
        stage(a, b, h, c0, VT, t0, nt, 1.f, nullptr, sk, sf, sv, sd);
        __syncthreads();
        for (int tt = 0; tt < nt; ++tt) {
            float vv[CPL], dd[CPL], p[RPW];
#pragma unroll
            for (int i = 0; i < CPL; ++i) {
                vv[i] = sv[tt * VT + lane + 32 * i];
                dd[i] = sd[tt * VT + lane + 32 * i];
            }
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const int j = tt * a.Kp + w + kWarps * r;
                const float f = sf[j], kk = sk[j];
                p[r] = 0;
#pragma unroll
                for (int i = 0; i < CPL; ++i) {
                    S[r][i] = fmaf(f, S[r][i], kk * vv[i]);
                    p[r] = fmaf(S[r][i], dd[i], p[r]);
                }
            }
            const float tot = warp_reduce_transposed<RPW>(p, lane);
            store_row_sum<RPW>(a.dq_acc, tok(a, b, t0 + tt, h) * a.K, a, tot * a.scale);
        }
        __syncthreads();
    }
    // dS_T = dht, and the dg term rowsum(S_T . dht).
    float dS[RPW][CPL];
    load_state<RPW, CPL>(a.dht, a, b, h, c0, dS);
    if (a.dht) {
        float p[RPW];
#pragma unroll
        for (int r = 0; r < RPW; ++r) {
            p[r] = 0;
#pragma unroll
            for (int i = 0; i < CPL; ++i) p[r] = fmaf(S[r][i], dS[r][i], p[r]);
        }
        const float tot = warp_reduce_transposed<RPW>(p, lane);
        store_row_sum<RPW>(a.term_acc, (int64_t(b) * a.H + h) * a.K, a, tot);
    }
    // Sweep 2, backward in time: dk_t, dv_t, then dS <- Diag(f_t) dS.
    const int nrounds = (a.T + kTT - 1) / kTT;
    for (int rd = nrounds - 1; rd >= 0; --rd) {
        const int t0 = rd * kTT, nt = min(kTT, a.T - t0);
        stage(a, b, h, c0, VT, t0, nt, a.scale, sq, sk, sf, sv, sd);
        __syncthreads();
        for (int tt = nt - 1; tt >= 0; --tt) {
            float vv[CPL], dd[CPL], p[RPW], pv[CPL] = {};
#pragma unroll
            for (int i = 0; i < CPL; ++i) {
                vv[i] = sv[tt * VT + lane + 32 * i];
                dd[i] = sd[tt * VT + lane + 32 * i];
            }
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const int j = tt * a.Kp + w + kWarps * r;
                const float f = sf[j], kk = sk[j], qq = sq[j];
                p[r] = 0;
#pragma unroll
                for (int i = 0; i < CPL; ++i) {
                    dS[r][i] = fmaf(qq, dd[i], dS[r][i]);
                    p[r] = fmaf(dS[r][i], vv[i], p[r]);
                    pv[i] = fmaf(dS[r][i], kk, pv[i]);
                    dS[r][i] *= f;
                }
            }
#pragma unroll
            for (int i = 0; i < CPL; ++i) red[(tt * kWarps + w) * VT + lane + 32 * i] = pv[i];
            const float tot = warp_reduce_transposed<RPW>(p, lane);
            store_row_sum<RPW>(a.dk_acc, tok(a, b, t0 + tt, h) * a.K, a, tot);
        }
        __syncthreads();
        store_col_sums(a, a.dv, red, b, h, c0, VT, t0, nt);
    }
    if (a.dh0) store_state<RPW, CPL>(a.dh0, a, b, h, c0, dS);
}

// One thread per (b, h, row j), backward in time: dq/dk from the fp32 accumulators, and
// dg_t = sum_{t' >= t} (q . dq - k . dk) + term (- exp(g) dk in the fused form). dq_acc may alias dg.
__global__ void gla_rec_dg_kernel(In q, In k, const float* __restrict__ g, const float* dq_acc,
                                  const float* __restrict__ dk_acc, const float* __restrict__ term, Out dq, Out dk,
                                  float* dg, int B, int T, int H, int K) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * H * K) return;
    const int j = int(id % K), h = int((id / K) % H), b = int(id / (int64_t(K) * H));
    float acc = term ? term[(int64_t(b) * H + h) * K + j] : 0.f;
    const float t_term = acc;
    acc = 0;
    for (int t = T - 1; t >= 0; --t) {
        const int64_t off = ((int64_t(b) * T + t) * H + h) * K + j;
        const float gv = g[off], dqv = dq_acc[off], dkv = dk_acc[off];
        const float kv = k.p ? ld(k, off) : -expm1f(gv);
        acc += ld(q, off) * dqv - kv * dkv;
        float dgv = acc + t_term;
        if (!k.p) dgv -= expf(gv) * dkv;
        st(dq, off, dqv);
        if (dk.p) st(dk, off, dkv);
        dg[off] = dgv;
    }
}

// The one-token step for K x V in {64 x 64, 128 x 128}: one block of 256 threads per (column slice, b, h),
// the V columns split into SPLIT slices of VB so that small batches still spread over many SMs (batch 1,
// H = 16: 16 blocks of the whole state took 7.1 us on the H100 for 2 MiB of state traffic). A thread owns a
// float4 column group of RPT rows, so the state moves as 16-byte vectors; all state loads are issued first.
// q, k, g, v: DIRECT (at most one block per SM, so the time is one block's latency): each thread reads its own
// rows of q, k, g and its columns of v, and the update waits on no barrier (batch 1, five runs: median
// 10.3 -> 10.0 us, about the run-to-run spread); otherwise the block loads them once into shared memory
// (fewer loads and exponentials per thread: DIRECT was 1-5% slower at batch 64 and 256). The same arithmetic
// either way. o: the row groups of a warp summed by shuffles, the warps through shared memory.
template <int KK, int VV, int SPLIT, bool DIRECT>
__global__ void __launch_bounds__(256) gla_step_kernel(RecArgs a) {
    constexpr int VB = VV / SPLIT, CG = VB / 4, RG = 256 / CG, RPT = KK / RG;
    static_assert(VB % 4 == 0 && RG * CG == 256 && RPT * RG == KK, "step kernel tiling");
    constexpr int KS = DIRECT ? 1 : KK, VS = DIRECT ? 1 : VB;  // (DIRECT: no shared copies)
    __shared__ float sq[KS], sk[KS], sf[KS], sv[VS], red[8][VB];
    const int sl = blockIdx.x, h = blockIdx.y, b = blockIdx.z, cg = threadIdx.x % CG, rg = threadIdx.x / CG;
    const int c0 = sl * VB;
    const int64_t sb = (int64_t(b) * a.H + h) * KK * VV + c0;
    float4 S[RPT];
#pragma unroll
    for (int r = 0; r < RPT; ++r)
        S[r] = a.h0 ? reinterpret_cast<const float4*>(a.h0 + sb + int64_t(rg + RG * r) * VV)[cg]
                    : make_float4(0, 0, 0, 0);
    const int64_t qb = (int64_t(b) * a.H + h) * KK, vb = (int64_t(b) * a.H + h) * VV + c0;
    float4 v4;
    float fr[RPT], kr[RPT], qr[RPT];  // row rg + RG r's decay, key, scaled query
    if constexpr (DIRECT) {
        float gr[RPT];
#pragma unroll
        for (int r = 0; r < RPT; ++r) {
            const int64_t j = qb + rg + RG * r;
            gr[r] = a.g[j], qr[r] = ld(a.q, j), kr[r] = a.k.p ? ld(a.k, j) : 0.f;
        }
        v4 = make_float4(ld(a.v, vb + 4 * cg), ld(a.v, vb + 4 * cg + 1), ld(a.v, vb + 4 * cg + 2),
                         ld(a.v, vb + 4 * cg + 3));
#pragma unroll
        for (int r = 0; r < RPT; ++r) {
            fr[r] = expf(gr[r]), qr[r] *= a.scale;
            if (!a.k.p) kr[r] = -expm1f(gr[r]);
        }
    } else {
        for (int j = threadIdx.x; j < KK; j += 256) {
            const float gv = a.g[qb + j];
            sq[j] = ld(a.q, qb + j) * a.scale;
            sk[j] = a.k.p ? ld(a.k, qb + j) : -expm1f(gv);
            sf[j] = expf(gv);
        }
        for (int c = threadIdx.x; c < VB; c += 256) sv[c] = ld(a.v, vb + c);
        __syncthreads();
        v4 = reinterpret_cast<const float4*>(sv)[cg];
#pragma unroll
        for (int r = 0; r < RPT; ++r) {
            const int j = rg + RG * r;
            fr[r] = sf[j], kr[r] = sk[j], qr[r] = sq[j];
        }
    }
    float4 acc = make_float4(0, 0, 0, 0);
#pragma unroll
    for (int r = 0; r < RPT; ++r) {
        const int j = rg + RG * r;
        const float f = fr[r], kk = kr[r], qq = qr[r];
        S[r].x = fmaf(f, S[r].x, kk * v4.x), S[r].y = fmaf(f, S[r].y, kk * v4.y);
        S[r].z = fmaf(f, S[r].z, kk * v4.z), S[r].w = fmaf(f, S[r].w, kk * v4.w);
        acc.x = fmaf(S[r].x, qq, acc.x), acc.y = fmaf(S[r].y, qq, acc.y);
        acc.z = fmaf(S[r].z, qq, acc.z), acc.w = fmaf(S[r].w, qq, acc.w);
        reinterpret_cast<float4*>(a.ht + sb + int64_t(j) * VV)[cg] = S[r];
    }
#pragma unroll
    for (int m = CG; m < 32; m *= 2) {  // the warp's row groups (lanes cg + CG i) into lane cg
        acc.x += __shfl_xor_sync(0xffffffffu, acc.x, m), acc.y += __shfl_xor_sync(0xffffffffu, acc.y, m);
        acc.z += __shfl_xor_sync(0xffffffffu, acc.z, m), acc.w += __shfl_xor_sync(0xffffffffu, acc.w, m);
    }
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31;  // lane < CG: cg == lane
    if (lane < CG) reinterpret_cast<float4*>(red[w])[cg] = acc;
    __syncthreads();
    for (int c = threadIdx.x; c < VB; c += 256) {
        float o = 0;
#pragma unroll
        for (int r = 0; r < 8; ++r) o += red[r][c];
        st(a.o, vb + c, o);
    }
}

int rows_per_warp(int64_t K) { return next_pow2((K + kWarps - 1) / kWarps); }
int cols_per_lane(int64_t V, int rpw) { return rpw >= 32 ? 2 : (V <= 32 ? 1 : V <= 64 ? 2 : 4); }

template <template <int, int> class Launch>
void dispatch(int rpw, int cpl, RecArgs& a, dim3 grid, size_t smem, cudaStream_t s) {
#define HGRN_REC_CASE(R, C) \
    if (rpw == R && cpl == C) return Launch<R, C>::run(a, grid, smem, s);
    HGRN_REC_CASE(1, 1) HGRN_REC_CASE(1, 2) HGRN_REC_CASE(1, 4)
    HGRN_REC_CASE(2, 1) HGRN_REC_CASE(2, 2) HGRN_REC_CASE(2, 4)
    HGRN_REC_CASE(4, 1) HGRN_REC_CASE(4, 2) HGRN_REC_CASE(4, 4)
    HGRN_REC_CASE(8, 1) HGRN_REC_CASE(8, 2) HGRN_REC_CASE(8, 4)
    HGRN_REC_CASE(16, 1) HGRN_REC_CASE(16, 2) HGRN_REC_CASE(16, 4)
    HGRN_REC_CASE(32, 2)
#undef HGRN_REC_CASE
    HGRN_FAIL("GLA (CUDA): no recurrent kernel for rows/warp ", rpw, ", cols/lane ", cpl);
}

template <int R, int C>
struct LaunchFwd {
    static void run(RecArgs& a, dim3 grid, size_t smem, cudaStream_t s) {
        if (smem > 48 * 1024)
            HGRN_CUDA_CHECK(cudaFuncSetAttribute(gla_rec_fwd_kernel<R, C>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                 int(smem)));
        gla_rec_fwd_kernel<R, C><<<grid, kThreads, smem, s>>>(a);
        HGRN_LAUNCH_CHECK();
    }
};
template <int R, int C>
struct LaunchBwd {
    static void run(RecArgs& a, dim3 grid, size_t smem, cudaStream_t s) {
        if (smem > 48 * 1024)
            HGRN_CUDA_CHECK(cudaFuncSetAttribute(gla_rec_bwd_kernel<R, C>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                 int(smem)));
        gla_rec_bwd_kernel<R, C><<<grid, kThreads, smem, s>>>(a);
        HGRN_LAUNCH_CHECK();
    }
};

RecArgs common_args(const GlaInputs& in, const GlaDims& d, float scale) {
    HGRN_CHECK(d.K <= kRecMaxK, "GLA (CUDA): head dim K = ", d.K, " exceeds the GPU limit of ", kRecMaxK);
    HGRN_CHECK(d.T < (int64_t(1) << 31) && d.V < (int64_t(1) << 31) && d.H < 65536 && d.B < 65536,
               "GLA (CUDA): sizes out of range");
    RecArgs a{};
    a.q = in_of(in.q, "q");
    a.k = in_of(in.k, "k");
    a.v = in_of(in.v, "v");
    a.g = f32_in(in.g, "g");
    a.h0 = f32_in(in.h0, "h0");
    a.T = int(d.T), a.H = int(d.H), a.K = int(d.K), a.V = int(d.V);
    a.Kp = kWarps * rows_per_warp(d.K);
    a.scale = scale;
    return a;
}

}  // namespace

void recurrent_forward(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out,
                       cudaStream_t stream) {
    RecArgs a = common_args(in, d, scale);
    a.o = out_of(out.o, "o");
    a.ht = f32_out(out.ht, "ht");
    const int rpw = rows_per_warp(d.K), cpl = cols_per_lane(d.V, rpw), VT = 32 * cpl;
    const dim3 grid(unsigned((d.V + VT - 1) / VT), unsigned(d.H), unsigned(d.B));
    const size_t smem = sizeof(float) * kTT * (3 * a.Kp + VT + kWarps * VT);
    dispatch<LaunchFwd>(rpw, cpl, a, grid, smem, stream);
}

void recurrent_backward(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                        const GlaGrads& grads, cudaStream_t stream) {
    RecArgs a = common_args(in, d, scale);
    a.dout = in_of(gout.dout, "dout");
    a.dht = f32_in(gout.dht, "dht");
    a.dv = out_of(grads.dv, "dv");
    a.dh0 = f32_out(grads.dh0, "dh0");
    float* dg = f32_out(grads.dg, "dg");
    const Out dq = out_of(grads.dq, "dq"), dk = out_of(grads.dk, "dk");
    const int rpw = rows_per_warp(d.K), cpl = cols_per_lane(d.V, rpw), VT = 32 * cpl;
    const dim3 grid(unsigned((d.V + VT - 1) / VT), unsigned(d.H), unsigned(d.B));
    a.atomic = grid.x > 1;
    // fp32 accumulators: dq in dg's buffer; dk in dk's when it is f32, else scratch; the term in scratch.
    const int64_t nqk = d.B * d.T * d.H * d.K, nterm = d.B * d.H * d.K;
    const bool dk_inplace = dk.p && !dk.bf16;
    const size_t scratch_n = size_t(nterm + (dk_inplace ? 0 : nqk));
    float* scratch = cuda_scratch_alloc<float>(scratch_n, stream);
    a.dq_acc = dg;
    a.term_acc = scratch;
    a.dk_acc = dk_inplace ? static_cast<float*>(dk.p) : scratch + nterm;
    HGRN_CUDA_CHECK(cudaMemsetAsync(scratch, 0, scratch_n * sizeof(float), stream));
    if (a.atomic) {
        HGRN_CUDA_CHECK(cudaMemsetAsync(a.dq_acc, 0, nqk * sizeof(float), stream));
        if (dk_inplace) HGRN_CUDA_CHECK(cudaMemsetAsync(a.dk_acc, 0, nqk * sizeof(float), stream));
    }
    const size_t smem = sizeof(float) * kTT * (3 * a.Kp + 2 * VT + kWarps * VT);
    dispatch<LaunchBwd>(rpw, cpl, a, grid, smem, stream);
    const int64_t nthreads = d.B * d.H * d.K;
    gla_rec_dg_kernel<<<unsigned((nthreads + 127) / 128), 128, 0, stream>>>(
        a.q, a.k, a.g, a.dq_acc, a.dk_acc, a.dht ? a.term_acc : nullptr, dq, dk, dg, int(d.B), int(d.T),
        int(d.H), int(d.K));
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

namespace {
// The step kernel for K = V = KK in SPLIT column slices: grid (SPLIT, H, B); DIRECT when the grid has at most
// one block per SM.
template <int KK, int SPLIT>
void step_launch(const RecArgs& a, const GlaDims& d) {
    const dim3 grid(unsigned(SPLIT), unsigned(d.H), unsigned(d.B));
    if constexpr (SPLIT > 1) {  // (whole states run from B x H = 256 blocks on: never one per SM)
        if (int64_t(SPLIT) * d.H * d.B <= sm_count()) {
            gla_step_kernel<KK, KK, SPLIT, true><<<grid, 256>>>(a);
            return;
        }
    }
    gla_step_kernel<KK, KK, SPLIT, false><<<grid, 256>>>(a);
}
}  // namespace

void launch_step(const GlaInputs& in, const GlaDims& d, float scale, const Tensor& o, const Tensor& state) {
    RecArgs a = common_args(in, d, scale);
    a.o = out_of(o, "o");
    a.ht = f32_out(state, "state");
    // Column slices: whole states from B x H = 256 on (measured 2.78 TB/s at B = 256, H = 16); below that,
    // 16-column slices so that a batch of one still covers 8 (K = 128) or 4 (K = 64) blocks per head.
    // (Slices at B = 16 and 64 were measured slower: 22.1-22.6 vs 19.6-20.6 us, 62.6 vs 55.1-56.2 us.)
    const bool whole = d.B * d.H >= 256;
    if (d.K == 128) whole ? step_launch<128, 1>(a, d) : step_launch<128, 128 / 16>(a, d);
    else whole ? step_launch<64, 1>(a, d) : step_launch<64, 64 / 16>(a, d);
    HGRN_LAUNCH_CHECK();
}

}  // namespace hgrn::gla_cuda

namespace hgrn {

void gla_recurrent_forward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out) {
    gla_cuda::recurrent_forward(in, d, scale, out, nullptr);
}

void gla_step_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
                   const Tensor& o, const GlaDims& d, float scale) {
    // One token: the recurrent forward at T = 1 with the state read and written in place.
    GlaInputs in;
    in.q = q.reshape({d.B, 1, d.H, d.K});
    in.k = k.empty() ? Tensor() : k.reshape({d.B, 1, d.H, d.K});
    in.v = v.reshape({d.B, 1, d.H, d.V});
    in.g = g.reshape({d.B, 1, d.H, d.K});
    in.h0 = state;
    const bool square = (d.K == 128 && d.V == 128) || (d.K == 64 && d.V == 64);
    const bool aligned = reinterpret_cast<uintptr_t>(state.data()) % 16 == 0;
    if (!square || !aligned || d.H >= 65536 || d.B >= 65536) {
        gla_cuda::recurrent_forward(in, d, scale, {o.reshape({d.B, 1, d.H, d.V}), state}, nullptr);
        return;
    }
    gla_cuda::launch_step(in, d, scale, o, state);
}

}  // namespace hgrn
