// gla_chunk_fwd.cu — chunkwise GLA forward on tensor cores (runs where a block may have >= 178 KB of shared
// memory, i.e. sm_90; the K = 256 cluster pair needs sm_90). Hopper (sm_90a): q~ H, and at K = 128 the state
// update, on warpgroup products (wgmma, gla_wgmma.cuh) reading SW128 shared-memory planes; everything else, and
// every product where the sm_90a code is absent (HGRN_GLA_FWD_WGMMA=0 forces it), on mma.sync TF32 / bf16
// reading the same planes.
// One block per (V tile, head, sequence) walks the chunks of C = 64 tokens in order, keeping its K x BV slice of
// the state in fp32 registers (MMA accumulators): BV = 128 with 16 warps when those blocks fill the GPU (one
// block per head at K = V = 128: q, k, g loaded and the scores formed once), else BV = 64 with 8 warps.
// Per chunk, with G the in-chunk cumsum of g in log2 units, Gamma = G at the last row, r_b = G at the first row
// of 16-row block b:
//     o_t   = s (q_t . 2^{G_t})^T H  +  sum_{u <= t} A[t,u] v_u,   A[t,u] = s sum_j q_tj k_uj 2^{G_tj - G_uj}
//     H    <- Diag(2^Gamma) H + sum_u (k_u . 2^{Gamma - G_u}) v_u^T
// Stability without clamping: q^ = q . 2^{G_t - r_b(t)} (<= 1) and k^ = k . 2^{r_b(u) - G_u} (<= 2^100, checked)
// are formed once; every other factor is a per-column scale 2^{r_i - r_b}, 2^{r_b}, 2^{Gamma - r_b}, all <= 1,
// so nothing overflows and an underflow only drops a term that is tiny next to the chunk's own. A chunk whose
// 16-row blocks span more than 2^100 of decay (log f below about -4.3 per step on average) takes an exact
// elementwise path for A. Products: A and q~ H in TF32 (10-bit mantissa; bf16 inputs are exact in it); A v and
// the state update on bf16 MMAs with v exact and A / k~ as bf16 hi + lo pairs (16 bits) — hi + lo + lo2
// (fp32-exact) when the state itself is an output (ht, or the chunk states for the backward). The same
// products on wgmma as on mma.sync (TF32 operands pre-rounded, bf16 splits, fp32 accumulation). k absent:
// k = 1 - exp(g).
// Covered: q, v, o bf16 (k bf16 or absent), K in {64, 128, 256}, V a multiple of 64; else the caller falls back.
// K = 256 runs the K = 128 kernels on the two 128-column halves of q, k, g (= the state's row halves, which
// evolve independently): the halves of a V tile are the two CTAs of a cluster and sum o through distributed
// shared memory.
// Few blocks (B H V / 64 at most half the SMs, T > 256): the split path instead, the backward's state pass
// (H direction, in segments for long T) writing every H_n, then gla_chunk_out_kernel with all chunks in
// parallel (two blocks per SM: OutSmem), completing the segments' states as it loads them (K = 256 there: fp32
// partials of o, summed into bf16).
// GlaOutputs::states: the sequential kernel stores its state at each chunk start; the split path's state pass
// writes them directly.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"
#include "gla/cuda/gla_mma.cuh"
#include "gla/cuda/gla_wgmma.cuh"

namespace hgrn::gla_cuda {
namespace {

// Blocks come in two widths: BV = 64 V columns with 8 warps, or BV = 128 with 16 warps (one block per head
// at K = V = 128, so q, k, g are loaded and the scores formed once per head, not once per 64 columns).
template <int BV>
constexpr int threads_of = 4 * BV;
using mma::ldsm_x4;
using mma::mma;
using mma::mma_bf16;
using mma::split_bf16;
using mma::tf32;

struct FwdArgs {
    const __nv_bfloat16 *q, *k, *v;  // k may be null
    const float *g, *h0;
    __nv_bfloat16* o;
    float* ht;
    float* o32;  // K = 256 (two 128-halves): this half's fp32 partial of o instead of o (summed afterwards)
    float* hs;   // chunk states (B, H, N, K, V) out, may be null (GlaOutputs::states)
    int T, H, V;
    float scale;
    bool wgmma;  // host side: the sequential kernel's WG instance (HGRN_GLA_FWD_WGMMA=0: the mma.sync one)
};

// G and Hs start at 1024-byte boundaries (the SW128 planes that wgmma reads; gla_wgmma.cuh).
template <int K, int BV>
struct alignas(1024) Smem {
    static constexpr int LQ = K + 4, LK = K + 4, LV = BV + 8, LA = kC / 2 + 4;
    static constexpr int NTH = threads_of<BV>, KD = K, BVD = BV;
    // g (log2 units, rows LQ apart), then q~ = q 2^G rounded to TF32 (the A operand of q~ H) as an SW128
    // plane of kC rows: element (t, j) at wg::sw128<kC>(t, j).
    float G[kC * LQ];
    float Q[kC * LQ];         // q, then q^
    float Kh[kC * LK];        // k, then k^
    uint32_t A[2 * kC * LA];  // intra-chunk scores (scaled, masked) as bf16 pairs (u, u + 1): hi plane, lo plane
    // The state before the chunk, the B operand of q~ H: H (K x LV) or, sequential kernel, H^T rounded to TF32
    // as an SW128 plane of BV rows (element (c, j) at wg::sw128<BV>(c, j)).
    alignas(1024) float Hs[K * LV];
    static_assert(BV * K <= K * LV && kC * K <= kC * LQ, "the SW128 planes fit");
    // The v tile (kC x BV bf16) as an MN-major SW128 plane (element (u, c) at byte wg::sw128_bf16_bytes<kC>(u, c)):
    // the B operand of the bf16 products (A v, the state update).
    alignas(1024) uint32_t Vs[kC / 2 * LV];
    static_assert(kC * BV * 2 <= kC / 2 * LV * 4, "the v plane fits");
    float cq[4][K];       // 2^{r_b}
    float ck[4][K];       // 2^{Gamma - r_b}
    float cib[6][K];      // 2^{r_i - r_b}, b < i
    float dec[K];         // 2^{Gamma}
    float cpart[4][K];    // cumsum: each part's total
    float cfirst[4][K];   // cumsum: each 16-row block's first value within its part
    // The split path's fp32 H tile (not HT): element (j, c) at hs(j, c). The v tile arrives with q, k, g; the
    // scores are stored as they are formed (OutSmem defers both: its A, Vs and Hs share Q's and Kh's space).
    static constexpr bool kDefer = false;
    __device__ static int hs(int j, int c) { return j * LV + c; }
};

// The split path's output kernel (gla_chunk_out_kernel, BV = 64): Smem's planes, with the H and v tiles and the
// scores in the space of q^ and k^, which only the scores read: 111 KB at K = 128 (Smem<128, 64>: 174 KB),
// so that two blocks share an SM. The scores are therefore held in registers until every warp has formed its
// share, and the v and H tiles loaded after them. The H tile has no padding: 16-byte groups XOR-swizzled by
// row (column c of row j at c ^ 8 (j & 3)), so that the fragment reads (rows j0 + tg, columns oc0 + 8 n + gr)
// fall on 32 distinct banks.
template <int K>
struct alignas(1024) OutSmem {
    static constexpr int BV = 64, LQ = K + 4, LK = K + 4, LA = kC / 2 + 4;
    static constexpr int NTH = threads_of<BV>, KD = K, BVD = BV;
    static constexpr bool kDefer = true;
    float G[kC * LQ];  // as in Smem
    union {  // Smem's member names (anonymous members), so that the shared device functions read either
        struct {
            float Q[kC * LQ];   // q, then q^ (to the scores)
            float Kh[kC * LK];  // k, then k^ (to the scores)
        };
        struct {
            float Hs[K * BV];                   // after the scores: H_n's tile (swizzled, see hs)
            alignas(1024) uint32_t Vs[kC * BV / 2];  // the v plane (kC x BV bf16, SW128 as in Smem)
            uint32_t A[2 * kC * LA];            // the scores (hi, lo planes as in Smem)
        };
    };
    float cq[4][K], ck[4][K], cib[6][K], dec[K], cpart[4][K], cfirst[4][K];
    __device__ static int hs(int j, int c) { return j * BV + (c ^ ((j & 3) << 3)); }
    static_assert(K * BV + kC * BV / 2 + 2 * kC * LA <= 2 * kC * LQ, "the tiles fit in the space of q^ and k^");
    static_assert((kC * LQ * 4) % 1024 == 0 && (K * BV * 4) % 1024 == 0, "Hs and Vs on 1024-byte boundaries");
};

// One chunk's inputs in registers (16-byte vectors per thread): all global loads of a chunk are issued
// before any is used, so their latencies overlap. The sequential kernel issues them one chunk ahead, after the
// state update (few registers live there; issuing them during the update spilled).
template <class S>
struct ChunkRegs {
    static constexpr int NQ = kC * S::KD / 8 / S::NTH, NG = kC * S::KD / 4 / S::NTH;
    static constexpr int NP = kC / 2 * S::BVD / 8 / S::NTH, NV = 2 * NP;  // v: NP pairs of rows (2 m, 2 m + 1)
    uint4 q[NQ], k[NQ], v[NV];
    float4 g[NG];
};

template <class S, int KS>
__device__ __forceinline__ void issue_chunk(const FwdArgs& a, ChunkRegs<S>& r, int b, int h, int c0, int t0) {
    [[maybe_unused]] constexpr int K = S::KD, BV = S::BVD, NTH = S::NTH;
    using R = ChunkRegs<S>;
    constexpr int NQ = R::NQ, NG = R::NG;
    uint4 *rq = r.q, *rk = r.k, *rv = r.v;
    float4* rg = r.g;
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    // Row t0 of this sequence and head; consecutive rows are H KS (q, k, g) or H V (v) elements apart.
    const int64_t r0 = (int64_t(b) * a.T + t0) * a.H + h, sq = int64_t(a.H) * KS, sv = int64_t(a.H) * a.V;
    const __nv_bfloat16 *q0 = a.q + r0 * KS, *k0 = a.k ? a.k + r0 * KS : nullptr, *v0 = a.v + r0 * a.V + c0;
    const float* g0 = a.g + r0 * KS;
    const int nt = a.T - t0;  // rows left in the sequence
#pragma unroll
    for (int i = 0; i < NQ; ++i) {
        const int idx = threadIdx.x + i * NTH, t = idx / (K / 8), j = 8 * (idx % (K / 8));
        rq[i] = t < nt ? __ldg(reinterpret_cast<const uint4*>(q0 + t * sq + j)) : z4;
        rk[i] = (t < nt && k0) ? __ldg(reinterpret_cast<const uint4*>(k0 + t * sq + j)) : z4;
    }
#pragma unroll
    for (int i = 0; i < NG; ++i) {
        const int idx = threadIdx.x + i * NTH, t = idx / (K / 4), j = 4 * (idx % (K / 4));
        rg[i] = t < nt ? __ldg(reinterpret_cast<const float4*>(g0 + t * sq + j)) : make_float4(0, 0, 0, 0);
    }
    if constexpr (!S::kDefer) {  // (OutSmem: its v tile is loaded after the scores, by load_v)
#pragma unroll
        for (int i = 0; i < R::NP; ++i) {
            const int idx = threadIdx.x + i * NTH, m = idx / (BV / 8), c = 8 * (idx % (BV / 8));
#pragma unroll
            for (int y = 0; y < 2; ++y) {
                const int t = 2 * m + y;
                rv[2 * i + y] = t < nt ? __ldg(reinterpret_cast<const uint4*>(v0 + t * sv + c)) : z4;
            }
        }
    }
}

// Rows 2 m (x) and 2 m + 1 (y) of 8 v columns c.. (one 16-byte chunk each) into the v plane.
template <class S>
__device__ __forceinline__ void store_v_pair(S& s, int m, int c, const uint4& x, const uint4& y) {
    char* base = reinterpret_cast<char*>(s.Vs);
    *reinterpret_cast<uint4*>(base + wg::sw128_bf16_bytes<kC>(2 * m, c)) = x;
    *reinterpret_cast<uint4*>(base + wg::sw128_bf16_bytes<kC>(2 * m + 1, c)) = y;
}

// B fragments (m16n8k16: b0 = v[u0 + 2 tg, + 1][col], b1 = v[u0 + 8 + 2 tg, + 1][col], col = c + gr) of the
// two 8-column tiles c.. and c + 8.. from the v plane (ldmatrix.trans: lanes 8 m.. address matrix m =
// (rows u0 + 8 (m & 1), columns c + 8 (m >> 1))): r[0], r[1] of tile c, r[2], r[3] of tile c + 8.
template <class S>
__device__ __forceinline__ void v_frags(const S& s, int u0, int c, uint32_t (&r)[4]) {
    const int lane = threadIdx.x & 31;
    mma::ldsm_x4_trans(r, smem_u32(s.Vs) + wg::sw128_bf16_bytes<kC>(u0 + (lane & 7) + 8 * ((lane >> 3) & 1),
                                                                          c + 8 * (lane >> 4)));
}

// The registers of issue_chunk into shared memory: q, k as fp32, g in log2 units (k = 1 - exp(g) when k is
// absent), v as bf16 bits.
template <class S>
__device__ __forceinline__ void store_chunk(const FwdArgs& a, S& s, const ChunkRegs<S>& r) {
    [[maybe_unused]] constexpr int K = S::KD, BV = S::BVD, NTH = S::NTH;
    using R = ChunkRegs<S>;
    constexpr int NQ = R::NQ, NG = R::NG;
    const uint4 *rq = r.q, *rk = r.k, *rv = r.v;
    const float4* rg = r.g;
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
        const int idx = threadIdx.x + i * NTH, t = idx / (K / 8), j = 8 * (idx % (K / 8));
        const bool swap = (j >> 5) & 1;
        unpack(rq[i], s.Q + t * S::LQ + j, swap);
        if (a.k) unpack(rk[i], s.Kh + t * S::LK + j, swap);
    }
#pragma unroll
    for (int i = 0; i < NG; ++i) {
        const int idx = threadIdx.x + i * NTH, t = idx / (K / 4), j = 4 * (idx % (K / 4));
        if constexpr (K < 128) {
            const float g[4] = {rg[i].x, rg[i].y, rg[i].z, rg[i].w};
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s.G[t * S::LQ + j + e] = g[e] * kLog2e;
                if (!a.k) s.Kh[t * S::LK + j + e] = one_minus_exp(g[e]);
            }
            continue;
        }
        const float4 x = rg[i];  // 16-byte stores: consecutive threads, consecutive columns (no conflicts)
        *reinterpret_cast<float4*>(s.G + t * S::LQ + j) = make_float4(x.x * kLog2e, x.y * kLog2e, x.z * kLog2e, x.w * kLog2e);
        if (!a.k)
            *reinterpret_cast<float4*>(s.Kh + t * S::LK + j) =
                make_float4(one_minus_exp(x.x), one_minus_exp(x.y), one_minus_exp(x.z), one_minus_exp(x.w));
    }
    if constexpr (!S::kDefer) {
#pragma unroll
        for (int i = 0; i < R::NP; ++i) {
            const int idx = threadIdx.x + i * NTH, m = idx / (BV / 8), c = 8 * (idx % (BV / 8));
            store_v_pair<S>(s, m, c, rv[2 * i], rv[2 * i + 1]);
        }
    }
}

template <class S, int KS>
__device__ void load_chunk(const FwdArgs& a, S& s, int b, int h, int c0, int t0) {
    ChunkRegs<S> r;
    issue_chunk<S, KS>(a, r, b, h, c0, t0);
    store_chunk<S>(a, s, r);
}

// The next chunk's rows of q, k, g and the v tile into L2 (one prefetch per 128-byte line, no registers held):
// its loads then wait on L2 rather than on HBM.
template <class S, int KS>
__device__ __forceinline__ void prefetch_chunk_l2(const FwdArgs& a, int b, int h, int c0, int t0) {
    constexpr int K = S::KD, BV = S::BVD, LQ = (2 * K + 127) / 128, LG = 4 * K / 128, LV = (2 * BV + 127) / 128;
    const int nq = a.k ? 2 * LQ : LQ, per_row = nq + LG + LV;
    for (int i = threadIdx.x; i < kC * per_row; i += S::NTH) {
        const int t = i / per_row, c = i % per_row, tt = t0 + t;
        if (tt >= a.T) break;
        const int64_t row = (int64_t(b) * a.T + tt) * a.H + h;
        const char* ptr = c < LQ        ? reinterpret_cast<const char*>(a.q + row * KS) + 128 * c
                          : c < nq      ? reinterpret_cast<const char*>(a.k + row * KS) + 128 * (c - LQ)
                          : c < nq + LG ? reinterpret_cast<const char*>(a.g + row * KS) + 128 * (c - nq)
                                        : reinterpret_cast<const char*>(a.v + row * a.V + c0) + 128 * (c - nq - LG);
        asm volatile("prefetch.global.L2 [%0];" ::"l"(ptr));
    }
}

// The v tile (columns c0..) of the chunk at t0 into Vs (bf16 row pairs).
template <class S>
__device__ void load_v(const FwdArgs& a, S& s, int b, int h, int c0, int t0) {
    constexpr int BV = S::BVD, NTH = S::NTH, NP = kC / 2 * BV / 8 / NTH;
    uint4 rv[2 * NP];
#pragma unroll
    for (int i = 0; i < NP; ++i) {
        const int idx = threadIdx.x + i * NTH, m = idx / (BV / 8), c = 8 * (idx % (BV / 8));
#pragma unroll
        for (int y = 0; y < 2; ++y) {
            const int tt = t0 + 2 * m + y;
            rv[2 * i + y] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.v + ((int64_t(b) * a.T + tt) * a.H + h) * a.V + c0 + c))
                                     : make_uint4(0, 0, 0, 0);
        }
    }
#pragma unroll
    for (int i = 0; i < NP; ++i) {
        const int idx = threadIdx.x + i * NTH, m = idx / (BV / 8), c = 8 * (idx % (BV / 8));
        store_v_pair<S>(s, m, c, rv[2 * i], rv[2 * i + 1]);
    }
}

// One score pair (t, u), (t, u + 1) into the hi / lo planes of A.
template <class S>
__device__ __forceinline__ void store_score_pair(S& s, int t, int u, float x0, float x1) {
    uint32_t hi, lo;
    split_bf16(x0, x1, hi, lo);
    s.A[t * S::LA + u / 2] = hi;
    s.A[(kC + t) * S::LA + u / 2] = lo;
}

// Exact A for chunks with a very wide decay span: every exponent G_t - G_u <= 0 taken elementwise.
template <class S>
__device__ void scores_exact(S& s, float scale) {
    [[maybe_unused]] constexpr int K = S::KD, BV = S::BVD, NTH = S::NTH;
    for (int idx = threadIdx.x; idx < kC * kC / 2; idx += NTH) {
        const int t = idx / (kC / 2), u = 2 * (idx % (kC / 2));
        float acc[2] = {0.f, 0.f};
#pragma unroll
        for (int y = 0; y < 2; ++y)
            if (u + y <= t)
                for (int j = 0; j < K; ++j)
                    acc[y] += s.Q[t * S::LQ + j] * s.Kh[(u + y) * S::LK + j] * exp2f(s.G[t * S::LQ + j] - s.G[(u + y) * S::LQ + j]);
        store_score_pair<S>(s, t, u, acc[0] * scale, acc[1] * scale);
    }
}
// The same into registers (OutSmem, whose A shares the space of q and k): pair i of this thread, idx =
// threadIdx.x + i NTH, is (t, u) = (idx / 32, 2 (idx % 32)); store_scores_exact writes them later.
template <class S>
using ExactScores = float[kC * kC / 2 / S::NTH][2];
template <class S>
__device__ void scores_exact_held(const S& s, float scale, ExactScores<S>& acc) {
    constexpr int K = S::KD;
#pragma unroll
    for (int i = 0; i < kC * kC / 2 / S::NTH; ++i) {
        const int idx = threadIdx.x + i * S::NTH, t = idx / (kC / 2), u = 2 * (idx % (kC / 2));
#pragma unroll
        for (int y = 0; y < 2; ++y) {
            float x = 0.f;
            if (u + y <= t)
#pragma unroll 1
                for (int j = 0; j < K; ++j)
                    x += s.Q[t * S::LQ + j] * s.Kh[(u + y) * S::LK + j] * exp2f(s.G[t * S::LQ + j] - s.G[(u + y) * S::LQ + j]);
            acc[i][y] = x * scale;
        }
    }
}
template <class S>
__device__ void store_scores_exact(S& s, const ExactScores<S>& acc) {
#pragma unroll
    for (int i = 0; i < kC * kC / 2 / S::NTH; ++i) {
        const int idx = threadIdx.x + i * S::NTH;
        store_score_pair<S>(s, idx / (kC / 2), 2 * (idx % (kC / 2)), acc[i][0], acc[i][1]);
    }
}

// The blocks of A above the diagonal, once per block: scores_mma never writes them.
template <class S>
__device__ void zero_upper_scores(S& s) {
    for (int idx = threadIdx.x; idx < kC * kC / 2; idx += S::NTH) {
        const int t = idx / (kC / 2), u = 2 * (idx % (kC / 2));
        if (u / 16 > t / 16) s.A[t * S::LA + u / 2] = s.A[(kC + t) * S::LA + u / 2] = 0u;
    }
}

// Block pair p = i (i + 1) / 2 + b, b <= i, as (i, b).
__device__ __forceinline__ void block_pair(int p, int& i, int& bb) {
    i = 0;
    while ((i + 1) * (i + 2) / 2 <= p) ++i;
    bb = p - i * (i + 1) / 2;
}
// Block pair (i, b) from its MMA accumulators into A, masked to u <= t.
template <class S>
__device__ __forceinline__ void store_score_block(S& s, int i, int bb, const float (&acc)[2][4], float scale) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
#pragma unroll
    for (int n = 0; n < 2; ++n)
#pragma unroll
        for (int e = 0; e < 4; e += 2) {
            const int t = 16 * i + gr + (e >= 2 ? 8 : 0), u = 16 * bb + 8 * n + 2 * tg;
            store_score_pair<S>(s, t, u, u <= t ? acc[n][e] * scale : 0.f, u + 1 <= t ? acc[n][e + 1] * scale : 0.f);
        }
}

// The 16 x 16 block pair p = (i, b) of the scores (before s and the mask) into acc: one TF32 product, q^ rows
// rescaled by 2^{r_i - r_b} per column off the diagonal.
template <class S>
__device__ __forceinline__ void score_block(const S& s, int i, int bb, float (&acc)[2][4]) {
    constexpr int K = S::KD;
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
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
}

// A[16i.., 16b..] = s (q^_i . 2^{r_i - r_b}) k^_b^T, masked to u <= t. 10 block pairs over the warps.
template <class S>
__device__ void scores_mma(S& s, float scale) {
    for (int p = threadIdx.x >> 5; p < 10; p += S::NTH / 32) {
        int i, bb;
        block_pair(p, i, bb);
        float acc[2][4] = {};
        score_block<S>(s, i, bb, acc);
        store_score_block<S>(s, i, bb, acc, scale);
    }
    // Blocks above the diagonal stay zero from zero_upper_scores (scores_exact writes its zeros itself).
}

// The same where A shares the space of q^ and k^ (OutSmem): each warp's pairs held in registers until every
// warp has formed its own, then stored, with the zero blocks above the diagonal.
template <class S>
__device__ void scores_mma_held(S& s, float scale) {
    constexpr int NW = S::NTH / 32, NPW = (10 + NW - 1) / NW;  // pairs a warp, at most
    const int w = threadIdx.x >> 5;
    float held[NPW][2][4] = {};
    int bi[NPW], bb[NPW];  // the warp's block pairs w, w + NW, .. (those below 10) as (i, b)
#pragma unroll
    for (int k = 0; k < NPW; ++k) {
        block_pair(w + k * NW, bi[k], bb[k]);
        if (w + k * NW < 10) score_block<S>(s, bi[k], bb[k], held[k]);
    }
    __syncthreads();  // every warp is done reading q^ and k^
#pragma unroll
    for (int k = 0; k < NPW; ++k)
        if (w + k * NW < 10) store_score_block<S>(s, bi[k], bb[k], held[k], scale);
    zero_upper_scores<S>(s);
}

// The two CTAs of a cluster (sm_90): a barrier of all their threads (release / acquire, so shared-memory
// stores into the other CTA are visible after it), and an 8-byte store into CTA `rank`'s copy of a shared
// variable. The forward kernels only run on GPUs with >= 178 KB of shared memory per block (sm_90), so the
// sm_80 build never executes these (it compiles them empty).
__device__ __forceinline__ void cluster_barrier() {
#if __CUDA_ARCH__ >= 900
    asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void st_cluster_f2(float* local, unsigned rank, float x, float y) {
#if __CUDA_ARCH__ >= 900
    const uint32_t addr = smem_u32(local);
    uint32_t remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(addr), "r"(rank));
    asm volatile("st.shared::cluster.v2.f32 [%0], {%1, %2};" ::"r"(remote), "f"(x), "f"(y) : "memory");
#endif
}

// A v on bf16 MMAs into acc (A as hi + lo pairs: 16 bits; v exact): warp w, rows 16 (w % 4).., columns
// 32 (w / 4).., only the key blocks u <= the row block (the others are zero).
template <class S>
__device__ __forceinline__ void scores_times_v(const S& s, float (&acc)[4][4]) {
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    const int orb = w % 4, oc0 = 32 * (w / 4);
    for (int u0 = 0; u0 < 16 * (orb + 1); u0 += 16) {
        const uint32_t* ar = s.A + (16 * orb + gr) * S::LA + u0 / 2 + tg;
        const uint32_t ah[4] = {ar[0], ar[8 * S::LA], ar[4], ar[8 * S::LA + 4]};
        const uint32_t* al_ = ar + kC * S::LA;
        const uint32_t al[4] = {al_[0], al_[8 * S::LA], al_[4], al_[8 * S::LA + 4]};
#pragma unroll
        for (int n = 0; n < 4; n += 2) {
            uint32_t vf[4];
            v_frags(s, u0, oc0 + 8 * n, vf);
            mma_bf16(acc[n], al, vf[0], vf[1]);
            mma_bf16(acc[n], ah, vf[0], vf[1]);
            mma_bf16(acc[n + 1], al, vf[2], vf[3]);
            mma_bf16(acc[n + 1], ah, vf[2], vf[3]);
        }
    }
}

// o = s q~ H + A v for the chunk at t0 and the V tile c0.., from G (q~), A, Vs and Hs; warp w: rows
// 16 (w % 4).., columns 32 (w / 4).. (4 n-tiles), i.e. warpgroup w / 4 owns a 64 x 32 tile of o.
// HT: Hs holds H^T already rounded to TF32 (the sequential kernel rounds each state element once when it
// writes Hs, instead of once per reading warp). With WG (where compiled for sm_90a) each warpgroup forms its
// q~ H tile with K / 8 wgmma m64n32k8 reading q~ and H^T from shared memory; otherwise the fragments of q~
// and H^T load with ldmatrix (4 words a lane per instruction) for mma.sync. Else (not HT) Hs holds H in fp32
// (the split path's cp.async copy of H_n). Then A v on mma.sync.
// K = 256 (KS > K, this block one K half kh): PAIR, the two halves are the CTAs of a cluster: half 1 adds its
// fp32 o into half 0's Q plane (free after the scores), half 0 sums and writes bf16 o. Else each half writes
// an fp32 partial into a.o32 (summed by gla_sum_halves_kernel).
template <class S, int KS, bool HT, bool PAIR = false, bool WG = false>
__device__ __forceinline__ void output_tile(const FwdArgs& a, S& s, int b, int h, int c0, int t0, int kh = 0) {
    [[maybe_unused]] constexpr int K = S::KD, BV = S::BVD, NTH = S::NTH;
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    const int orb = w % 4, oc0 = 32 * (w / 4);
    float oacc[4][4] = {};
    bool done = false;
#if HGRN_HAVE_WGMMA
    if constexpr (HT && WG) {
        // q~ H on wgmma: column block kk / 4 of a plane is R x 128 bytes, step kk % 4 within it 32 bytes. (A v
        // on mma.sync into a second accumulator while they run measured slower: 373 -> 390 us at 8x2048.)
        const uint32_t qa = smem_u32(s.G), ha = smem_u32(s.Hs) + oc0 * 128;
        wg::pin(oacc);
        wg::fence();
#pragma unroll
        for (int kk = 0; kk < K / 8; ++kk)
            wg::mma_m64n32k8_tf32(oacc, wg::desc_sw128(qa + (kk / 4) * (kC * 128) + (kk % 4) * 32),
                                  wg::desc_sw128(ha + (kk / 4) * (BV * 128) + (kk % 4) * 32));
        wg::commit();
        wg::wait<0>();
        wg::pin(oacc);
        done = true;
    }
#endif
    if (!done) {
        // q~ (A) by ldmatrix.x4 of 16-byte row pieces (contiguous in the SW128 plane): lanes 8 m.. address
        // matrix m = rows 16 orb + (lane & 7) + 8 bit3, columns j0 + 4 bit4, so lane (gr, tg) receives a0..a3 =
        // q~[gr | gr+8][j0 + tg | + 4].
        const int qr = 16 * orb + (lane & 7) + 8 * ((lane >> 3) & 1), qc = 4 * (lane >> 4);
        if constexpr (HT) {
            // H^T (B, two n-tiles a load): rows oc0 + 8 n + (lane & 7) + 8 bit4, columns j0 + 4 bit3: b0, b1 =
            // H[j0 + tg | + 4][gr].
            const int hr = oc0 + (lane & 7) + 8 * (lane >> 4), hc = 4 * ((lane >> 3) & 1);
#pragma unroll 4
            for (int j0 = 0; j0 < K; j0 += 8) {
                uint32_t qf[4], hf0[4], hf1[4];
                ldsm_x4(qf, smem_u32(s.G + wg::sw128<kC>(qr, j0 + qc)));
                ldsm_x4(hf0, smem_u32(s.Hs + wg::sw128<BV>(hr, j0 + hc)));
                ldsm_x4(hf1, smem_u32(s.Hs + wg::sw128<BV>(hr + 16, j0 + hc)));
                mma(oacc[0], qf[0], qf[1], qf[2], qf[3], hf0[0], hf0[1]);
                mma(oacc[1], qf[0], qf[1], qf[2], qf[3], hf0[2], hf0[3]);
                mma(oacc[2], qf[0], qf[1], qf[2], qf[3], hf1[0], hf1[1]);
                mma(oacc[3], qf[0], qf[1], qf[2], qf[3], hf1[2], hf1[3]);
            }
        } else {
#pragma unroll 2
            for (int j0 = 0; j0 < K; j0 += 8) {
                uint32_t qf[4];
                ldsm_x4(qf, smem_u32(s.G + wg::sw128<kC>(qr, j0 + qc)));
#pragma unroll
                for (int n = 0; n < 4; ++n) {
                    const int c = oc0 + 8 * n + gr;
                    mma(oacc[n], qf[0], qf[1], qf[2], qf[3], tf32(s.Hs[S::hs(j0 + tg, c)]),
                        tf32(s.Hs[S::hs(j0 + tg + 4, c)]));
                }
            }
        }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) oacc[n][e] *= a.scale;
    scores_times_v(s, oacc);
    if constexpr (PAIR) {
        cluster_barrier();  // both halves are past their scores: their Q planes are free
        if (kh == 1)
#pragma unroll
            for (int n = 0; n < 4; ++n)
#pragma unroll
                for (int e = 0; e < 4; e += 2)
                    st_cluster_f2(s.Q + (16 * orb + gr + (e >= 2 ? 8 : 0)) * S::LQ + oc0 + 8 * n + 2 * tg, 0,
                                  oacc[n][e], oacc[n][e + 1]);
        cluster_barrier();
        if (kh == 1) return;
#pragma unroll
        for (int n = 0; n < 4; ++n)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const float2 p = *reinterpret_cast<const float2*>(s.Q + (16 * orb + gr + (e >= 2 ? 8 : 0)) * S::LQ + oc0 + 8 * n + 2 * tg);
                oacc[n][e] += p.x, oacc[n][e + 1] += p.y;
            }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
        for (int e = 0; e < 4; e += 2) {
            const int t = t0 + 16 * orb + gr + (e >= 2 ? 8 : 0), c = c0 + oc0 + 8 * n + 2 * tg;
            if (t < a.T) {
                const int64_t off = ((int64_t(b) * a.T + t) * a.H + h) * a.V + c;
                if constexpr (KS > K && !PAIR)
                    *reinterpret_cast<float2*>(a.o32 + off) = make_float2(oacc[n][e], oacc[n][e + 1]);
                else
                    *reinterpret_cast<__nv_bfloat162*>(a.o + off) = __floats2bfloat162_rn(oacc[n][e], oacc[n][e + 1]);
            }
        }
}

// After load_chunk (all threads; ends with a barrier): the in-chunk cumsum G of g, the wide-span test, q^, k^,
// q~ (into the G plane) and the column scales, then the scores A. Thread (p, j) owns column j and the R = 64 / P
// rows p R.. (P = NTH / K parts), so G stays in its registers from the cumsum to q^ / k^: part totals and each
// 16-row block's first value go through shared memory once, from which every thread gets Gamma = G_63 and
// the reference rows r_b = G_{16 b} of its column.
template <class S>
__device__ __forceinline__ void chunk_prologue(S& s, float scale) {
    constexpr int K = S::KD, NTH = S::NTH, P = NTH / K, R = kC / P, NB = R / 16;
    static_assert(NTH % K == 0 && R % 16 == 0, "whole 16-row blocks per thread");
    const int j = threadIdx.x % K, p = threadIdx.x / K;
    float x[R];
#pragma unroll
    for (int i = 0; i < R; ++i) x[i] = s.G[(p * R + i) * S::LQ + j];
#pragma unroll
    for (int i = 1; i < R; ++i) x[i] += x[i - 1];
    s.cpart[p][j] = x[R - 1];
#pragma unroll
    for (int m = 0; m < NB; ++m) s.cfirst[p * NB + m][j] = x[16 * m];
    __syncthreads();
    float off = 0, gam = 0, r[4];  // r[b] = G at row 16 b
#pragma unroll
    for (int pp = 0; pp < P; ++pp) {
        const float c = s.cpart[pp][j];
#pragma unroll
        for (int m = 0; m < NB; ++m) r[pp * NB + m] = gam + s.cfirst[pp * NB + m][j];
        if (pp < p) off += c;
        gam += c;
    }
#pragma unroll
    for (int i = 0; i < R; ++i) x[i] += off;
    bool wide_local = false;
#pragma unroll
    for (int m = 0; m < NB; ++m) wide_local |= x[16 * m] - x[16 * m + 15] > kMaxSpan;
    const bool wide = __syncthreads_or(wide_local);
    [[maybe_unused]] ExactScores<S> exact;  // S::kDefer: the wide chunk's scores, stored at the end
    if (wide) {  // rare (log f below about -4.3 per step): exact scores from G in shared memory
#pragma unroll
        for (int i = 0; i < R; ++i) s.G[(p * R + i) * S::LQ + j] = x[i];
        __syncthreads();
        if constexpr (S::kDefer) scores_exact_held<S>(s, scale, exact);
        else scores_exact<S>(s, scale);
        __syncthreads();
    }
    // q^ = q 2^{G - r_b} (<= 1 factor), k^ = k 2^{r_b - G}, q~ = q^ 2^{r_b} (wide: q~ = q^ = q 2^G, k^ = k 2^{Gamma - G}).
#pragma unroll
    for (int m = 0; m < NB; ++m) {
        const int bb = p * NB + m;
        auto r_of = [&](int b) { return b == 0 ? r[0] : b == 1 ? r[1] : b == 2 ? r[2] : r[3]; };  // no local memory
        const float rb = r_of(bb), cq = wide ? 1.f : exp2_fast(rb);
#pragma unroll
        for (int i = 16 * m; i < 16 * m + 16; ++i) {
            const int t = p * R + i;
            const float qh = s.Q[t * S::LQ + j] * exp2_fast(wide ? x[i] : x[i] - rb);
            s.Q[t * S::LQ + j] = qh;
            s.Kh[t * S::LK + j] *= exp2_fast(wide ? gam - x[i] : rb - x[i]);
            s.G[wg::sw128<kC>(t, j)] = __uint_as_float(tf32(qh * cq));
        }
        s.cq[bb][j] = cq;
        s.ck[bb][j] = wide ? 1.f : exp2_fast(gam - rb);
        for (int b2 = 0; b2 < bb; ++b2) s.cib[pair_index(bb, b2)][j] = exp2_fast(rb - r_of(b2));
    }
    if (p == 0) s.dec[j] = exp2_fast(gam);
    wg::fence_proxy_async();  // q~ is read by wgmma
    __syncthreads();
    if constexpr (S::kDefer) {
        if (wide) store_scores_exact<S>(s, exact);  // (the q^, k^ just written over A's space are not read)
        else scores_mma_held<S>(s, scale);
        __syncthreads();
    } else if (!wide) {
        scores_mma<S>(s, scale);
        __syncthreads();
    }
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
        if (a.hs) a.hs += int64_t(kh) * K * a.V;
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
// (Tiles of 128 columns with 16 warps measured no faster at 1 x 16384 x 16 x 128: 529 vs 516-529 us.)
// fix: the segment correction the state pass left to this kernel (none when hbuf holds complete states).
// Its shared memory: OutSmem at K = 128 (two blocks per SM); Smem<64, 64> (102 KB) already fits two at K = 64.
template <int K>
using OutSmemOf = std::conditional_t<K == 128, OutSmem<128>, Smem<K, 64>>;
template <int K, int KS>
__global__ void __launch_bounds__(threads_of<64>, 2) gla_chunk_out_kernel(FwdArgs a, const float* hbuf, int N,
                                                                          SegFixup fix) {
    using S = OutSmemOf<K>;
    constexpr int BV = 64, NTH = S::NTH;
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    constexpr int nh = KS / K;
    const int kh = blockIdx.z % nh;  // K half (K = 256: blockIdx.z = 2 b + half)
    const int n = blockIdx.x, h = blockIdx.y, b = blockIdx.z / nh, t0 = n * kC;
    if constexpr (KS > K) to_half<K, KS>(a, kh, int64_t(gridDim.z / nh) * a.T * a.H * a.V);
    const float* hp = hbuf + ((int64_t(b) * a.H + h) * N + n) * KS * a.V + int64_t(kh) * K * a.V;
    // The segment correction of H_n (rows of this K half), if any. (X_s copied beside H_n into shared memory
    // instead of loaded into registers measured slower: 532-538 -> 545-556 us at 1 x 16384 x 16 x 128.)
    const float *fx = nullptr, *fp = nullptr;
    const bool fixup = seg_fixup_of(fix, 0, b * a.H + h, n, false, KS, a.V, fx, fp);
    if (fixup) fx += int64_t(kh) * K * a.V, fp += kh * K;
    auto issue_h = [&](int c0) {  // K x 64 fp32 tile of H_n into Hs (asynchronous)
#pragma unroll
        for (int i = 0; i < K * BV / 4 / NTH; ++i) {
            const int idx = threadIdx.x + i * NTH, j = idx / (BV / 4), c = 4 * (idx % (BV / 4));
            cp_async16(s.Hs + S::hs(j, c), hp + int64_t(j) * a.V + c0 + c);
        }
        cp_async_commit();
    };
    // OutSmem (S::kDefer): the H and v tiles share the space of q^ and k^, so they load after the scores (the
    // other block on the SM covers the wait); else the first H tile lands while the scores are formed.
    if constexpr (!S::kDefer) {
        issue_h(0);
        zero_upper_scores<S>(s);
    }
    load_chunk<S, KS>(a, s, b, h, 0, t0);
    __syncthreads();
    chunk_prologue<S>(s, a.scale);
    for (int c0 = 0; c0 < a.V; c0 += BV) {
        if (c0 > 0 || S::kDefer) {
            issue_h(c0);
            load_v<S>(a, s, b, h, c0, t0);
        }
        if (fixup) {  // H_n += Diag(p_n) X_s on the elements this thread copied, X_s and p_n loaded while they land
            SegTileFix<K, BV, NTH> f;
            f.load(fx, fp, c0, a.V);
            cp_async_wait<0>();
            f.apply_at(s.Hs, [](int j, int c) { return S::hs(j, c); });
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        output_tile<S, KS, false>(a, s, b, h, c0, t0);
        __syncthreads();
    }
}

// EXACT: the state update keeps fp32 accuracy (k~ split into bf16 hi + lo + lo2), needed when the state itself
// leaves the kernel (ht, the chunk states); otherwise it only feeds o (bf16), where hi + lo (16 bits) is enough.
template <int K, int KS, int BV, bool EXACT, bool WG>
__global__ void __launch_bounds__(threads_of<BV>, 1) gla_chunk_fwd_kernel(FwdArgs a) {
    using S = Smem<K, BV>;
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    // WG: q~ H (and at K = 128 the state update) on wgmma where compiled for sm_90a. A template parameter, not
    // a runtime branch: ptxas serializes wgmma placed under a branch it cannot prove uniform. The SW128 planes
    // must start at 1024-byte boundaries (__align__ above; checked once).
    if (WG && HGRN_HAVE_WGMMA && ((smem_u32(s.G) | smem_u32(s.Hs) | smem_u32(s.Vs)) & 1023u) != 0) __trap();
    // K = 256: blockIdx.x = 2 tile + half, the two halves of a V tile forming a cluster (see output_tile).
    const int kh = KS > K ? blockIdx.x % 2 : 0;
    const int c0 = (KS > K ? blockIdx.x / 2 : blockIdx.x) * BV, h = blockIdx.y, b = blockIdx.z;
    if constexpr (KS > K) to_half<K, KS>(a, kh, 0);
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    // State tile of this warp: rows 16 * (w % RB) .., columns (w / RB) * NT * 8 ..
    constexpr int RB = K / 16, WC = threads_of<BV> / 32 / RB, NT = BV / WC / 8;
    const int hr0 = 16 * (w % RB), hc0 = (w / RB) * NT * 8;
    float Hacc[NT][4];
    const int64_t sbase = (int64_t(b) * a.H + h) * KS * a.V;  // h0, ht already offset to this half's rows
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int j = hr0 + gr + (e >= 2 ? 8 : 0), c = hc0 + 8 * n + 2 * tg + (e & 1);
            Hacc[n][e] = a.h0 ? a.h0[sbase + int64_t(j) * a.V + c0 + c] : 0.f;
            s.Hs[wg::sw128<BV>(c, j)] = __uint_as_float(tf32(Hacc[n][e]));
        }
    wg::fence_proxy_async();
    zero_upper_scores<S>(s);
    const int N = (a.T + kC - 1) / kC;
    // The chunk's inputs are loaded into registers one chunk ahead: issued after the state update, when few
    // registers are live, they arrive while H^T is written and the block meets at its barriers.
    ChunkRegs<S> next;
    issue_chunk<S, KS>(a, next, b, h, c0, 0);
    for (int t0 = 0; t0 < a.T; t0 += kC) {
        if (a.hs) {  // the state before this chunk (EXACT, so fp32-accurate), for the backward
            float* dst = a.hs + ((int64_t(b) * a.H + h) * N + t0 / kC) * KS * a.V + c0;
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 4; e += 2) {
                    const int j = hr0 + gr + (e >= 2 ? 8 : 0), c = hc0 + 8 * n + 2 * tg;
                    *reinterpret_cast<float2*>(dst + int64_t(j) * a.V + c) = make_float2(Hacc[n][e], Hacc[n][e + 1]);
                }
        }
        store_chunk<S>(a, s, next);
        __syncthreads();
        if (t0 + kC < a.T) prefetch_chunk_l2<S, KS>(a, b, h, c0, t0 + kC);
        chunk_prologue<S>(s, a.scale);
        // H <- Diag(2^Gamma) H + k~^T v on bf16 products: k~ as hi + lo pairs (EXACT: + lo2, fp32-accurate), v
        // exact. Fragments of k~ for the 16 tokens u0..: xs[e] = rows (j0 | j1), columns (ua, ua + 1 | + 8).
        auto split_k = [&](int u0, uint32_t(&ah)[4], uint32_t(&al)[4], uint32_t(&al2)[4]) {
            const int j0 = hr0 + gr, j1 = j0 + 8, ua = u0 + 2 * tg;
            const float c0_ = s.ck[u0 / 16][j0], c1_ = s.ck[u0 / 16][j1];
            auto x = [&](int u, int j, float c) { return s.Kh[u * S::LK + j] * c; };
            const float xs[4][2] = {{x(ua, j0, c0_), x(ua + 1, j0, c0_)}, {x(ua, j1, c1_), x(ua + 1, j1, c1_)},
                                    {x(ua + 8, j0, c0_), x(ua + 9, j0, c0_)}, {x(ua + 8, j1, c1_), x(ua + 9, j1, c1_)}};
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                if constexpr (EXACT) split_bf16(xs[e][0], xs[e][1], ah[e], al[e], al2[e]);
                else split_bf16(xs[e][0], xs[e][1], ah[e], al[e]);
            }
        };
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const float d0 = s.dec[hr0 + gr], d1 = s.dec[hr0 + gr + 8];
            Hacc[n][0] *= d0, Hacc[n][1] *= d0, Hacc[n][2] *= d1, Hacc[n][3] *= d1;
        }
        output_tile<S, KS, true, (KS > K), WG>(a, s, b, h, c0, t0, kh);
        // With wgmma and K = 128 each warpgroup's 64 x 64 state tile (warp i: rows 16 i.. of it) takes
        // m64n64k16 products, k~ from registers (this warp's m16n8k16 A fragments) and v from the plane.
        // (Issuing them in q~ H's group, with A v on mma.sync meanwhile, measured slower, 373 -> 384 us at
        // 8x2048: holding every k~ fragment across it spills at 128 registers.)
        if constexpr (K == 128 && NT == 8 && WG && HGRN_HAVE_WGMMA) {
            uint32_t ah[kC / 16][4], al[kC / 16][4], al2[kC / 16][4];
#pragma unroll
            for (int kk = 0; kk < kC / 16; ++kk) split_k(16 * kk, ah[kk], al[kk], al2[kk]);
            const uint32_t vb = smem_u32(s.Vs) + (hc0 / 64) * (kC * 128);  // this tile's 64-column block
            wg::pin(Hacc);
            wg::fence();
#pragma unroll
            for (int kk = 0; kk < kC / 16; ++kk) {
                const uint64_t db = wg::desc_sw128_mn(vb + kk * 16 * 128, kC * 128);
                if constexpr (EXACT) wg::mma_m64n64k16_bf16_rs(Hacc, al2[kk], db);  // small terms first
                wg::mma_m64n64k16_bf16_rs(Hacc, al[kk], db);
                wg::mma_m64n64k16_bf16_rs(Hacc, ah[kk], db);
            }
            wg::commit();
            wg::wait<0>();
            wg::pin(Hacc);
        } else {
#pragma unroll 1
            for (int u0 = 0; u0 < kC; u0 += 16) {
                uint32_t ah[4], al[4], al2[4];
                split_k(u0, ah, al, al2);
#pragma unroll
                for (int n = 0; n < NT; n += 2) {
                    uint32_t vf[4];
                    v_frags(s, u0, hc0 + 8 * n, vf);
#pragma unroll
                    for (int m = 0; m < 2; ++m) {
                        if constexpr (EXACT) mma_bf16(Hacc[n + m], al2, vf[2 * m], vf[2 * m + 1]);  // small first
                        mma_bf16(Hacc[n + m], al, vf[2 * m], vf[2 * m + 1]);
                        mma_bf16(Hacc[n + m], ah, vf[2 * m], vf[2 * m + 1]);
                    }
                }
            }
        }
        __syncthreads();  // every warp is done with Hs, Q, Kh, Vs, A of this chunk
        issue_chunk<S, KS>(a, next, b, h, c0, t0 + kC);  // unconditional (past T: zeros, no loads), so that
                                                        // `next` is dead from store_chunk to here
        // H^T into Hs (SW128: lanes (gr, tg) hit 8 distinct 16-byte chunks x 4 words, no conflicts).
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
            for (int e = 0; e < 4; ++e)
                s.Hs[wg::sw128<BV>(hc0 + 8 * n + 2 * tg + (e & 1), hr0 + gr + (e >= 2 ? 8 : 0))] = __uint_as_float(tf32(Hacc[n][e]));
        wg::fence_proxy_async();
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

// KS / K halves of the full head dim KS (KS = 256: 2, the two blocks of a cluster), else 1.
template <int K, int KS, int BV, bool EXACT, bool WG>
void launch_tile(const FwdArgs& a, int B, cudaStream_t stream) {
    const size_t smem = sizeof(Smem<K, BV>);
    static bool configured = false;  // one attribute call per process and instance (same value every time)
    if (!configured) {
        HGRN_CUDA_CHECK(cudaFuncSetAttribute(gla_chunk_fwd_kernel<K, KS, BV, EXACT, WG>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    const dim3 grid(unsigned(KS / K * (a.V / BV)), unsigned(a.H), unsigned(B));
    if constexpr (KS > K) {  // the two K halves of a V tile as a cluster of 2 CTAs
        cudaLaunchConfig_t cfg{};
        cfg.gridDim = grid;
        cfg.blockDim = dim3(threads_of<BV>);
        cfg.dynamicSmemBytes = smem;
        cfg.stream = stream;
        cudaLaunchAttribute attr{};
        attr.id = cudaLaunchAttributeClusterDimension;
        attr.val.clusterDim.x = 2, attr.val.clusterDim.y = 1, attr.val.clusterDim.z = 1;
        cfg.attrs = &attr;
        cfg.numAttrs = 1;
        HGRN_CUDA_CHECK(cudaLaunchKernelEx(&cfg, gla_chunk_fwd_kernel<K, KS, BV, EXACT, WG>, a));
    } else {
        gla_chunk_fwd_kernel<K, KS, BV, EXACT, WG><<<grid, threads_of<BV>, smem, stream>>>(a);
    }
    HGRN_LAUNCH_CHECK();
}

// Block width: BV = 128 (16 warps, one block per 128 V columns) where those blocks still fill about the
// GPU, else BV = 64. K = 64 always takes 64. HGRN_GLA_FWD_BV=64 / 128 forces it (tests, benchmarks; read on
// every call so that a test can switch it).
int fwd_block_width(const GlaDims& d, int nh) {
    if (d.K == 64 || d.V % 128 != 0) return 64;
    if (const char* e = std::getenv("HGRN_GLA_FWD_BV")) return std::atoi(e) == 128 ? 128 : 64;
    int dev = 0, sms = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    return 4 * d.B * d.H * nh * (d.V / 128) >= 3 * int64_t(sms) ? 128 : 64;
}

template <int K, int KS, int BV>
void launch_bv(const FwdArgs& a, int B, cudaStream_t stream) {
    if (a.wgmma)
        (a.ht || a.hs) ? launch_tile<K, KS, BV, true, true>(a, B, stream) : launch_tile<K, KS, BV, false, true>(a, B, stream);
    else
        (a.ht || a.hs) ? launch_tile<K, KS, BV, true, false>(a, B, stream) : launch_tile<K, KS, BV, false, false>(a, B, stream);
}

template <int K, int KS>
void launch(const FwdArgs& a, int B, int bv, cudaStream_t stream) {
    if constexpr (K == 128)
        if (bv == 128) return launch_bv<K, KS, 128>(a, B, stream);
    launch_bv<K, KS, 64>(a, B, stream);
}

// Split forward (state pass + per-chunk outputs) where the sequential kernel has too few blocks to fill the
// GPU: its blocks (B H V / 64) walk all N chunks in turn, the state pass has 4x as many (K/32 x V/64 tiles
// per head, several per SM) and the output kernel is fully parallel over chunks. HGRN_GLA_FWD_SPLIT=0 / 1
// forces either path (tests, benchmarks); the sequential one needs no scratch.
bool use_split(const GlaDims& d, int nh) {
    if (const char* e = std::getenv("HGRN_GLA_FWD_SPLIT")) return std::atoi(e) != 0;  // read per call (tests)
    int dev = 0, sms = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    // Measured on the H100 (132 SMs), K = V = 128: 32 sequential blocks 3.81 ms vs split 1.74; 128 blocks
    // 1.02 vs 1.46; 256 blocks 0.93 vs 1.39. The split pays below about half an SM per block.
    return d.T > 4 * kC && 2 * d.B * d.H * (d.V / 64) * nh <= int64_t(sms);
}

template <int K, int KS>
void launch_split(const FwdArgs& a, int B, cudaStream_t stream) {
    const size_t smem = sizeof(OutSmemOf<K>);
    static bool configured = false;
    if (!configured) {
        HGRN_CUDA_CHECK(
            cudaFuncSetAttribute(gla_chunk_out_kernel<K, KS>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    const int N = (a.T + kC - 1) / kC;
    float* hbuf = a.hs;  // the caller's chunk states, else scratch
    const size_t nstate = size_t(B) * a.H * size_t(N) * KS * a.V;
    if (!a.hs) hbuf = cuda_scratch_alloc<float>(nstate, stream);
    // States in scratch (not GlaOutputs::states): the output kernel applies the segment correction as it reads
    // them, instead of a pass that rewrites them (1 x 16384 x 16 x 128 on the H100: forward 0.926 -> 0.739 ms).
    SegFixup fix;
    chunk_states_forward(a.k, a.v, a.g, a.h0, hbuf, a.ht, B, a.T, a.H, KS, a.V, stream, a.hs ? nullptr : &fix);
    const dim3 grid(unsigned(N), unsigned(a.H), unsigned(B * (KS / K)));
    gla_chunk_out_kernel<K, KS><<<grid, threads_of<64>, smem, stream>>>(a, hbuf, N, fix);
    HGRN_LAUNCH_CHECK();
    if (fix.scratch) HGRN_CUDA_CHECK(cudaFreeAsync(fix.scratch, stream));
    if (!a.hs) HGRN_CUDA_CHECK(cudaFreeAsync(hbuf, stream));
}

}  // namespace

bool chunk_forward_tc(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out,
                      cudaStream_t stream) {
    const bool bf16_io = in.q.dtype() == DType::bf16 && in.v.dtype() == DType::bf16 &&
                         out.o.dtype() == DType::bf16 && (in.k.empty() || in.k.dtype() == DType::bf16);
    if (!bf16_io || (d.K != 64 && d.K != 128 && d.K != 256) || d.V % 64 != 0) return false;
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
    a.hs = f32_out(out.states, "states");
    a.T = int(d.T), a.H = int(d.H), a.V = int(d.V);
    a.scale = scale;
    const char* wge = std::getenv("HGRN_GLA_FWD_WGMMA");  // read per call (tests)
    a.wgmma = !(wge && std::atoi(wge) == 0);
    int dev = 0, optin = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (size_t(optin) < (d.K == 64 ? sizeof(Smem<64, 64>) : sizeof(Smem<128, 64>))) return false;  // e.g. sm_80
    const int B = int(d.B);
    if (d.K == 64) {
        use_split(d, 1) ? launch_split<64, 64>(a, B, stream) : launch<64, 64>(a, B, 64, stream);
        return true;
    }
    // K = 256: the K = 128 kernels on the two 128-column halves of q, k, g (rows of the state). Sequential:
    // the halves of a V tile are a cluster and sum o on chip. Split: each half writes an fp32 partial of o,
    // then o = bf16(sum of the two).
    const int nh = int(d.K / 128);
    const int64_t no = d.B * d.T * d.H * d.V;
    int bv = fwd_block_width(d, nh);
    if (bv == 128 && size_t(optin) < sizeof(Smem<128, 128>)) bv = 64;
    const bool split = use_split(d, nh);
    int cc = 0;
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&cc, cudaDevAttrComputeCapabilityMajor, dev));
    if (nh > 1 && !split && cc < 9) return false;  // the cluster pair needs sm_90
    if (nh > 1 && split) a.o32 = cuda_scratch_alloc<float>(nh * no, stream);
    if (nh > 1)
        split ? launch_split<128, 256>(a, B, stream) : launch<128, 256>(a, B, bv, stream);
    else
        split ? launch_split<128, 128>(a, B, stream) : launch<128, 128>(a, B, bv, stream);
    if (nh > 1 && split) {
        gla_sum_halves_kernel<<<unsigned(std::min<int64_t>((no / 4 + 255) / 256, 4096)), 256, 0, stream>>>(a.o32, a.o, no);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(a.o32, stream));
    }
    return true;
}

}  // namespace hgrn::gla_cuda
