// gla_chunk_bwd.cu — chunkwise GLA backward on tensor cores (mma.sync TF32, sm_80 and later), fla's split
// (SPEC.md §4.2, docs/gla_math.md §5-§8) in two launches:
//   1. gla_bwd_states_kernel: the chunk states H_n (before chunk n, forward over the chunks) and the state
//      gradients D_n (after chunk n, backward over the chunks), both fp32, into scratch; dh0. One block of
//      4 or 8 warps per (32-row x 64- or 128-column state tile, sequence x head, direction): the two directions run side
//      by side, so T = 16384 with B = 1 still has 256 blocks. The decayed keys/queries are split into two
//      TF32 halves (v, dout are bf16, exact in TF32), so the states keep fp32 accuracy. With the forward's
//      chunk states given (GlaInputs::states) only the D direction runs. Few blocks and long T (the split
//      forward's H pass): segments of chunks in parallel from zero states, then the true segment starts
//      (gla_state_seg_starts_kernel) and a correction of every stored state (gla_state_seg_fix_kernel).
//   2. gla_bwd_chunk_kernel: one block of 16 warps (8 at K = 64) per (chunk, head, sequence), all chunks in
//      parallel. It
//      recomputes G and the intra scores A, then walks V in 64-column tiles (v, dout, H_n, D_n tile): dA,
//      dq^inter = s 2^G (dO H^T), dk^inter = 2^{Gamma-G} (v D^T), rowsum(H . D), and the dv tile
//      (A^T dO + k~ D), written at once; then dq^strict / dk^strict from dA, and dq, dk, dg with the
//      cancellation-free grouping of docs/gla_math.md §6.3 (diagonal terms kept out of dg):
//        dg_t = revcumsum(q (dq^inter + dq^strict) - k dk^strict)_t + excl. cumsum(k dk^inter)_t
//               + 2^Gamma rowsum(H_n . D_n)   [ - exp(g_t) dk_t in the fused form k = 1 - exp(g) ].
// Stability without clamping: as the forward (gla_chunk_fwd.cu), reference rows r_b at the start of each
// 16-row block give factors 2^{G - r_b} <= 1 and 2^{r_b - G} <= 2^100; a chunk whose blocks span more than
// 2^100 (log f below about -4.3 per step) takes exact elementwise paths (every exponent G_t - G_u <= 0).
// Precision: everything that feeds dg (fp32 output) is fp32-accurate: products with an fp32 operand on both
// sides use three TF32 products (hi hi + hi lo + lo hi), with one bf16 side two; dv (bf16 output) and A use
// one TF32 product. Covered: bf16 q/k/v/dout/dq/dk/dv, fp32 g/dg/states, K in {64, 128, 256}, V % 64 == 0.
// K = 256: the state pass runs as is (K/32 row tiles); the per-chunk kernel runs the K = 128 instance on the
// two 128-column halves (A, dv, dq^strict, ... are sums or column slices over K): dq, dk, dg of each half
// are exact slices, dv is the sum of the halves' fp32 partials (summed into bf16 by a last small kernel).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"
#include "gla/cuda/gla_mma.cuh"

namespace hgrn::gla_cuda {
namespace {

using mma::warp_mma;
constexpr int kC = 64;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kMaxSpan = 100.f;

__device__ __forceinline__ void unpack8(const uint4& u, float* dst) {
    const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const float2 f = __bfloat1622float2(p[e]);
        dst[2 * e] = f.x, dst[2 * e + 1] = f.y;
    }
}

// ---------------------------------------------------------------------------------------------------------
// 1. States H_n and state gradients D_n.
// Tiles of kSR state rows x SC columns, SC = 128 where V allows (g and the keys / queries are then read once
// per head instead of V / 64 times), else 64; 2 SC threads (warp w: rows 16 (w & 1).., columns 32 (w >> 1)..).
constexpr int kSR = 32, kSLX = 40;

struct StateArgs {
    const __nv_bfloat16 *q, *k, *v, *dout;  // k null: fused 1 - exp(g)
    const float *g, *h0, *dht;              // h0, dht may be null
    float *hbuf, *dbuf, *dh0;               // dh0 may be null
    float* ht;                              // final state (H direction; may be null)
    int T, H, K, V, N;
    float scale;
    int dir0;  // direction of blockIdx.z = 0: 0 (H, then D at z = 1) or 1 (D only: the H_n were saved)
    // Segments (few heads, long T; see run_state_pass): blockIdx.z = direction * S + segment, each segment NS
    // chunks in its direction's order, started from zero (segment 0 from h0 / dht); its end state goes to ebuf
    // (ndir, B H, S, K, V); gbuf holds each chunk's Gamma (log2, (B H, N, K), gla_chunk_gamma_kernel); S = 1:
    // none of this.
    int S = 1, NS = 0;
    float *ebuf = nullptr, *gbuf = nullptr;
    int B_H = 0;  // B H (the grid's y)
};

template <int SC>
__global__ void __launch_bounds__(2 * SC) gla_bwd_states_kernel(StateArgs a) {
    constexpr int kSC = SC, kSThreads = 2 * SC, kSLY = SC + 8, P = kSThreads / kSR, R = kC / P;
    // Dynamic shared memory (56 KB at SC = 128, beyond the 48 KB a kernel may declare statically):
    extern __shared__ __align__(16) float state_smem[];
    float* X = state_smem;         // kC x kSLX: k (H) or q (D), then the decayed x~
    float* Gs = X + kC * kSLX;     // kC x kSLX: cumsum of g (log2 units)
    float* Y = Gs + kC * kSLX;     // kC x kSLY: v (H) or dout (D)
    __shared__ float dec[kSR], part[P][kSR];
    const int dir = blockIdx.z / a.S, seg = blockIdx.z % a.S;
    const bool dmode = dir + a.dir0 == 1;
    const int it0 = a.S > 1 ? seg * a.NS : 0, it1 = a.S > 1 ? min(a.N, it0 + a.NS) : a.N;  // processing steps
    const int nct = a.V / kSC;
    const int c0 = (blockIdx.x % nct) * kSC, r0 = (blockIdx.x / nct) * kSR;
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int tid = threadIdx.x, w = tid >> 5, lane = tid & 31, gr = lane >> 2, tg = lane & 3;
    const int wr = 16 * (w & 1), wc = 32 * (w >> 1);  // warp tile: rows wr.., columns wc.. of the 32 x SC tile
    const __nv_bfloat16* xp = dmode ? a.q : a.k;
    const __nv_bfloat16* yp = dmode ? a.dout : a.v;
    const float* init = dmode ? a.dht : a.h0;
    float* buf = dmode ? a.dbuf : a.hbuf;
    const int64_t sbase = int64_t(bh) * a.K * a.V;
    float S[4][4];
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int j = r0 + wr + gr + 8 * (e >> 1), c = c0 + wc + 8 * n + 2 * tg + (e & 1);
            S[n][e] = (init && seg == 0) ? init[sbase + int64_t(j) * a.V + c] : 0.f;
        }
    auto row = [&](int t) { return (int64_t(b) * a.T + t) * a.H + h; };
    constexpr int NX = kC * kSR / 8 / kSThreads, NG = kC * kSR / 4 / kSThreads, NY = kC * kSC / 8 / kSThreads;
    uint4 rx[NX], ry[NY];
    float4 rg[NG];
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    auto issue = [&](int n) {
        const int t0 = n * kC;
#pragma unroll
        for (int i = 0; i < NX; ++i) {
            const int idx = tid + kSThreads * i, t = idx / 4, j = 8 * (idx % 4), tt = t0 + t;
            rx[i] = (tt < a.T && xp) ? __ldg(reinterpret_cast<const uint4*>(xp + row(tt) * a.K + r0 + j)) : z4;
        }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + kSThreads * i, t = idx / 8, j = 4 * (idx % 8), tt = t0 + t;
            rg[i] = tt < a.T ? __ldg(reinterpret_cast<const float4*>(a.g + row(tt) * a.K + r0 + j))
                             : make_float4(0, 0, 0, 0);
        }
#pragma unroll
        for (int i = 0; i < NY; ++i) {
            const int idx = tid + kSThreads * i, t = idx / (kSC / 8), c = 8 * (idx % (kSC / 8)), tt = t0 + t;
            ry[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(yp + row(tt) * a.V + c0 + c)) : z4;
        }
    };
    issue(dmode ? a.N - 1 - it0 : it0);
    for (int it = it0; it < it1; ++it) {
        const int n = dmode ? a.N - 1 - it : it;
#pragma unroll
        for (int i = 0; i < NX; ++i) {
            const int idx = tid + kSThreads * i, t = idx / 4, j = 8 * (idx % 4);
            if (xp) unpack8(rx[i], X + t * kSLX + j);
        }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + kSThreads * i, t = idx / 8, j = 4 * (idx % 8);
            const float gv[4] = {rg[i].x, rg[i].y, rg[i].z, rg[i].w};
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                Gs[t * kSLX + j + e] = gv[e] * kLog2e;
                if (!xp) X[t * kSLX + j + e] = one_minus_exp(gv[e]);
            }
        }
#pragma unroll
        for (int i = 0; i < NY; ++i) {
            const int idx = tid + kSThreads * i, t = idx / (kSC / 8), c = 8 * (idx % (kSC / 8));
            unpack8(ry[i], Y + t * kSLY + c);
        }
        if (it + 1 < it1) issue(dmode ? n - 1 : n + 1);  // next chunk's loads overlap this chunk's work
        __syncthreads();
        {  // inclusive cumsum G over the 64 rows (32 columns x P parts of R rows, kept in registers), then
           // x~ = s q 2^G (D) or k 2^{Gamma - G} (H) in place; Gamma = G_63 = the sum of the part totals
            const int j = tid % kSR, p = tid / kSR;
            float x[R];
#pragma unroll
            for (int i = 0; i < R; ++i) x[i] = Gs[(R * p + i) * kSLX + j];
#pragma unroll
            for (int i = 1; i < R; ++i) x[i] += x[i - 1];
            part[p][j] = x[R - 1];
            __syncthreads();
            float off = 0, gam = 0;
#pragma unroll
            for (int pp = 0; pp < P; ++pp) {
                const float c = part[pp][j];
                if (pp < p) off += c;
                gam += c;
            }
#pragma unroll
            for (int i = 0; i < R; ++i) {
                const float G = x[i] + off;
                X[(R * p + i) * kSLX + j] *= dmode ? a.scale * exp2f(G) : exp2f(gam - G);
            }
            if (p == 0) dec[j] = exp2f(gam);
        }
        __syncthreads();
        float* dst = buf + (int64_t(bh) * a.N + n) * a.K * a.V;
#pragma unroll
        for (int nn = 0; nn < 4; ++nn)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const int j = r0 + wr + gr + 8 * (e >> 1), c = c0 + wc + 8 * nn + 2 * tg;
                *reinterpret_cast<float2*>(dst + int64_t(j) * a.V + c) = make_float2(S[nn][e], S[nn][e + 1]);
            }
        const float d0 = dec[wr + gr], d1 = dec[wr + gr + 8];
#pragma unroll
        for (int nn = 0; nn < 4; ++nn) S[nn][0] *= d0, S[nn][1] *= d0, S[nn][2] *= d1, S[nn][3] *= d1;
        // S += x~^T y: A(j, t) = x~[t][j] (split), B(t, c) = y[t][c] (bf16, exact).
        warp_mma<mma::kExactB, 4>(
            S, 0, kC, [&](int r, int k) { return X[k * kSLX + wr + r]; },
            [&](int k, int c) { return Y[k * kSLY + wc + c]; });
        __syncthreads();
    }
    // The final state (S = 1), or this segment's end state (fixed up by gla_state_seg_starts_kernel).
    float* fin = a.S > 1 ? a.ebuf + ((int64_t(dir) * gridDim.y + bh) * a.S + seg) * a.K * a.V
                         : (dmode ? a.dh0 : a.ht);
    if (fin) {
        if (a.S == 1) fin += sbase;
#pragma unroll
        for (int nn = 0; nn < 4; ++nn)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int j = r0 + wr + gr + 8 * (e >> 1), c = c0 + wc + 8 * nn + 2 * tg + (e & 1);
                fin[int64_t(j) * a.V + c] = S[nn][e];
            }
    }
}

// Segments: each chunk's Gamma_n = sum of its g (log2 units), (B H, N, K); one block per (chunk, b h).
__global__ void gla_chunk_gamma_kernel(StateArgs a) {
    const int n = blockIdx.x, bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    for (int j = threadIdx.x; j < a.K; j += blockDim.x) {
        float acc = 0;
        for (int t = n * kC; t < min(a.T, (n + 1) * kC); ++t) acc += a.g[((int64_t(b) * a.T + t) * a.H + h) * a.K + j] * kLog2e;
        a.gbuf[(int64_t(bh) * a.N + n) * a.K + j] = acc;
    }
}

// Segments, pass 2 (one block per state row j, sequence x head, direction): the true state at each segment
// start, X_1 = E_0 (segment 0 started from h0 / dht), X_{s+1} = E_s + Diag(2^{Lambda_s}) X_s with Lambda_s
// the sum of the segment's chunk Gammas, written over E_s (slot s); X_S is the final state (ht or dh0).
__global__ void gla_state_seg_starts_kernel(StateArgs a) {
    __shared__ float lam[64];
    const int j = blockIdx.x, bh = blockIdx.y, dir = blockIdx.z;
    const bool dmode = dir + a.dir0 == 1;
    for (int sg = threadIdx.x; sg < a.S; sg += blockDim.x) {
        float acc = 0;
        for (int it = sg * a.NS; it < min(a.N, (sg + 1) * a.NS); ++it) {
            const int n = dmode ? a.N - 1 - it : it;
            acc += a.gbuf[(int64_t(bh) * a.N + n) * a.K + j];
        }
        lam[sg] = acc;
    }
    __syncthreads();
    float* e = a.ebuf + (int64_t(dir) * gridDim.y + bh) * a.S * a.K * a.V + int64_t(j) * a.V;
    float* fin = dmode ? a.dh0 : a.ht;
    for (int c = threadIdx.x; c < a.V; c += blockDim.x) {
        float x = e[c];
        for (int sg = 1; sg < a.S; ++sg) {
            const float es = e[int64_t(sg) * a.K * a.V + c];
            e[int64_t(sg) * a.K * a.V + c] = x;
            x = es + exp2f(lam[sg]) * x;
        }
        if (fin) fin[(int64_t(bh) * a.K + j) * a.V + c] = x;
    }
}

// Segments, pass 3 (one block per processing step it in segments >= 1, sequence x head, direction): the
// stored state of step it gets Diag(2^{sum of the Gammas of the segment's earlier steps}) X_s added.
__global__ void gla_state_seg_fix_kernel(StateArgs a) {
    extern __shared__ float pre[];  // K
    const int it = a.NS + blockIdx.x, bh = blockIdx.y, dir = blockIdx.z;
    const bool dmode = dir + a.dir0 == 1;
    const int sg = it / a.NS, n = dmode ? a.N - 1 - it : it;
    for (int j = threadIdx.x; j < a.K; j += blockDim.x) {
        float acc = 0;
        for (int m = sg * a.NS; m < it; ++m) acc += a.gbuf[(int64_t(bh) * a.N + (dmode ? a.N - 1 - m : m)) * a.K + j];
        pre[j] = exp2f(acc);
    }
    __syncthreads();
    const float* x = a.ebuf + ((int64_t(dir) * gridDim.y + bh) * a.S + sg) * a.K * a.V;
    float* dst = (dmode ? a.dbuf : a.hbuf) + (int64_t(bh) * a.N + n) * a.K * a.V;
    for (int i = 4 * threadIdx.x; i < a.K * a.V; i += 4 * blockDim.x) {
        const float d = pre[i / a.V];
        float4 h = *reinterpret_cast<float4*>(dst + i);
        const float4 xv = *reinterpret_cast<const float4*>(x + i);
        h.x += d * xv.x, h.y += d * xv.y, h.z += d * xv.z, h.w += d * xv.w;
        *reinterpret_cast<float4*>(dst + i) = h;
    }
}

template <int SC>
void launch_states(const StateArgs& a, dim3 grid, cudaStream_t stream) {
    const size_t smem = sizeof(float) * kC * (2 * kSLX + SC + 8);
    static bool configured = false;  // one attribute call per instance (same value every time)
    if (!configured) {
        HGRN_CUDA_CHECK(cudaFuncSetAttribute(gla_bwd_states_kernel<SC>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    gla_bwd_states_kernel<SC><<<grid, 2 * SC, smem, stream>>>(a);
}

// The state pass for ndir directions (from a.dir0): split into segments when its blocks would leave most of
// the GPU idle (B H small, T long), so that the serial chain per block is NS chunks instead of N.
void run_state_pass(StateArgs a, int ndir, cudaStream_t stream) {
    int dev = 0, sms = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    // 128-column tiles while they still give >= 4 blocks per SM. Measured (H100, same machine, two rounds):
    // 8,2048,16,128 state pass 790 -> 722 us (ncu, both directions; fwd+bwd within noise in events); at
    // 1,16384,16,128 the 64-column tiles win (fwd 1.03 vs 1.08 ms, fwd+bwd 3.14 vs 3.20).
    int sc = a.V % 128 == 0 && int64_t(a.K / kSR) * (a.V / 128) * a.B_H * ndir >= 4 * int64_t(sms) ? 128 : 64;
    if (const char* e = std::getenv("HGRN_GLA_STATE_TILE")) sc = std::atoi(e) == 64 || a.V % 128 != 0 ? 64 : 128;  // tests
    const int tiles = (a.K / kSR) * (a.V / sc), bh = a.B_H;
    const int64_t blocks = int64_t(tiles) * bh * ndir;
    // Segments of at least 16 chunks, as many as keep about 4 blocks per SM (at most 64) — for the forward's
    // H pass only: measured on the H100 at 1 x 16384 x 16 x 128, the split forward 1.10 -> 1.01 ms (S = 4),
    // while the backward's passes (H and D, or D alone) gained nothing or lost (3.21 -> 3.29 ms at S = 2,
    // 3.46 at S = 4: the correction pass re-reads and re-writes the states).
    int S = ndir == 1 && a.dir0 == 0 ? int(std::min<int64_t>({64, std::max<int64_t>(1, 4 * sms / blocks), a.N / 16})) : 1;
    if (const char* e = std::getenv("HGRN_GLA_STATE_SEGMENTS")) S = std::max(1, std::atoi(e));  // tests
    S = std::max(1, std::min(S, a.N));
    a.S = S, a.NS = (a.N + S - 1) / S;
    S = a.S = (a.N + a.NS - 1) / a.NS;  // no empty segment
    float* scratch = nullptr;
    if (a.S > 1) {
        const size_t ne = size_t(ndir) * bh * a.S * a.K * a.V, ng = size_t(bh) * a.N * a.K;
        scratch = scratch_alloc<float>(ne + ng, stream);
        a.ebuf = scratch, a.gbuf = scratch + ne;
    }
    const dim3 grid(unsigned(tiles), unsigned(bh), unsigned(ndir * a.S));
    if (sc == 128) launch_states<128>(a, grid, stream);
    else launch_states<64>(a, grid, stream);
    HGRN_LAUNCH_CHECK();
    if (a.S > 1) {
        gla_chunk_gamma_kernel<<<dim3(unsigned(a.N), unsigned(bh)), 128, 0, stream>>>(a);
        HGRN_LAUNCH_CHECK();
        gla_state_seg_starts_kernel<<<dim3(unsigned(a.K), unsigned(bh), unsigned(ndir)), 128, 0, stream>>>(a);
        HGRN_LAUNCH_CHECK();
        gla_state_seg_fix_kernel<<<dim3(unsigned(a.N - a.NS), unsigned(bh), unsigned(ndir)), 256, a.K * sizeof(float), stream>>>(a);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(scratch, stream));
    }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Per-chunk gradients.
// Warps per block: 16 at K >= 128 (two per scheduler was too few to hide the latencies of this long,
// barrier-separated kernel; 16 halve each warp's accumulators, so 128 registers suffice), 8 at K = 64 (its
// dq/dk strips would be narrower than one 8-column MMA tile).
template <int K>
constexpr int warps_of = K >= 128 ? 16 : 8;

struct BwdArgs {
    const __nv_bfloat16 *q, *k, *v, *dout;  // k null: fused
    const float *g, *hbuf, *dbuf;
    __nv_bfloat16 *dq, *dk, *dv;            // dk may be null
    float* dg;
    float* dv32;  // K = 256 (two 128-halves): this half's fp32 partial of dv instead of dv (summed afterwards)
    int T, H, V, N;
    float scale;
};

template <int K>
struct BSmem {
    static constexpr int LQ = K + 4, LT = kC + 4;
    float G[kC * LQ];    // cumsum of g (log2 units)
    float Q[kC * LQ];    // q^ = q 2^{G - r_b} (raw q in wide chunks)
    float Kh[kC * LQ];   // k^ = k 2^{r_b - G} (raw k in wide chunks)
    float A[kC * LT];    // cumsum part totals; s-scaled scores, then dA (strictly lower; the diagonal in dAd); dg part sums
    float Vt[kC * LT];   // v tile; with dOt: W (kC x LQ) in the epilogue
    float dOt[kC * LT];  // dout tile
    float Ht[K * LT];    // H_n tile; X (kC x LQ) in the epilogue
    float Dt[K * LT];    // D_n tile; Y (kC x LQ) in the epilogue
    float ck[4][K];      // 2^{Gamma - r_b}
    float cib[6][K];     // 2^{r_i - r_b}, b < i
    float R[K];          // rowsum(H_n . D_n)
    float dAd[kC];       // dA[t][t]
    static_assert(kC * LQ <= K * LT && kC * LQ <= 2 * kC * LT, "epilogue buffers must fit");
    static_assert(2 * 32 * warps_of<K> <= kC * LT, "cumsum / dg part sums in A");
};
__device__ __forceinline__ int pair_index(int i, int b) { return i * (i - 1) / 2 + b; }

__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
    const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src));
}
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;\n" ::: "memory"); }

// The K x 64 tiles (columns c0..) of H_n and D_n into Ht, Dt (asynchronous; cp_async_wait_all before use).
template <int K>
__device__ __forceinline__ void issue_state_tiles(float* Ht, float* Dt, const float* hp, const float* dp, int V) {
    constexpr int LT = kC + 4;
#pragma unroll
    for (int i = 0; i < K * 16 / (32 * warps_of<K>); ++i) {
        const int idx = threadIdx.x + i * 32 * warps_of<K>, j = idx / 16, c = 4 * (idx % 16);
        cp_async16(Ht + j * LT + c, hp + int64_t(j) * V + c);
        cp_async16(Dt + j * LT + c, dp + int64_t(j) * V + c);
    }
}

template <int K, int KS>
__global__ void __launch_bounds__(32 * warps_of<K>, 1) gla_bwd_chunk_kernel(BwdArgs a) {
    using S = BSmem<K>;
    // NCH column groups of warps: a V tile's 64 columns in CV-column strips (NV8 MMA tiles), the strict
    // terms' K columns in KH-column strips (NT tiles); dq^inter / dk^inter: KW columns a warp (NS2 tiles).
    constexpr int NW = warps_of<K>, kThreads = 32 * NW, NCH = NW / 4, CV = 64 / NCH, NV8 = CV / 8;
    constexpr int LQ = S::LQ, LT = S::LT, KH = K / NCH, NT = KH / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    constexpr int nh = KS / K;
    const int kh = blockIdx.z % nh;  // K half (K = 256: blockIdx.z = 2 b + half)
    const int n = blockIdx.x, h = blockIdx.y, b = blockIdx.z / nh, t0 = n * kC;
    if (KS > K && kh > 0) {  // this half's columns of q, k, g, dq, dk, dg and rows of the states; dv's second partial
        a.q += kh * K, a.g += kh * K, a.dq += kh * K, a.dg += kh * K;
        if (a.k) a.k += kh * K;
        if (a.dk) a.dk += kh * K;
        a.hbuf += int64_t(kh) * K * a.V, a.dbuf += int64_t(kh) * K * a.V;
        a.dv32 += int64_t(kh) * (gridDim.z / nh) * a.T * a.H * a.V;
    }
    const int tid = threadIdx.x, w = tid >> 5, lane = tid & 31, gr = lane >> 2, tg = lane & 3;
    const int rb = w & 3, ch = w >> 2;  // warp tile: rows 16 rb.., column group ch
    const bool fused = a.k == nullptr;
    auto row = [&](int t) { return (int64_t(b) * a.T + t) * a.H + h; };
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    const int64_t hbase = (int64_t(b) * a.H + h) * a.N + n;
    // The first V tile of H_n and D_n streams in while the chunk's scores are formed (Ht, Dt are free).
    issue_state_tiles<K>(s.Ht, s.Dt, a.hbuf + hbase * KS * a.V, a.dbuf + hbase * KS * a.V, a.V);

    // q, k, G of the chunk.
    {
        constexpr int NQ = kC * K / 8 / kThreads, NG = kC * K / 4 / kThreads;
        uint4 rq[NQ], rk[NQ];
        float4 rg[NG];
#pragma unroll
        for (int i = 0; i < NQ; ++i) {
            const int idx = tid + i * kThreads, t = idx / (K / 8), j = 8 * (idx % (K / 8)), tt = t0 + t;
            rq[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.q + row(tt) * KS + j)) : z4;
            rk[i] = (tt < a.T && !fused) ? __ldg(reinterpret_cast<const uint4*>(a.k + row(tt) * KS + j)) : z4;
        }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + i * kThreads, t = idx / (K / 4), j = 4 * (idx % (K / 4)), tt = t0 + t;
            rg[i] = tt < a.T ? __ldg(reinterpret_cast<const float4*>(a.g + row(tt) * KS + j)) : make_float4(0, 0, 0, 0);
        }
#pragma unroll
        for (int i = 0; i < NQ; ++i) {
            const int idx = tid + i * kThreads, t = idx / (K / 8), j = 8 * (idx % (K / 8));
            unpack8(rq[i], s.Q + t * LQ + j);
            if (!fused) unpack8(rk[i], s.Kh + t * LQ + j);
        }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + i * kThreads, t = idx / (K / 4), j = 4 * (idx % (K / 4));
            const float gv[4] = {rg[i].x, rg[i].y, rg[i].z, rg[i].w};
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s.G[t * LQ + j + e] = gv[e] * kLog2e;
                if (fused) s.Kh[t * LQ + j + e] = one_minus_exp(gv[e]);
            }
        }
    }
    __syncthreads();
    {  // inclusive cumsum of G over the 64 rows, per column; P parts of R rows, each scanned in registers
        constexpr int P = kThreads / K, R = kC / P;
        const int j = tid % K, p = tid / K;
        float x[R];
#pragma unroll
        for (int i = 0; i < R; ++i) x[i] = s.G[(p * R + i) * LQ + j];
#pragma unroll
        for (int i = 1; i < R; ++i) x[i] += x[i - 1];
        s.A[p * K + j] = x[R - 1];
        __syncthreads();
        float off = 0;
        for (int pp = 0; pp < p; ++pp) off += s.A[pp * K + j];
#pragma unroll
        for (int i = 0; i < R; ++i) s.G[(p * R + i) * LQ + j] = x[i] + off;
        __syncthreads();
    }
    bool wide_local = false;
    for (int idx = tid; idx < 4 * K; idx += kThreads) {
        const int bb = idx / K, j = idx % K;
        wide_local |= s.G[16 * bb * LQ + j] - s.G[(16 * bb + 15) * LQ + j] > kMaxSpan;
    }
    const bool wide = __syncthreads_or(wide_local);
    // Intra scores A (s included, zero for u > t).
    if (wide) {
        for (int idx = tid; idx < kC * kC; idx += kThreads) {
            const int t = idx / kC, u = idx % kC;
            float acc = 0;
            if (u <= t)
                #pragma unroll 1
                for (int j = 0; j < K; ++j)
                    acc += s.Q[t * LQ + j] * s.Kh[u * LQ + j] * exp2f(s.G[t * LQ + j] - s.G[u * LQ + j]);
            s.A[t * LT + u] = acc * a.scale;
        }
    } else {
        for (int idx = tid; idx < kC * K; idx += kThreads) {
            const int t = idx / K, j = idx % K, r = (t / 16) * 16;
            const float G = s.G[t * LQ + j], Gr = s.G[r * LQ + j];
            s.Q[t * LQ + j] *= exp2f(G - Gr);
            s.Kh[t * LQ + j] *= exp2f(Gr - G);
        }
        for (int j = tid; j < K; j += kThreads) {
            const float Gam = s.G[(kC - 1) * LQ + j];
            float r[4];
#pragma unroll
            for (int bb = 0; bb < 4; ++bb) r[bb] = s.G[16 * bb * LQ + j];
#pragma unroll
            for (int bb = 0; bb < 4; ++bb) s.ck[bb][j] = exp2f(Gam - r[bb]);
#pragma unroll
            for (int i = 1; i < 4; ++i)
#pragma unroll
                for (int bb = 0; bb < i; ++bb) s.cib[pair_index(i, bb)][j] = exp2f(r[i] - r[bb]);
        }
        __syncthreads();
        for (int p = w; p < 10; p += NW) {
            int i = 0;
            while ((i + 1) * (i + 2) / 2 <= p) ++i;
            const int bb = p - i * (i + 1) / 2;  // bb <= i
            const float* cs = bb < i ? s.cib[pair_index(i, bb)] : nullptr;
            float acc[2][4] = {};
            warp_mma<mma::kTF32, 2>(
                acc, 0, K, [&](int r, int k) { return s.Q[(16 * i + r) * LQ + k] * (cs ? cs[k] : 1.f); },
                [&](int k, int c) { return s.Kh[(16 * bb + c) * LQ + k]; });
#pragma unroll
            for (int nn = 0; nn < 2; ++nn)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int t = 16 * i + gr + 8 * (e >> 1), u = 16 * bb + 8 * nn + 2 * tg + (e & 1);
                    s.A[t * LT + u] = u <= t ? acc[nn][e] * a.scale : 0.f;
                }
        }
        for (int idx = tid; idx < kC * kC; idx += kThreads) {
            const int t = idx / kC, u = idx % kC;
            if (u / 16 > t / 16) s.A[t * LT + u] = 0.f;
        }
    }
    for (int j = tid; j < K; j += kThreads) s.R[j] = 0.f;
    __syncthreads();

    // V tiles: dA, dq^inter, dk^inter, rowsum(H . D), dv.
    // dq^inter / dk^inter: warp w owns columns w * KW .. (all 64 rows), so each state element is split once.
    constexpr int KW = K / NW, NS2 = KW / 8, NVL = 64 * 64 / 8 / kThreads;
    float dqI[4][NS2][4] = {}, dkI[4][NS2][4] = {}, dA[NV8][4] = {};
    for (int c0 = 0; c0 < a.V; c0 += 64) {
        {
            if (c0 > 0) issue_state_tiles<K>(s.Ht, s.Dt, a.hbuf + hbase * KS * a.V + c0, a.dbuf + hbase * KS * a.V + c0, a.V);
            uint4 rv[NVL], rd[NVL];
#pragma unroll
            for (int i = 0; i < NVL; ++i) {
                const int idx = tid + i * kThreads, t = idx / 8, c = 8 * (idx % 8), tt = t0 + t;
                rv[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.v + row(tt) * a.V + c0 + c)) : z4;
                rd[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.dout + row(tt) * a.V + c0 + c)) : z4;
            }
#pragma unroll
            for (int i = 0; i < NVL; ++i) {
                const int idx = tid + i * kThreads, t = idx / 8, c = 8 * (idx % 8);
                unpack8(rv[i], s.Vt + t * LT + c);
                unpack8(rd[i], s.dOt + t * LT + c);
            }
            cp_async_wait_all();
        }
        __syncthreads();
        // dA[t][u] (unscaled) = <dO_t, v_u>: rows 16 rb, columns CV ch (none above the diagonal blocks).
        if (CV * ch <= 16 * rb + 15)
            warp_mma<mma::kExactAB, NV8>(  // dout and v are bf16: exact in TF32
                dA, 0, 64, [&](int r, int k) { return s.dOt[(16 * rb + r) * LT + k]; },
                [&](int k, int c) { return s.Vt[(CV * ch + c) * LT + k]; });
        // dq^inter (without s 2^G) = dO H^T and dk^inter (without 2^{Gamma-G}) = v D^T: bf16 A, split B.
        mma::warp_mma_strip<4, NS2>(
            dqI, 0, 64, [&](int r, int k) { return s.dOt[r * LT + k]; },
            [&](int k, int c) { return s.Ht[(w * KW + c) * LT + k]; });
        mma::warp_mma_strip<4, NS2>(
            dkI, 0, 64, [&](int r, int k) { return s.Vt[r * LT + k]; },
            [&](int k, int c) { return s.Dt[(w * KW + c) * LT + k]; });
        {
            constexpr int P = kThreads / K, CW = 64 / P;
            const int j = tid % K, p = tid / K;
            float acc = 0;
            for (int c = p * CW; c < (p + 1) * CW; ++c) acc += s.Ht[j * LT + c] * s.Dt[j * LT + c];
            atomicAdd(&s.R[j], acc);
        }
        // dv tile: rows u in 16 rb.., columns CV ch..: sum_{t >= u} A[t][u] dO_t + k~_u D.
        float dv[NV8][4] = {};
        warp_mma<mma::kTF32xB, NV8>(
            dv, 16 * rb, 64, [&](int r, int k) { return s.A[k * LT + 16 * rb + r]; },
            [&](int k, int c) { return s.dOt[k * LT + CV * ch + c]; });
        warp_mma<mma::kTF32, NV8>(
            dv, 0, K,
            [&](int r, int k) {
                const int u = 16 * rb + r;
                return wide ? s.Kh[u * LQ + k] * exp2f(s.G[(kC - 1) * LQ + k] - s.G[u * LQ + k])
                            : s.Kh[u * LQ + k] * s.ck[rb][k];
            },
            [&](int k, int c) { return s.Dt[k * LT + CV * ch + c]; });
#pragma unroll
        for (int nn = 0; nn < NV8; ++nn)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const int t = t0 + 16 * rb + gr + 8 * (e >> 1), c = c0 + CV * ch + 8 * nn + 2 * tg;
                if (t < a.T) {
                    if constexpr (KS > K)
                        *reinterpret_cast<float2*>(a.dv32 + row(t) * a.V + c) = make_float2(dv[nn][e], dv[nn][e + 1]);
                    else
                        *reinterpret_cast<__nv_bfloat162*>(a.dv + row(t) * a.V + c) =
                            __floats2bfloat162_rn(dv[nn][e], dv[nn][e + 1]);
                }
            }
        __syncthreads();
    }
    // dq^inter, dk^inter (unscaled) into the free Ht, Dt as kC x LQ arrays (read back as X, Y below).
#pragma unroll
    for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int nn = 0; nn < NS2; ++nn)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const int t = 16 * m + gr + 8 * (e >> 1), j = w * KW + 8 * nn + 2 * tg;
                *reinterpret_cast<float2*>(s.Ht + t * LQ + j) = make_float2(dqI[m][nn][e], dqI[m][nn][e + 1]);
                *reinterpret_cast<float2*>(s.Dt + t * LQ + j) = make_float2(dkI[m][nn][e], dkI[m][nn][e + 1]);
            }
    // dA (s included) into A: strictly lower part; the diagonal apart.
#pragma unroll
    for (int nn = 0; nn < NV8; ++nn)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int t = 16 * rb + gr + 8 * (e >> 1), u = CV * ch + 8 * nn + 2 * tg + (e & 1);
            const float val = dA[nn][e] * a.scale;
            s.A[t * LT + u] = u < t ? val : 0.f;
            if (u == t) s.dAd[t] = val;
        }
    __syncthreads();

    float* X = s.Ht;  // dq^inter, then q (dq^inter + dq^strict) - k dk^strict
    float* Y = s.Dt;  // dk^inter, then k dk^inter
    float* W = s.Vt;  // -exp(g) dk (fused), else 0 (kC x LQ over Vt and dOt)
    // dq^strict[t] = sum_{u < t} dA[t][u] k_u 2^{G_t - G_u} (factored: relative to r_b of t's block) into Kh,
    // dk^strict[u] = sum_{t > u} dA[t][u] q_t 2^{G_t - G_u} (relative to r_b of u's block) into Q (wide: W).
    float* Zq = s.Kh;
    float* Zk = wide ? W : s.Q;
    if (!wide) {
        float aq[NT][4] = {}, ak[NT][4] = {};
        for (int bb = 0; bb <= rb; ++bb) {
            const float* cs = bb < rb ? s.cib[pair_index(rb, bb)] : nullptr;
            warp_mma<mma::kSplit3, NT>(
                aq, 16 * bb, 16 * bb + 16, [&](int r, int k) { return s.A[(16 * rb + r) * LT + k]; },
                [&](int k, int c) {
                    const int j = ch * KH + c;
                    return s.Kh[k * LQ + j] * (cs ? cs[j] : 1.f);
                });
        }
        for (int ii = rb; ii < 4; ++ii) {
            const float* cs = ii > rb ? s.cib[pair_index(ii, rb)] : nullptr;
            warp_mma<mma::kSplit3, NT>(
                ak, 16 * ii, 16 * ii + 16, [&](int r, int k) { return s.A[k * LT + 16 * rb + r]; },
                [&](int k, int c) {
                    const int j = ch * KH + c;
                    return s.Q[k * LQ + j] * (cs ? cs[j] : 1.f);
                });
        }
        __syncthreads();  // every warp is done reading Q and Kh
#pragma unroll
        for (int nn = 0; nn < NT; ++nn)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const int t = 16 * rb + gr + 8 * (e >> 1), j = ch * KH + 8 * nn + 2 * tg;
                *reinterpret_cast<float2*>(Zq + t * LQ + j) = make_float2(aq[nn][e], aq[nn][e + 1]);
                *reinterpret_cast<float2*>(Zk + t * LQ + j) = make_float2(ak[nn][e], ak[nn][e + 1]);
            }
    } else {  // exact elementwise sums (raw q, k in Q, Kh): dq^strict via W into Kh, then dk^strict into W
        for (int idx = tid; idx < kC * K; idx += kThreads) {
            const int t = idx / K, j = idx % K;
            const float Gt = s.G[t * LQ + j];
            float x = 0;
            #pragma unroll 1
            for (int u = 0; u < t; ++u) x += s.A[t * LT + u] * s.Kh[u * LQ + j] * exp2f(Gt - s.G[u * LQ + j]);
            W[t * LQ + j] = x;
        }
        __syncthreads();
        for (int idx = tid; idx < kC * K; idx += kThreads) {
            const int t = idx / K, j = idx % K;
            Zq[t * LQ + j] = W[t * LQ + j];
        }
        __syncthreads();
        for (int idx = tid; idx < kC * K; idx += kThreads) {
            const int u = idx / K, j = idx % K;
            const float Gu = s.G[u * LQ + j];
            float y = 0;
            #pragma unroll 1
            for (int t = u + 1; t < kC; ++t) y += s.A[t * LT + u] * s.Q[t * LQ + j] * exp2f(s.G[t * LQ + j] - Gu);
            W[u * LQ + j] = y;
        }
    }
    __syncthreads();
    // dq, dk and the dg terms, elementwise (two columns a thread per step, a short loop: small code):
    //   dq = s 2^G dq^inter + dq^strict + dA_tt k,   dk = 2^{Gamma-G} dk^inter + dk^strict + dA_tt q,
    //   X = q (s 2^G dq^inter + dq^strict) - k dk^strict,   Y = k 2^{Gamma-G} dk^inter,   W = -exp(g) dk.
#pragma unroll 1
    for (int idx = tid; idx < kC * K / 2; idx += kThreads) {
        const int t = idx / (K / 2), j0 = 2 * (idx % (K / 2)), tt = t0 + t, r = (t / 16) * 16;
        if (tt >= a.T) {
            *reinterpret_cast<float2*>(X + t * LQ + j0) = make_float2(0.f, 0.f);
            *reinterpret_cast<float2*>(Y + t * LQ + j0) = make_float2(0.f, 0.f);
            *reinterpret_cast<float2*>(W + t * LQ + j0) = make_float2(0.f, 0.f);
            continue;
        }
        const int64_t off = row(tt) * KS + j0;
        const float2 qv = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(a.q + off));
        const float2 gv = *reinterpret_cast<const float2*>(a.g + off);
        const float2 kv = fused ? make_float2(one_minus_exp(gv.x), one_minus_exp(gv.y))
                                : __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(a.k + off));
        const float2 gi = *reinterpret_cast<const float2*>(X + t * LQ + j0);   // dq^inter (unscaled)
        const float2 ki = *reinterpret_cast<const float2*>(Y + t * LQ + j0);   // dk^inter (unscaled)
        const float2 zq = *reinterpret_cast<const float2*>(Zq + t * LQ + j0);  // dq^strict (factored)
        const float2 zk = *reinterpret_cast<const float2*>(Zk + t * LQ + j0);  // dk^strict (factored)
        const float dAd = s.dAd[t];
        float dq[2], dk[2], xo[2], yo[2], wo[2];
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            const int j = j0 + x;
            const float Gt = s.G[t * LQ + j], Gr = s.G[r * LQ + j], Gam = s.G[(kC - 1) * LQ + j];
            const float qx = x ? qv.y : qv.x, kx = x ? kv.y : kv.x;
            const float dqp = a.scale * exp2f(Gt) * (x ? gi.y : gi.x) + (wide ? 1.f : exp2f(Gt - Gr)) * (x ? zq.y : zq.x);
            const float dki = exp2f(Gam - Gt) * (x ? ki.y : ki.x);
            const float dks = (wide ? 1.f : exp2f(Gr - Gt)) * (x ? zk.y : zk.x);
            dq[x] = dqp + dAd * kx;
            dk[x] = dki + dks + dAd * qx;
            xo[x] = qx * dqp - kx * dks;
            yo[x] = kx * dki;
            wo[x] = fused ? -expf(x ? gv.y : gv.x) * dk[x] : 0.f;
        }
        *reinterpret_cast<__nv_bfloat162*>(a.dq + off) = __floats2bfloat162_rn(dq[0], dq[1]);
        if (a.dk) *reinterpret_cast<__nv_bfloat162*>(a.dk + off) = __floats2bfloat162_rn(dk[0], dk[1]);
        *reinterpret_cast<float2*>(X + t * LQ + j0) = make_float2(xo[0], xo[1]);
        *reinterpret_cast<float2*>(Y + t * LQ + j0) = make_float2(yo[0], yo[1]);
        *reinterpret_cast<float2*>(W + t * LQ + j0) = make_float2(wo[0], wo[1]);
    }
    __syncthreads();
    // dg: reverse inclusive cumsum of X + exclusive forward cumsum of Y + 2^Gamma R + W, per column.
    {
        constexpr int P = kThreads / K, RR = kC / P;
        const int j = tid % K, p = tid / K;
        float sx = 0, sy = 0;
        for (int t = p * RR; t < (p + 1) * RR; ++t) sx += X[t * LQ + j], sy += Y[t * LQ + j];
        s.A[p * K + j] = sx;
        s.A[(P + p) * K + j] = sy;
        __syncthreads();
        float ax = 0, ey = exp2f(s.G[(kC - 1) * LQ + j]) * s.R[j];
        for (int pp = 0; pp < P; ++pp) {
            if (pp > p) ax += s.A[pp * K + j];
            if (pp < p) ey += s.A[(P + pp) * K + j];
        }
        for (int t = p * RR; t < (p + 1) * RR; ++t) {
            W[t * LQ + j] += ey;
            ey += Y[t * LQ + j];
        }
        for (int t = (p + 1) * RR - 1; t >= p * RR; --t) {
            ax += X[t * LQ + j];
            if (t0 + t < a.T) a.dg[row(t0 + t) * KS + j] = ax + W[t * LQ + j];
        }
    }
}

template <int K, int KS>
bool launch_chunk(const BwdArgs& a, int B, cudaStream_t stream) {
    const size_t smem = sizeof(BSmem<K>);
    int dev = 0, optin = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (size_t(optin) < smem) return false;
    static bool configured = false;
    if (!configured) {
        HGRN_CUDA_CHECK(
            cudaFuncSetAttribute(gla_bwd_chunk_kernel<K, KS>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    gla_bwd_chunk_kernel<K, KS><<<dim3(unsigned(a.N), unsigned(a.H), unsigned(B * (KS / K))), 32 * warps_of<K>, smem, stream>>>(a);
    HGRN_LAUNCH_CHECK();
    return true;
}

size_t chunk_smem(int64_t K) { return K == 64 ? sizeof(BSmem<64>) : sizeof(BSmem<128>); }

// dv = bf16(p0 + p1): the two K halves' fp32 partials (n a multiple of 4, 16-byte aligned).
__global__ void gla_sum_halves_bwd_kernel(const float* p, __nv_bfloat16* o, int64_t n) {
    for (int64_t i = 4 * (int64_t(blockIdx.x) * blockDim.x + threadIdx.x); i < n; i += 4 * int64_t(gridDim.x) * blockDim.x) {
        const float4 x = *reinterpret_cast<const float4*>(p + i), y = *reinterpret_cast<const float4*>(p + n + i);
        __nv_bfloat162 r[2] = {__floats2bfloat162_rn(x.x + y.x, x.y + y.y), __floats2bfloat162_rn(x.z + y.z, x.w + y.w)};
        *reinterpret_cast<uint2*>(o + i) = *reinterpret_cast<const uint2*>(r);
    }
}

}  // namespace

void chunk_states_forward(const __nv_bfloat16* k, const __nv_bfloat16* v, const float* g, const float* h0,
                          float* hbuf, float* ht, int B, int T, int H, int K, int V, cudaStream_t stream) {
    StateArgs sa{};
    sa.k = k, sa.v = v, sa.g = g, sa.h0 = h0, sa.hbuf = hbuf, sa.ht = ht;
    sa.T = T, sa.H = H, sa.K = K, sa.V = V, sa.N = (T + kC - 1) / kC;
    sa.scale = 1.f;
    sa.B_H = B * H;
    run_state_pass(sa, 1, stream);  // the H direction only
}

bool chunk_backward_tc(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                       const GlaGrads& grads, cudaStream_t stream) {
    auto bf = [](const Tensor& t) { return !t.empty() && t.dtype() == DType::bf16; };
    const bool fused = in.k.empty();
    if (!bf(in.q) || !bf(in.v) || !bf(gout.dout) || !bf(grads.dq) || !bf(grads.dv)) return false;
    if (!fused && !bf(in.k)) return false;
    if (!grads.dk.empty() && !bf(grads.dk)) return false;
    if ((d.K != 64 && d.K != 128 && d.K != 256) || d.V % 64 != 0 || d.T < 1) return false;
    if (d.T >= (int64_t(1) << 30) || d.H >= 65536 || d.B * (d.K / 128 + 1) >= 65536 || d.B * d.H >= 65536) return false;
    for (const Tensor* t : {&in.q, &in.k, &in.v, &in.g, &gout.dout, &grads.dq, &grads.dk, &grads.dv, &grads.dg})
        if (!t->empty() && reinterpret_cast<uintptr_t>(t->data()) % 16 != 0) return false;
    int dev = 0, optin = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (size_t(optin) < chunk_smem(d.K)) return false;

    const int N = int((d.T + kC - 1) / kC);
    const size_t nstate = size_t(d.B * d.H) * size_t(N) * size_t(d.K * d.V);
    // The H_n: the forward's saved chunk states (GlaInputs::states) when given, else recomputed here.
    const bool saved = !in.states.empty();
    float* scratch = nullptr;
    scratch = scratch_alloc<float>((saved ? 1 : 2) * nstate, stream);

    StateArgs sa{};
    sa.q = static_cast<const __nv_bfloat16*>(in_of(in.q, "q").p);
    sa.k = static_cast<const __nv_bfloat16*>(in_of(in.k, "k").p);
    sa.v = static_cast<const __nv_bfloat16*>(in_of(in.v, "v").p);
    sa.dout = static_cast<const __nv_bfloat16*>(in_of(gout.dout, "dout").p);
    sa.g = f32_in(in.g, "g");
    sa.h0 = f32_in(in.h0, "h0");
    sa.dht = f32_in(gout.dht, "dht");
    sa.hbuf = saved ? const_cast<float*>(f32_in(in.states, "states")) : scratch;  // read only when saved
    sa.dbuf = saved ? scratch : scratch + nstate;
    sa.dir0 = saved ? 1 : 0;
    sa.dh0 = f32_out(grads.dh0, "dh0");
    sa.T = int(d.T), sa.H = int(d.H), sa.K = int(d.K), sa.V = int(d.V), sa.N = N;
    sa.scale = scale;
    sa.B_H = int(d.B * d.H);
    run_state_pass(sa, saved ? 1 : 2, stream);

    BwdArgs ba{};
    ba.q = sa.q, ba.k = sa.k, ba.v = sa.v, ba.dout = sa.dout, ba.g = sa.g;
    ba.hbuf = sa.hbuf, ba.dbuf = sa.dbuf;
    ba.dq = static_cast<__nv_bfloat16*>(out_of(grads.dq, "dq").p);
    ba.dk = static_cast<__nv_bfloat16*>(out_of(grads.dk, "dk").p);
    ba.dv = static_cast<__nv_bfloat16*>(out_of(grads.dv, "dv").p);
    ba.dg = f32_out(grads.dg, "dg");
    ba.T = int(d.T), ba.H = int(d.H), ba.V = int(d.V), ba.N = N;
    ba.scale = scale;
    // K = 256: the K = 128 kernel on the two 128-column halves (dq, dk, dg of the half; dv summed over them).
    const int nh = d.K == 256 ? 2 : 1;
    const int64_t nv = d.B * d.T * d.H * d.V;
    if (nh > 1) ba.dv32 = scratch_alloc<float>(nh * nv, stream);
    const bool ok = d.K == 64    ? launch_chunk<64, 64>(ba, int(d.B), stream)
                   : d.K == 128 ? launch_chunk<128, 128>(ba, int(d.B), stream)
                                : launch_chunk<128, 256>(ba, int(d.B), stream);
    if (nh > 1) {
        gla_sum_halves_bwd_kernel<<<unsigned(std::min<int64_t>((nv / 4 + 255) / 256, 4096)), 256, 0, stream>>>(ba.dv32, ba.dv, nv);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(ba.dv32, stream));
    }
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, stream));
    return ok;  // (ok is true: the shared-memory size was checked above)
}

}  // namespace hgrn::gla_cuda
