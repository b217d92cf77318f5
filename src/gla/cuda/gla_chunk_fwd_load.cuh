// gla_chunk_fwd_load.cuh — the chunkwise forward's kernel arguments, shared-memory layouts (Smem: the sequential
// kernel's and the split path's BV = 64 output kernel at K = 64; OutSmem: the output kernel at K = 128, its tiles in
// the space of q^ / k^) and the loads of a chunk's q, k, g and v tile into them.
// Part of gla_chunk_fwd.cu, included by it alone (its device code lives in that file's anonymous namespace).
#pragma once

#include <cstdint>
#include <type_traits>

#include "gla/cuda/gla_cuda_common.cuh"
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

}  // namespace
}  // namespace hgrn::gla_cuda
