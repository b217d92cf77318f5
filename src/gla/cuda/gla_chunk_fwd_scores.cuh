// gla_chunk_fwd_scores.cuh — the chunkwise forward's intra-chunk scores A[t][u] = s sum_j q^_tj k^_uj 2^{r_i - r_b}
// (factored, TF32 products over 16-row block pairs) or, in chunks whose decay spans more than 2^100, exactly from G;
// stored as bf16 hi / lo planes, at once (Smem) or held in registers until every warp is done (OutSmem).
// Part of gla_chunk_fwd.cu, included by it alone (after gla_chunk_fwd_load.cuh).
#pragma once

#include "gla/cuda/gla_chunk_fwd_load.cuh"

namespace hgrn::gla_cuda {
namespace {

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

}  // namespace
}  // namespace hgrn::gla_cuda
