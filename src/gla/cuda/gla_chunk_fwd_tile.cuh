// gla_chunk_fwd_tile.cuh — one chunk of the chunkwise forward: its prologue (cumsum of g, the wide-span test,
// q^ / k^ / q~ and the column scales, then the scores) and the output tile o = s q~ H + A v (wgmma or mma.sync;
// the K = 256 halves summed through the cluster's shared memory); the arguments of a K half.
// Part of gla_chunk_fwd.cu, included by it alone (after gla_chunk_fwd_scores.cuh).
#pragma once

#include "gla/cuda/gla_chunk_fwd_scores.cuh"

namespace hgrn::gla_cuda {
namespace {

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

}  // namespace
}  // namespace hgrn::gla_cuda
