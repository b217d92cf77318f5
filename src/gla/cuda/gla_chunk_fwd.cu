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
// Files: gla_chunk_fwd_load.cuh (arguments, shared-memory layouts, chunk loads), gla_chunk_fwd_scores.cuh (the
// scores), gla_chunk_fwd_tile.cuh (a chunk's prologue and output tile); here the kernels and their launch.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"
#include "gla/cuda/gla_chunk_fwd_tile.cuh"  // (with gla_chunk_fwd_scores.cuh, gla_chunk_fwd_load.cuh)
#include "gla/cuda/gla_mma.cuh"
#include "gla/cuda/gla_wgmma.cuh"

namespace hgrn::gla_cuda {
namespace {

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
    const int sms = sm_count();
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
    const int sms = sm_count();
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
