// gla_chunk_bwd.cu — chunkwise GLA backward on tensor cores (mma.sync TF32 and bf16, sm_80 and later), fla's split
// (SPEC.md §4.2, docs/gla_math.md §5-§8) in two steps:
//   1. the state pass (gla_state_pass.cu): the chunk states H_n and the state gradients D_n, fp32, into
//      scratch (H_n taken from GlaInputs::states when the forward saved them), and dh0. With saved H_n and
//      few heads, the D pass runs in segments and step 2 completes each D_n tile as it loads it (SegFixup).
//   2. gla_bwd_chunk_kernel: one block of 16 warps (8 at K = 64, two blocks per SM) per (chunk, head, sequence),
//      all chunks in parallel. It recomputes G and the intra scores A, then walks V in tiles of 64 columns (32 at
//      K = 64) of v, dout, H_n, D_n: dA, dq^inter = s 2^G (dO H^T), dk^inter = 2^{Gamma-G} (v D^T) with
//      rowsum(H . D) from the same reads, and the dv tile
//      (A^T dO + k~ D), written at once; then dq^strict / dk^strict from dA, and dq, dk, dg with the
//      cancellation-free grouping of docs/gla_math.md §6.3 (diagonal terms kept out of dg):
//        dg_t = revcumsum(q (dq^inter + dq^strict) - k dk^strict)_t + excl. cumsum(k dk^inter)_t
//               + 2^Gamma rowsum(H_n . D_n)   [ - exp(g_t) dk_t in the fused form k = 1 - exp(g) ].
// Stability without clamping: as the forward (gla_chunk_fwd.cu), reference rows r_b at the start of each
// 16-row block give factors 2^{G - r_b} <= 1 and 2^{r_b - G} <= 2^100; a chunk whose blocks span more than
// 2^100 (log f below about -4.3 per step) takes exact elementwise paths (every exponent G_t - G_u <= 0).
// Precision: everything that feeds dg (fp32 output) is fp32-accurate: products with an fp32 operand on both
// sides use three TF32 products (hi hi + hi lo + lo hi); with one bf16 side (dO H^T, v D^T) the bf16 tiles
// meet the fp32 state split into bf16 hi + lo + lo2 (three m16n8k16 products, exact operands); dA = dO v^T is
// one exact bf16 product; dv (bf16 output) and A use one TF32 product. Covered: bf16 q/k/v/dout/dq/dk/dv, fp32 g/dg/states, K in {64, 128, 256}, V % 64 == 0.
// Non-finite inputs: the TF32 operands are rounded without cvt.rna's inf / NaN guard (gla_mma.cuh tf32_fast), so
// each block checks its q, k, g, v, dout and states and, if any holds inf / NaN, writes NaN to all its gradients
// (a superset of the elements the exact math makes non-finite).
// K = 256: the state pass runs as is (K/32 row tiles); the per-chunk kernel runs the K = 128 instance on the
// two 128-column halves (A, dv, dq^strict, ... are sums or column slices over K): dq, dk, dg of each half
// are exact slices, dv is the sum of the halves' fp32 partials (summed into bf16 by a last small kernel).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"
#include "gla/cuda/gla_mma.cuh"
#include "gla/cuda/gla_state_pass.cuh"

namespace hgrn::gla_cuda {
namespace {

using mma::warp_mma;

// ---------------------------------------------------------------------------------------------------------
// Per-chunk gradients (the state pass is gla_state_pass.cu).
// Warps per block: 16 at K >= 128 (two per scheduler was too few to hide the latencies of this long,
// barrier-separated kernel; 16 halve each warp's accumulators, so 128 registers suffice), 8 at K = 64 (its
// dq/dk strips would be narrower than one 8-column MMA tile).
template <int K>
constexpr int warps_of = K >= 128 ? 16 : 8;
// V columns per tile: 64 at K >= 128; 32 at K = 64, where the smaller tiles bring the block to <= 113 KB of
// shared memory and two blocks share an SM (16 warps, as at K = 128).
template <int K>
constexpr int tile_v_of = K >= 128 ? 64 : 32;
template <int K>
constexpr int blocks_per_sm_of = K >= 128 ? 1 : 2;

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
    static constexpr int TV = tile_v_of<K>;
    static constexpr int LQ = K + 4, LT = kC + 4;
    static constexpr int L16 = TV + 8;  // row stride of the bf16 v / dout tiles (16-byte rows for ldmatrix)
    static constexpr int LS = TV + 8;   // row stride of the H_n / D_n tiles (= 8 mod 32 words: the strips' float2
                                        // reads and the k~ D fragment reads are free of bank conflicts)
    float G[kC * LQ];    // cumsum of g (log2 units)
    float Q[kC * LQ];    // q^ = q 2^{G - r_b} (raw q in wide chunks); dk^strict (factored) after the V loop
    float Kh[kC * LQ];   // k^ = k 2^{r_b - G} (raw k in wide chunks); dq^strict (factored), then W, after it
    float A[kC * LT];    // cumsum part totals; s-scaled scores (transposed: A[t][u] at u LT + t), then dA (strictly
                         // lower; the diagonal in dAd); dg part sums
    // U, in the V loop: the bf16 v and dout tiles (kC x L16 each) and the fp32 H_n and D_n tiles (K x LS each);
    // after it: X and Y (kC x LQ each).
    static constexpr int kLoopU = kC * L16 + 2 * K * LS, kEpiU = 2 * kC * LQ;
    float U[kLoopU > kEpiU ? kLoopU : kEpiU];
    float ck[4][K];      // 2^{Gamma - r_b}
    float cib[6][K];     // 2^{r_i - r_b}, b < i
    float R[K];          // rowsum(H_n . D_n)
    float dAd[kC];       // dA[t][t]
    __device__ __nv_bfloat16* Vt16() { return reinterpret_cast<__nv_bfloat16*>(U); }
    __device__ __nv_bfloat16* dOt16() { return Vt16() + kC * L16; }
    __device__ float* Ht() { return U + kC * L16; }  // after the two bf16 tiles (kC x L16 halves each)
    __device__ float* Dt() { return Ht() + K * LS; }
    __device__ float* X() { return U; }
    __device__ float* Y() { return U + kC * LQ; }
    static_assert(2 * 32 * warps_of<K> <= kC * LT, "cumsum / dg part sums in A");
    static_assert((kC * L16 * 4) % 16 == 0 && (LS * 4) % 16 == 0, "16-byte rows for cp.async");
};
static_assert(2 * (sizeof(BSmem<64>) + 1024) <= 228 * 1024, "K = 64: two blocks per SM");

// The K x TV tiles (columns c0..) of H_n and D_n into Ht, Dt (asynchronous; cp_async_wait_all before use).
template <int K>
__device__ __forceinline__ void issue_state_tiles(float* Ht, float* Dt, const float* hp, const float* dp, int V) {
    constexpr int LS = BSmem<K>::LS, TV = tile_v_of<K>, Q4 = TV / 4;
#pragma unroll
    for (int i = 0; i < K * Q4 / (32 * warps_of<K>); ++i) {
        const int idx = threadIdx.x + i * 32 * warps_of<K>, j = idx / Q4, c = 4 * (idx % Q4);
        cp_async16(Ht + j * LS + c, hp + int64_t(j) * V + c);
        cp_async16(Dt + j * LS + c, dp + int64_t(j) * V + c);
    }
}

// NaN into every gradient of the chunk's rows t0.. (this K half's columns of dq, dk, dg; dv or its fp32 partial).
template <int K, int KS>
__device__ void poison_chunk(const BwdArgs& a, int b, int h, int t0) {
    const int rows = min(kC, a.T - t0);
    const float nan = __int_as_float(0x7fffffff);
    const __nv_bfloat16 nan16 = __float2bfloat16(nan);
    for (int i = threadIdx.x; i < rows * K; i += blockDim.x) {
        const int64_t o = ((int64_t(b) * a.T + t0 + i / K) * a.H + h) * KS + i % K;
        a.dq[o] = nan16, a.dg[o] = nan;
        if (a.dk) a.dk[o] = nan16;
    }
    for (int i = threadIdx.x; i < rows * a.V; i += blockDim.x) {
        const int64_t o = ((int64_t(b) * a.T + t0 + i / a.V) * a.H + h) * a.V + i % a.V;
        if constexpr (KS > K) a.dv32[o] = nan;
        else a.dv[o] = nan16;
    }
}

// FIX: the D_n in dbuf lack their segment correction (fix: a segmented D pass, the H_n saved by the forward).
// (fix is a parameter of its own: grown by it, BwdArgs changed how nvcc compiled the whole kernel, 3% slower.)
// FUSED: k = 1 - exp(g) (a.k null), a template parameter so that neither form carries the other's selects.
template <int K, int KS, bool FIX, bool FUSED>
__global__ void __launch_bounds__(32 * warps_of<K>, blocks_per_sm_of<K>) gla_bwd_chunk_kernel(BwdArgs a, SegFixup fix) {
    using S = BSmem<K>;
    // NCH column groups of warps: dA's kC columns in CA-column strips (NA8 MMA tiles), a V tile's TV columns
    // in CV-column strips (NV8 tiles), the strict terms' K columns in KH-column strips (NT tiles);
    // dq^inter / dk^inter: KW columns a warp (NS2 tiles).
    constexpr int NW = warps_of<K>, kThreads = 32 * NW, NCH = NW / 4, TV = S::TV;
    constexpr int CA = kC / NCH, NA8 = CA / 8, CV = TV / NCH, NV8 = CV / 8;
    constexpr int LQ = S::LQ, LT = S::LT, L16 = S::L16, LS = S::LS, KH = K / NCH, NT = KH / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    S& s = *reinterpret_cast<S*>(smem_raw);
    __nv_bfloat16* const Vt16 = s.Vt16();
    __nv_bfloat16* const dOt16 = s.dOt16();
    float* const Ht = s.Ht();
    float* const Dt = s.Dt();
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
    constexpr bool fused = FUSED;
    auto row = [&](int t) { return (int64_t(b) * a.T + t) * a.H + h; };
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    const int64_t hbase = (int64_t(b) * a.H + h) * a.N + n;
    // FIX: the segment correction of this chunk's D_n (rows of this K half), if its segment needs one.
    const float *fdx = nullptr, *fdp = nullptr;
    const bool fixup = FIX && seg_fixup_of(fix, 0, b * a.H + h, n, true, KS, a.V, fdx, fdp);
    if (fixup) fdx += int64_t(kh) * K * a.V, fdp += kh * K;
    // The first V tile of H_n and D_n streams in while the chunk's scores are formed (Ht, Dt are free).
    issue_state_tiles<K>(Ht, Dt, a.hbuf + hbase * KS * a.V, a.dbuf + hbase * KS * a.V, a.V);
    // The v and dout tiles (kC x TV bf16) travel through registers: each is loaded one step ahead (the first
    // now, the next during the current tile's dv), so their latency hides behind the work in between.
    constexpr int NVL = kC * TV / 8 / kThreads;
    static_assert(NVL * 8 * kThreads == kC * TV, "v / dout tile loads");
    uint4 rv[NVL], rd[NVL];
    const auto load_vd = [&](int c0) {
#pragma unroll
        for (int i = 0; i < NVL; ++i) {
            const int idx = tid + i * kThreads, t = idx / (TV / 8), c = 8 * (idx % (TV / 8)), tt = t0 + t;
            rv[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.v + row(tt) * a.V + c0 + c)) : z4;
            rd[i] = tt < a.T ? __ldg(reinterpret_cast<const uint4*>(a.dout + row(tt) * a.V + c0 + c)) : z4;
        }
    };
    load_vd(0);

    // Non-finite inputs: the products below round their TF32 operands with tf32_fast, which can turn a NaN into
    // -0; a chunk whose q, k, g, v, dout or states hold inf / NaN gets NaN in all its gradients instead (at the end).
    // q, k, g are checked as loaded; v and dout through dA = dO v^T (dA[t][t] = <dO_t, v_t> is non-finite when
    // either row holds an inf / NaN: a NaN or inf times anything, 0 included, is non-finite); H_n, D_n through
    // rowsum(H_n . D_n).
    uint32_t bad = 0;
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
            bad |= nonfinite_bf16x8(rq[i]) | nonfinite_bf16x8(rk[i]);
            unpack8(rq[i], s.Q + t * LQ + j);
            if (!fused) unpack8(rk[i], s.Kh + t * LQ + j);
        }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + i * kThreads, t = idx / (K / 4), j = 4 * (idx % (K / 4));
            const float4 gv = rg[i];  // 16-byte stores (rows of LQ floats are 16-byte aligned)
            bad |= nonfinite_f32x4(gv);
            *reinterpret_cast<float4*>(s.G + t * LQ + j) = make_float4(gv.x * kLog2e, gv.y * kLog2e, gv.z * kLog2e, gv.w * kLog2e);
            if (fused)
                *reinterpret_cast<float4*>(s.Kh + t * LQ + j) =
                    make_float4(one_minus_exp(gv.x), one_minus_exp(gv.y), one_minus_exp(gv.z), one_minus_exp(gv.w));
        }
    }
    __syncthreads();
    // Inclusive cumsum of G over the 64 rows, per column: thread (j, p) scans the 16-row block p in registers. A block
    // spanning more than kMaxSpan makes the chunk wide; otherwise the same thread scales its q and k elements to
    // q^ = q 2^{G - r_b}, k^ = k 2^{r_b - G} from the G it holds (exponents within [-kMaxSpan, kMaxSpan]).
    static_assert(kThreads / K == 4, "one 16-row block per thread of a column");
    const int jc = tid % K, pc = tid / K;
    float gx[16];
    bool wide_local;
    {
#pragma unroll
        for (int i = 0; i < 16; ++i) gx[i] = s.G[(16 * pc + i) * LQ + jc];
#pragma unroll
        for (int i = 1; i < 16; ++i) gx[i] += gx[i - 1];
        s.A[pc * K + jc] = gx[15];
        __syncthreads();
        float off = 0;
        for (int pp = 0; pp < pc; ++pp) off += s.A[pp * K + jc];
#pragma unroll
        for (int i = 0; i < 16; ++i) {
            gx[i] += off;
            s.G[(16 * pc + i) * LQ + jc] = gx[i];
        }
        wide_local = gx[0] - gx[15] > kMaxSpan;
    }
    const bool wide = __syncthreads_or(wide_local);
    // Intra scores A (s included, zero for u > t), stored transposed (A[t][u] at u LT + t: the A operand of dv's
    // A^T dO, read by ldmatrix).
    if (wide) {
        for (int idx = tid; idx < kC * kC; idx += kThreads) {
            const int u = idx / kC, t = idx % kC;
            float acc = 0;
            if (u <= t)
                #pragma unroll 1
                for (int j = 0; j < K; ++j)
                    acc += s.Q[t * LQ + j] * s.Kh[u * LQ + j] * exp2f(s.G[t * LQ + j] - s.G[u * LQ + j]);
            s.A[u * LT + t] = acc * a.scale;
        }
    } else {
#pragma unroll
        for (int i = 0; i < 16; ++i) {
            const int t = 16 * pc + i;
            s.Q[t * LQ + jc] *= exp2_fast(gx[i] - gx[0]);
            s.Kh[t * LQ + jc] *= exp2_fast(gx[0] - gx[i]);
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
            float acc[2][4] = {};
            // One TF32 product, the fragments of q^ (rows 16 i..) and k^ (rows 16 bb.., as B's columns) by
            // ldmatrix; off the diagonal q^ rescaled by 2^{r_i - r_b} per column k.
            const float* cs = bb < i ? s.cib[pair_index(i, bb)] : nullptr;
#pragma unroll 4
            for (int k = 0; k < K; k += 8) {
                uint32_t qa[4], kb[4];
                mma::ldsm_f32_16x8(qa, s.Q, LQ, 16 * i, k);
                mma::ldsm_f32_16x8(kb, s.Kh, LQ, 16 * bb, k);
                const float c0 = cs ? cs[k + tg] : 1.f, c1 = cs ? cs[k + tg + 4] : 1.f;
                const auto f = [](uint32_t x) { return __uint_as_float(x); };
                const uint32_t a0 = mma::tf32_fast(f(qa[0]) * c0), a1 = mma::tf32_fast(f(qa[1]) * c0);
                const uint32_t a2 = mma::tf32_fast(f(qa[2]) * c1), a3 = mma::tf32_fast(f(qa[3]) * c1);
                mma::mma(acc[0], a0, a1, a2, a3, mma::tf32_fast(f(kb[0])), mma::tf32_fast(f(kb[2])));
                mma::mma(acc[1], a0, a1, a2, a3, mma::tf32_fast(f(kb[1])), mma::tf32_fast(f(kb[3])));
            }
#pragma unroll
            for (int nn = 0; nn < 2; ++nn)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int t = 16 * i + gr + 8 * (e >> 1), u = 16 * bb + 8 * nn + 2 * tg + (e & 1);
                    s.A[u * LT + t] = u <= t ? acc[nn][e] * a.scale : 0.f;
                }
        }
        for (int idx = tid; idx < kC * kC; idx += kThreads) {
            const int u = idx / kC, t = idx % kC;
            if (u / 16 > t / 16) s.A[u * LT + t] = 0.f;
        }
    }
    __syncthreads();

    // V tiles: dA, dq^inter, dk^inter, rowsum(H . D), dv.
    // dq^inter / dk^inter: warp w owns columns w * KW .. (all 64 rows), so each state element is split once.
    constexpr int KW = K / NW, NS2 = KW / 8;
    float dqI[4][NS2][4] = {}, dkI[4][NS2][4] = {}, dA[NA8][4] = {}, rsum[NS2] = {};
    for (int c0 = 0; c0 < a.V; c0 += TV) {
        {
            if (c0 > 0) issue_state_tiles<K>(Ht, Dt, a.hbuf + hbase * KS * a.V + c0, a.dbuf + hbase * KS * a.V + c0, a.V);
#pragma unroll
            for (int i = 0; i < NVL; ++i) {
                const int idx = tid + i * kThreads, t = idx / (TV / 8), c = 8 * (idx % (TV / 8));
                *reinterpret_cast<uint4*>(Vt16 + t * L16 + c) = rv[i];
                *reinterpret_cast<uint4*>(dOt16 + t * L16 + c) = rd[i];
            }
            if (fixup) {  // X_s and p_n loaded while the tile lands (issue_state_tiles' element mapping)
                SegTileFix<K, TV, kThreads> f;
                f.load(fdx, fdp, c0, a.V);
                cp_async_wait_all();
                f.apply(Dt, LS);
            } else {
                cp_async_wait_all();
            }
        }
        __syncthreads();
        // dA[t][u] (unscaled) = <dO_t, v_u>: rows 16 rb, columns CA ch (none above the diagonal blocks); dout
        // and v are bf16: one exact bf16 product.
        if (CA * ch <= 16 * rb + 15) mma::warp_mma_bf16_abt<NA8>(dA, 0, TV, dOt16, L16, 16 * rb, Vt16, L16, CA * ch);
        // dq^inter (without s 2^G) = dO H^T and dk^inter (without 2^{Gamma-G}) = v D^T: bf16 A, the fp32 states
        // split into bf16 hi + lo + lo2; with them this lane's part of rowsum(H_n . D_n) over the warp's rows.
        mma::warp_mma_strip2_bf16<4, NS2>(dqI, dkI, rsum, 0, TV, dOt16, Vt16, L16, Ht, Dt, LS, w * KW);
        if (c0 + TV < a.V) load_vd(c0 + TV);  // stored at the top of the next step
        // dv tile: rows u in 16 rb.., columns CV ch..: sum_{t >= u} A[t][u] dO_t + k~_u D.
        float dv[NV8][4] = {};
#pragma unroll 2
        for (int k = 16 * rb; k < kC; k += 8) {  // A^T dO: A^T rows 16 rb.. by ldmatrix (A stored transposed), dO exact
            uint32_t af[4];
            mma::ldsm_f32_16x8(af, s.A, LT, 16 * rb, k);
#pragma unroll
            for (int e = 0; e < 4; ++e) af[e] = mma::tf32_fast(__uint_as_float(af[e]));
            const __nv_bfloat16* ob = dOt16 + (k + tg) * L16 + CV * ch + gr;
#pragma unroll
            for (int nn = 0; nn < NV8; ++nn)
                mma::mma(dv[nn], af, __float_as_uint(__bfloat162float(ob[8 * nn])),
                         __float_as_uint(__bfloat162float(ob[4 * L16 + 8 * nn])));
        }
        // (wide is the same for the whole block: tested once, not per fragment element)
        const auto fd = [&](int k, int c) { return Dt[k * LS + CV * ch + c]; };
        if (wide) {
            warp_mma<mma::kTF32, NV8>(
                dv, 0, K,
                [&](int r, int k) {
                    const int u = 16 * rb + r;
                    return s.Kh[u * LQ + k] * exp2f(s.G[(kC - 1) * LQ + k] - s.G[u * LQ + k]);
                },
                fd);
        } else {  // warp_mma<kTF32> written out: k^ by ldmatrix, the rest at fixed offsets from two row pointers
            // A(r, k) = k^[16 rb + r][k] 2^{Gamma - r_b} (the factor per column), B(k, c) = D[k][CV ch + c]
            const float* ca = s.ck[rb] + tg;
            const float* db = Dt + tg * LS + CV * ch + gr;
#pragma unroll 4
            for (int k = 0; k < K; k += 8) {
                uint32_t ka[4];
                mma::ldsm_f32_16x8(ka, s.Kh, LQ, 16 * rb, k);
                const float c0 = ca[k], c1 = ca[k + 4];
                const uint32_t a0 = mma::tf32_fast(__uint_as_float(ka[0]) * c0);
                const uint32_t a1 = mma::tf32_fast(__uint_as_float(ka[1]) * c0);
                const uint32_t a2 = mma::tf32_fast(__uint_as_float(ka[2]) * c1);
                const uint32_t a3 = mma::tf32_fast(__uint_as_float(ka[3]) * c1);
#pragma unroll
                for (int nn = 0; nn < NV8; ++nn)
                    mma::mma(dv[nn], a0, a1, a2, a3, mma::tf32_fast(db[k * LS + 8 * nn]), mma::tf32_fast(db[(k + 4) * LS + 8 * nn]));
            }
        }
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
    // rowsum(H_n . D_n): the four lanes of a row (tg) hold disjoint columns.
#pragma unroll
    for (int nn = 0; nn < NS2; ++nn) {
        float r = rsum[nn];
        r += __shfl_xor_sync(0xffffffffu, r, 1);
        r += __shfl_xor_sync(0xffffffffu, r, 2);
        bad |= nonfinite_f32(r);  // a non-finite H_n or D_n element makes its row's sum non-finite
        if (tg == 0) s.R[w * KW + 8 * nn + gr] = r;
    }
    // dq^inter, dk^inter (unscaled) into X, Y (over the tiles, free now).
    float* X = s.X();  // dq^inter, then q (dq^inter + dq^strict) - k dk^strict
    float* Y = s.Y();  // dk^inter, then k dk^inter
#pragma unroll
    for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int nn = 0; nn < NS2; ++nn)
#pragma unroll
            for (int e = 0; e < 4; e += 2) {
                const int t = 16 * m + gr + 8 * (e >> 1), j = w * KW + 8 * nn + 2 * tg;
                *reinterpret_cast<float2*>(X + t * LQ + j) = make_float2(dqI[m][nn][e], dqI[m][nn][e + 1]);
                *reinterpret_cast<float2*>(Y + t * LQ + j) = make_float2(dkI[m][nn][e], dkI[m][nn][e + 1]);
            }
    // dA (s included) into A: strictly lower part; the diagonal apart.
#pragma unroll
    for (int nn = 0; nn < NA8; ++nn)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int t = 16 * rb + gr + 8 * (e >> 1), u = CA * ch + 8 * nn + 2 * tg + (e & 1);
            const float val = dA[nn][e] * a.scale;
            bad |= nonfinite_f32(val);  // v and dout: each row meets the other's on dA's diagonal
            s.A[t * LT + u] = u < t ? val : 0.f;
            if (u == t) s.dAd[t] = val;
        }
    __syncthreads();

    // The epilogue's rows of q, g (and k): thread tid takes columns j0, j0 + 1 of rows tr0 + TS i, i < ER. All are
    // loaded here, so that their latency hides behind the strict products.
    constexpr int TS = kThreads / (K / 2), ER = kC / TS;
    const int j0 = 2 * (tid % (K / 2)), tr0 = tid / (K / 2);
    const int64_t step = int64_t(TS) * a.H * KS, off0 = row(t0 + tr0) * KS + j0;
    __nv_bfloat162 qe[ER], ke[ER];
    float2 ge[ER];
#pragma unroll
    for (int i = 0; i < ER; ++i) {
        const bool in = t0 + tr0 + TS * i < a.T;
        const int64_t o = off0 + step * i;
        qe[i] = in ? *reinterpret_cast<const __nv_bfloat162*>(a.q + o) : __nv_bfloat162{};
        ge[i] = in ? *reinterpret_cast<const float2*>(a.g + o) : make_float2(0.f, 0.f);
        ke[i] = in && !fused ? *reinterpret_cast<const __nv_bfloat162*>(a.k + o) : __nv_bfloat162{};
    }
    // dq^strict[t] = sum_{u < t} dA[t][u] k_u 2^{G_t - G_u} (factored: relative to r_b of t's block) into Kh,
    // dk^strict[u] = sum_{t > u} dA[t][u] q_t 2^{G_t - G_u} (relative to r_b of u's block) into Q (wide chunks:
    // exact sums, unfactored).
    float* const Zq = s.Kh;
    float* const Zk = s.Q;
    float* const W = s.Kh;  // -exp(g) dk (fused), else 0: each thread's W elements replace its Zq elements
    if (!wide) {
        float aq[NT][4] = {}, ak[NT][4] = {};
        // The block pair's column factors 2^{r_i - r_b} (none on the diagonal block) scale B per column.
        const int jb = ch * KH;
        const auto fq = [&](int r, int k) { return s.A[(16 * rb + r) * LT + k]; };
        const auto fkh = [&](int k, int c) { return s.Kh[k * LQ + jb + c]; };
        for (int bb = 0; bb < rb; ++bb) {
            const float* cs = s.cib[pair_index(rb, bb)] + jb;
            warp_mma<mma::kSplit3>(aq, 16 * bb, 16 * bb + 16, fq, fkh, [&](int c) { return cs[c]; });
        }
        warp_mma<mma::kSplit3>(aq, 16 * rb, 16 * rb + 16, fq, fkh);
        const auto fk = [&](int r, int k) { return s.A[k * LT + 16 * rb + r]; };
        const auto fqh = [&](int k, int c) { return s.Q[k * LQ + jb + c]; };
        warp_mma<mma::kSplit3>(ak, 16 * rb, 16 * rb + 16, fk, fqh);
        for (int ii = rb + 1; ii < 4; ++ii) {
            const float* cs = s.cib[pair_index(ii, rb)] + jb;
            warp_mma<mma::kSplit3>(ak, 16 * ii, 16 * ii + 16, fk, fqh, [&](int c) { return cs[c]; });
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
    } else {  // exact elementwise sums (raw q, k in Q, Kh), held in registers until every read of Q, Kh is done
        constexpr int NE = kC * K / kThreads;
        float zq[NE], zk[NE];
#pragma unroll
        for (int i = 0; i < NE; ++i) {
            const int idx = tid + i * kThreads, t = idx / K, j = idx % K;
            const float Gt = s.G[t * LQ + j];
            float x = 0, y = 0;
            #pragma unroll 1
            for (int u = 0; u < t; ++u) x += s.A[t * LT + u] * s.Kh[u * LQ + j] * exp2f(Gt - s.G[u * LQ + j]);
            #pragma unroll 1
            for (int u = t + 1; u < kC; ++u) y += s.A[u * LT + t] * s.Q[u * LQ + j] * exp2f(s.G[u * LQ + j] - Gt);
            zq[i] = x, zk[i] = y;
        }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < NE; ++i) {
            const int idx = tid + i * kThreads, t = idx / K, j = idx % K;
            Zq[t * LQ + j] = zq[i], Zk[t * LQ + j] = zk[i];
        }
    }
    __syncthreads();
    // dq, dk and the dg terms, elementwise (two columns a thread per step, the rows loaded above):
    //   dq = s 2^G dq^inter + dq^strict + dA_tt k,   dk = 2^{Gamma-G} dk^inter + dk^strict + dA_tt q,
    //   X = q (s 2^G dq^inter + dq^strict) - k dk^strict,   Y = k 2^{Gamma-G} dk^inter,   W = -exp(g) dk
    //   (exp(g) the one one_minus_exp forms for k, by ex2.approx).
#pragma unroll
    for (int i = 0; i < ER; ++i) {
        const int t = tr0 + TS * i;
        const int64_t off = off0 + step * i;
        const int tt = t0 + t, r = (t / 16) * 16;
        if (tt >= a.T) {
            *reinterpret_cast<float2*>(X + t * LQ + j0) = make_float2(0.f, 0.f);
            *reinterpret_cast<float2*>(Y + t * LQ + j0) = make_float2(0.f, 0.f);
            *reinterpret_cast<float2*>(W + t * LQ + j0) = make_float2(0.f, 0.f);
            continue;
        }
        const float2 qv = __bfloat1622float2(qe[i]);
        const float2 gv = ge[i];
        float fg[2] = {1.f, 1.f};  // exp(g) (fused form)
        const float2 kv =
            fused ? make_float2(one_minus_exp(gv.x, fg[0]), one_minus_exp(gv.y, fg[1])) : __bfloat1622float2(ke[i]);
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
            const float dqp = a.scale * exp2_fast(Gt) * (x ? gi.y : gi.x) + (wide ? 1.f : exp2_fast(Gt - Gr)) * (x ? zq.y : zq.x);
            const float dki = exp2_fast(Gam - Gt) * (x ? ki.y : ki.x);
            const float dks = (wide ? 1.f : exp2_fast(Gr - Gt)) * (x ? zk.y : zk.x);
            dq[x] = dqp + dAd * kx;
            dk[x] = dki + dks + dAd * qx;
            xo[x] = qx * dqp - kx * dks;
            yo[x] = kx * dki;
            wo[x] = fused ? -fg[x] * dk[x] : 0.f;
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
        float ax = 0, ey = exp2_fast(s.G[(kC - 1) * LQ + j]) * s.R[j];
        for (int pp = 0; pp < P; ++pp) {
            if (pp > p) ax += s.A[pp * K + j];
            if (pp < p) ey += s.A[(P + pp) * K + j];
        }
        for (int t = p * RR; t < (p + 1) * RR; ++t) {
            W[t * LQ + j] += ey;
            ey += Y[t * LQ + j];
        }
        float* dgp = a.dg + row(t0 + (p + 1) * RR - 1) * KS + j;
        const int64_t dstep = int64_t(a.H) * KS;
        for (int t = (p + 1) * RR - 1; t >= p * RR; --t, dgp -= dstep) {
            ax += X[t * LQ + j];
            if (t0 + t < a.T) *dgp = ax + W[t * LQ + j];
        }
    }
    if (__syncthreads_or(bad != 0)) poison_chunk<K, KS>(a, b, h, t0);
}

template <int K, int KS, bool FIX, bool FUSED>
bool launch_chunk(const BwdArgs& a, const SegFixup& fix, int B, cudaStream_t stream) {
    const size_t smem = sizeof(BSmem<K>);
    int dev = 0, optin = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (size_t(optin) < smem) return false;
    const auto kernel = gla_bwd_chunk_kernel<K, KS, FIX, FUSED>;
    static bool configured = false;
    if (!configured) {
        HGRN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        HGRN_CUDA_CHECK(
            cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, int(cudaSharedmemCarveoutMaxShared)));
        configured = true;
    }
    kernel<<<dim3(unsigned(a.N), unsigned(a.H), unsigned(B * (KS / K))), 32 * warps_of<K>, smem, stream>>>(a, fix);
    HGRN_LAUNCH_CHECK();
    return true;
}
// The instance: FIX where the D_n lack their segment correction, FUSED where k is absent.
template <int K, int KS, bool FIX>
bool launch_chunk(const BwdArgs& a, const SegFixup& fix, int B, cudaStream_t stream) {
    return a.k ? launch_chunk<K, KS, FIX, false>(a, fix, B, stream) : launch_chunk<K, KS, FIX, true>(a, fix, B, stream);
}
template <int K, int KS>
bool launch_chunk(const BwdArgs& a, const SegFixup& fix, int B, cudaStream_t stream) {
    return fix.x ? launch_chunk<K, KS, true>(a, fix, B, stream) : launch_chunk<K, KS, false>(a, fix, B, stream);
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
    float* scratch = cuda_scratch_alloc<float>((saved ? 1 : 2) * nstate, stream);

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
    // The D pass alone (H_n saved) may run in segments (few heads, long T), leaving the correction of the stored
    // D_n to the per-chunk kernel (1 x 16384 x 16 x 128 on the H100, ncu: D pass and per-chunk kernel 1.67 ->
    // 1.42 ms). Both directions keep one chain per tile: the H_n need the correction too, and the per-chunk kernel
    // has no registers to fetch both while the tiles land (measured: no gain, 1.79 -> 1.78 ms).
    SegFixup fix;
    run_state_pass(sa, saved ? 1 : 2, stream, saved ? &fix : nullptr);

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
    if (nh > 1) ba.dv32 = cuda_scratch_alloc<float>(nh * nv, stream);
    const bool ok = d.K == 64    ? launch_chunk<64, 64>(ba, fix, int(d.B), stream)
                   : d.K == 128 ? launch_chunk<128, 128>(ba, fix, int(d.B), stream)
                                : launch_chunk<128, 256>(ba, fix, int(d.B), stream);
    if (nh > 1) {
        gla_sum_halves_bwd_kernel<<<unsigned(std::min<int64_t>((nv / 4 + 255) / 256, 4096)), 256, 0, stream>>>(ba.dv32, ba.dv, nv);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(ba.dv32, stream));
    }
    if (fix.scratch) HGRN_CUDA_CHECK(cudaFreeAsync(fix.scratch, stream));
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, stream));
    return ok;  // (ok is true: the shared-memory size was checked above)
}

}  // namespace hgrn::gla_cuda
