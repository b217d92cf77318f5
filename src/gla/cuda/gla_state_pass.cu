// gla_state_pass.cu — the chunk-state pass (SPEC.md §4.2 chunk_fwd_h / chunk_bwd_dh; docs/gla_math.md §5.1) on
// tensor cores, for the split forward (H direction) and the backward (H and D, or D alone when the forward's
// chunk states were saved):
//     H_{n+1} = Diag(2^Gamma_n) H_n + sum_{u in n} (k_u 2^{Gamma_n - G_u}) v_u^T          (H_0 = h0)
//     D_{n-1} = Diag(2^Gamma_n) D_n + sum_{t in n} (s q_t 2^{G_t}) dO_t^T                  (D_{N-1} = dht)
// One block of 4 or 8 warps per (32-row x 64- or 128-column state tile, sequence x head, direction) keeps its tile
// in fp32 registers and walks the chunks, the next chunk's inputs copied (cp.async) into a second set of buffers
// meanwhile; every state is stored before its chunk's update. The decayed keys / queries are split into bf16
// hi + lo + lo2 (their fp32 values exactly) and meet v / dout (bf16, exact) in three bf16 m16n8k16 products, so
// the states keep fp32 accuracy. Segments (few blocks, long T; docs/gla_math.md §5.1): each segment of chunks
// starts from zero and records its chunks' decays from its start, then gla_state_seg_starts_kernel forms the
// true segment starts X_{s+1} = E_s + Diag(2^Lambda_s) X_s, and gla_state_seg_fix_kernel adds
// Diag(2^{partial Gamma sum}) X_s to every state of segment s — or the states' reader does (SegFixup).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"
#include "gla/cuda/gla_mma.cuh"
#include "gla/cuda/gla_state_pass.cuh"

namespace hgrn::gla_cuda {
namespace {

// Tiles of kSR state rows x SC columns, SC = 128 where V allows (g and the keys / queries are then read once
// per head instead of V / 64 times), else 64; 2 SC threads (warp w: rows 16 (w & 1).., columns 32 (w >> 1)..).
constexpr int kSR = 32;
// The decayed keys / queries as bf16 hi + lo + lo2 planes, transposed (kSR rows j x kC columns t; 144-byte rows:
// 16-byte aligned for ldmatrix and on distinct bank groups for its 8 rows).
constexpr int kSLA = kC + 8;

// Shared memory of gla_bwd_states_kernel<SC>: two buffers of the chunk's inputs and the split x~^T planes.
template <int SC>
struct StateSmem {
    __nv_bfloat16 y[2][kC * SC];      // v (H) or dout (D), 16-byte chunks swizzled (ysw): ldmatrix.trans conflict-free
    float g[2][kC * kSR];             // g (raw)
    __nv_bfloat16 x[2][kC * kSR];     // k (H) or q (D), raw
    __nv_bfloat16 xt[3][kSR * kSLA];  // x~^T as bf16 hi, lo, lo2
};
// Element offset of row t, column c (c % 8 == 0: a 16-byte chunk) in a y buffer: chunk c / 8 stored at
// (c / 8) ^ (t % 8), so that 8 consecutive rows of one chunk column fall on distinct bank groups.
template <int SC>
__device__ __forceinline__ int ysw(int t, int c) {
    return t * SC + (((c >> 3) ^ (t & 7)) << 3);
}
// Blocks per SM the register budget is set for: two at SC = 128, four at SC = 64 (16 warps either way). Three at
// SC = 128 (80 registers, shared memory fits) measured no faster: 8 x 2048 x 16 x 128 both directions 497-501 vs
// 500-501 us, D alone 275 vs 262 us with two (earlier with y in registers: 509 -> 557 us).
template <int SC>
constexpr int kStateBlocksPerSM = SC == 128 ? 2 : 4;
static_assert(2 * (sizeof(StateSmem<128>) + 4 * (kSR + 8 * kSR) + 1024) <= 228 * 1024, "two blocks per SM (SC = 128)");
static_assert(4 * (sizeof(StateSmem<64>) + 4 * (kSR + 4 * kSR) + 1024) <= 228 * 1024, "four blocks per SM (SC = 64)");

// A compile-time bool that reads as a bool (a generic lambda then compiles one copy per value).
template <bool B>
struct Flag {
    __device__ constexpr operator bool() const { return B; }
};

// MINB: the blocks per SM the registers are budgeted for; 1 where the whole grid fits on the GPU at once (few
// heads, long T: the serial chain of chunks is the time, so the product loop is fully unrolled there).
// SEG: in segments (a.S > 1), recording each chunk's decay from the segment's start (a template parameter: the
// recording in the unsegmented instances made them 5% slower, 500 -> 525 us at 8 x 2048 x 16 x 128).
template <int SC, int MINB, bool SEG>
__global__ void __launch_bounds__(2 * SC, MINB) gla_bwd_states_kernel(StateArgs a) {
    constexpr int kSC = SC, kSThreads = 2 * SC, P = kSThreads / kSR, R = kC / P;
    using St = StateSmem<SC>;
    // Dynamic shared memory (StateSmem: 70 KB at SC = 128), two buffers of each input so that the next chunk's
    // copies (cp.async) land in one while this chunk's work reads the other.
    extern __shared__ __align__(16) unsigned char state_smem[];
    St& sm = *reinterpret_cast<St*>(state_smem);
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
    const uint4 z4 = make_uint4(0, 0, 0, 0);
    // Chunk n's x (k or q; absent in the fused form), g and y (v or dout) into buffer bi; rows past T zeroed.
    auto issue = [&](int n, int bi) {
        const int t0 = n * kC;
        if (xp)
#pragma unroll
            for (int i = 0; i < NX; ++i) {
                const int idx = tid + kSThreads * i, t = idx / 4, j = 8 * (idx % 4), tt = t0 + t;
                __nv_bfloat16* d = sm.x[bi] + t * kSR + j;
                if (tt < a.T) cp_async16(d, xp + row(tt) * a.K + r0 + j);
                else *reinterpret_cast<uint4*>(d) = z4;
            }
#pragma unroll
        for (int i = 0; i < NG; ++i) {
            const int idx = tid + kSThreads * i, t = idx / 8, j = 4 * (idx % 8), tt = t0 + t;
            float* d = sm.g[bi] + t * kSR + j;
            if (tt < a.T) cp_async16(d, a.g + row(tt) * a.K + r0 + j);
            else *reinterpret_cast<uint4*>(d) = z4;
        }
#pragma unroll
        for (int i = 0; i < NY; ++i) {
            const int idx = tid + kSThreads * i, t = idx / (kSC / 8), c = 8 * (idx % (kSC / 8)), tt = t0 + t;
            __nv_bfloat16* d = sm.y[bi] + ysw<SC>(t, c);
            if (tt < a.T) cp_async16(d, yp + row(tt) * a.V + c0 + c);
            else *reinterpret_cast<uint4*>(d) = z4;
        }
        cp_async_commit();
    };
    issue(dmode ? a.N - 1 - it0 : it0, 0);
    // SEG: the decay from the segment's start, the product of its earlier steps' 2^Gamma (row r0 + tid, threads
    // tid < kSR of column tile 0: recorded per chunk in pbuf, and at the end, 2^Lambda_s, in lbuf).
    float pre = 1.f;
    const bool rec = SEG && c0 == 0 && tid < kSR;
    for (int it = it0; it < it1; ++it) {
        const int n = dmode ? a.N - 1 - it : it, bi = (it - it0) & 1;
        const __nv_bfloat16* const Y = sm.y[bi];
        const __nv_bfloat16* const Xr = sm.x[bi];
        const float* const Gr = sm.g[bi];
        // The next chunk's loads overlap this chunk's work (into the other buffers, last read by the previous
        // step: the barrier at the end of that step orders it); this chunk's inputs have landed.
        if (it + 1 < it1) {
            issue(dmode ? n - 1 : n + 1, bi ^ 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        {  // inclusive cumsum G over the 64 rows (32 columns x P parts of R rows, kept in registers), then
           // x~ = s q 2^G (D) or k 2^{Gamma - G} (H) in place; Gamma = G_63 = the sum of the part totals
            const int j = tid % kSR, p = tid / kSR;
            float x[R];
#pragma unroll
            for (int i = 0; i < R; ++i) x[i] = Gr[(R * p + i) * kSR + j] * kLog2e;
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
            // x~ split once into bf16 hi + lo + lo2 (the fp32 value exactly), stored transposed (row j) as the
            // A operand of every warp's products; two rows t a 32-bit word. dm: the D direction, hx: x given
            // (else the fused k); bools, or Flag<> for a copy specialized to them.
            const auto split_x = [&](auto dm, auto hx) {
#pragma unroll
                for (int i = 0; i < R; i += 2) {
                    const float G0 = x[i] + off, G1 = x[i + 1] + off;
                    const int t = R * p + i, o = t * kSR + j;
                    const float r0v = hx ? __bfloat162float(Xr[o]) : one_minus_exp(Gr[o]);
                    const float r1v = hx ? __bfloat162float(Xr[o + kSR]) : one_minus_exp(Gr[o + kSR]);
                    const float x0 = r0v * (dm ? a.scale * exp2f(G0) : exp2f(gam - G0));
                    const float x1 = r1v * (dm ? a.scale * exp2f(G1) : exp2f(gam - G1));
                    uint32_t hi, lo, lo2;
                    mma::split_bf16(x0, x1, hi, lo, lo2);
                    const int ot = (j * kSLA + t) / 2;
                    reinterpret_cast<uint32_t*>(sm.xt[0])[ot] = hi;
                    reinterpret_cast<uint32_t*>(sm.xt[1])[ot] = lo;
                    reinterpret_cast<uint32_t*>(sm.xt[2])[ot] = lo2;
                }
            };
            // (The SEG instances left as one copy with selects ran 10% slower: 321 -> 354 us, the split forward's
            // H pass at 1 x 16384 x 16 x 128; specialized, 296-300 us. nvcc specializes the others by itself.)
            if constexpr (SEG) {
                if (dmode) split_x(Flag<true>{}, Flag<true>{});
                else if (xp) split_x(Flag<false>{}, Flag<true>{});
                else split_x(Flag<false>{}, Flag<false>{});
            } else {
                split_x(dmode, xp != nullptr);
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
        if (rec) {
            a.pbuf[((int64_t(dir) * gridDim.y + bh) * a.N + n) * a.K + r0 + tid] = pre;
            pre *= dec[tid];
        }
#pragma unroll
        for (int nn = 0; nn < 4; ++nn) S[nn][0] *= d0, S[nn][1] *= d0, S[nn][2] *= d1, S[nn][3] *= d1;
        // S += x~^T y: A(j, t) = x~[t][j] as bf16 hi + lo + lo2 (pre-split, ldmatrix), B(t, c) = y[t][c] (bf16,
        // exact; ldmatrix.trans gives two 8-column tiles' fragments per x4). Three m16n8k16 products per 16 t.
#pragma unroll(MINB == 1 ? 4 : 2)  // (fully unrolled under the cap of four blocks per SM: spills at SC = 64)
        for (int k = 0; k < kC; k += 16) {
            uint32_t ah[4], al[4], al2[4], bf[2][4];
            mma::load_a_bf16(ah, sm.xt[0], kSLA, wr, k);
            mma::load_a_bf16(al, sm.xt[1], kSLA, wr, k);
            mma::load_a_bf16(al2, sm.xt[2], kSLA, wr, k);
#pragma unroll
            for (int pr = 0; pr < 2; ++pr)
                mma::ldsm_x4_trans(
                    bf[pr], smem_u32(Y + ysw<SC>(k + (lane & 7) + 8 * ((lane >> 3) & 1), wc + 8 * (2 * pr + (lane >> 4)))));
#pragma unroll
            for (int nn = 0; nn < 4; ++nn) {
                const uint32_t b0 = bf[nn >> 1][2 * (nn & 1)], b1 = bf[nn >> 1][2 * (nn & 1) + 1];
                mma::mma_bf16(S[nn], al2, b0, b1);  // small terms first
                mma::mma_bf16(S[nn], al, b0, b1);
                mma::mma_bf16(S[nn], ah, b0, b1);
            }
        }
        __syncthreads();
    }
    if (rec) a.lbuf[((int64_t(dir) * gridDim.y + bh) * a.S + seg) * a.K + r0 + tid] = pre;  // 2^Lambda_s
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

// Segments, pass 2 (one block per state row j, sequence x head, direction): the true state at each segment
// start, X_1 = E_0 (segment 0 started from h0 / dht), X_{s+1} = E_s + Diag(2^{Lambda_s}) X_s with 2^Lambda_s
// from lbuf, written over E_s (slot s); X_S is the final state (ht or dh0).
__global__ void gla_state_seg_starts_kernel(StateArgs a) {
    const int j = blockIdx.x, bh = blockIdx.y, dir = blockIdx.z;
    const bool dmode = dir + a.dir0 == 1;
    const float* lam = a.lbuf + (int64_t(dir) * gridDim.y + bh) * a.S * a.K + j;  // 2^Lambda_s at lam[s K]
    float* e = a.ebuf + (int64_t(dir) * gridDim.y + bh) * a.S * a.K * a.V + int64_t(j) * a.V;
    float* fin = dmode ? a.dh0 : a.ht;
    constexpr int kG = 8;  // segments a group: their E_s and Lambda_s loaded together (one memory latency a group)
    for (int c = threadIdx.x; c < a.V; c += blockDim.x) {
        float x = e[c];
        for (int s0 = 1; s0 < a.S; s0 += kG) {
            float es[kG], ls[kG];
#pragma unroll
            for (int i = 0; i < kG; ++i) {
                const int sg = min(s0 + i, a.S - 1);
                es[i] = e[int64_t(sg) * a.K * a.V + c];
                ls[i] = lam[int64_t(sg) * a.K];
            }
#pragma unroll
            for (int i = 0; i < kG; ++i)
                if (s0 + i < a.S) {
                    e[int64_t(s0 + i) * a.K * a.V + c] = x;
                    x = es[i] + ls[i] * x;
                }
        }
        if (fin) fin[(int64_t(bh) * a.K + j) * a.V + c] = x;
    }
}

// Segments, pass 3 (one block per processing step it in segments >= 1, sequence x head, direction): the
// stored state of step it gets Diag(2^{sum of the Gammas of the segment's earlier steps}) X_s added.
__global__ void gla_state_seg_fix_kernel(StateArgs a) {
    const int it = a.NS + blockIdx.x, bh = blockIdx.y, dir = blockIdx.z;
    const bool dmode = dir + a.dir0 == 1;
    const int sg = it / a.NS, n = dmode ? a.N - 1 - it : it;
    const float* pre = a.pbuf + ((int64_t(dir) * gridDim.y + bh) * a.N + n) * a.K;
    const float* x = a.ebuf + ((int64_t(dir) * gridDim.y + bh) * a.S + sg) * a.K * a.V;
    float* dst = (dmode ? a.dbuf : a.hbuf) + (int64_t(bh) * a.N + n) * a.K * a.V;
    for (int i = 4 * threadIdx.x; i < a.K * a.V; i += 4 * blockDim.x) {
        const float d = __ldg(pre + i / a.V);
        float4 h = *reinterpret_cast<float4*>(dst + i);
        const float4 xv = *reinterpret_cast<const float4*>(x + i);
        h.x += d * xv.x, h.y += d * xv.y, h.z += d * xv.z, h.w += d * xv.w;
        *reinterpret_cast<float4*>(dst + i) = h;
    }
}

template <int SC, int MINB, bool SEG>
void launch_states(const StateArgs& a, dim3 grid, cudaStream_t stream) {
    const size_t smem = sizeof(StateSmem<SC>);
    static bool configured = false;  // one attribute call per instance (same value every time)
    if (!configured) {
        HGRN_CUDA_CHECK(cudaFuncSetAttribute(gla_bwd_states_kernel<SC, MINB, SEG>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
        configured = true;
    }
    gla_bwd_states_kernel<SC, MINB, SEG><<<grid, 2 * SC, smem, stream>>>(a);
}
template <int SC, int MINB>
void launch_states(const StateArgs& a, dim3 grid, cudaStream_t stream) {
    if (a.S > 1) launch_states<SC, MINB, true>(a, grid, stream);
    else launch_states<SC, MINB, false>(a, grid, stream);
}
// The one-block instance where the grid fits on the GPU at once (measured on the H100 at 1 x 16384 x 16 x 128,
// 128 blocks: D alone 667 -> 633 us, both directions 709-715 -> 666-671 us), else the budgeted one.
template <int SC>
void launch_states(const StateArgs& a, dim3 grid, int sms, cudaStream_t stream) {
    bool one = int64_t(grid.x) * grid.y * grid.z <= sms;
    if (const char* e = std::getenv("HGRN_GLA_STATE_ONE_BLOCK")) one = std::atoi(e) != 0;  // tests
    if (one) launch_states<SC, 1>(a, grid, stream);
    else launch_states<SC, kStateBlocksPerSM<SC>>(a, grid, stream);
}

}  // namespace

// The state pass for ndir directions (from a.dir0): split into segments when its blocks would leave most of
// the GPU idle (B H small, T long), so that the serial chain per block is NS chunks instead of N.
void run_state_pass(StateArgs a, int ndir, cudaStream_t stream, SegFixup* lazy) {
    const int sms = sm_count();
    // Segments of at least 16 chunks, as many as keep about 4 blocks per SM (at most 64) — for the forward's
    // H pass, and for a backward pass whose reader applies the correction (lazy) when it has fewer blocks than
    // SMs. Measured on the H100 at 1 x 16384 x 16 x 128: the split forward 1.10 -> 1.01 ms (S = 4); the
    // backward's passes with the rewriting correction gained nothing or lost (3.21 -> 3.29 ms at S = 2, 3.46 at
    // 4: that pass re-reads and re-writes the states).
    const bool fwd_h = ndir == 1 && a.dir0 == 0;
    const int bh = a.B_H;
    auto tiles_of = [&](int sc) { return (a.K / kSR) * (a.V / sc); };
    auto segments_of = [&](int sc) {
        const int64_t blocks = int64_t(tiles_of(sc)) * bh * ndir;
        const bool segmented = fwd_h || (lazy && blocks < sms);
        return segmented ? int(std::min<int64_t>({64, std::max<int64_t>(1, 4 * sms / blocks), a.N / 16})) : 1;
    };
    // 128-column tiles (g and the keys / queries read once per head instead of twice): in the backward while
    // they give at least half a block per SM, measured (H100, ncu, 8b9a5ed; 64-column tiles in brackets)
    // 8 x 2048 x 16 x 128 both directions 636 (630) us, D alone 316 (359); 4 x 4096: 643 (750), 318 (368);
    // 1 x 16384: both 808 (866), D alone (64 blocks) 771 (614). The forward's segmented H pass: always (8
    // segments of 128 columns at 1 x 16384: split forward 0.780-0.790 -> 0.723 ms; before its states were
    // corrected by their reader it had kept 64 columns, with which the whole split forward was as fast).
    const int64_t blocks128 = int64_t(tiles_of(128)) * bh * ndir;
    int sc = a.V % 128 == 0 && (fwd_h || 2 * blocks128 >= sms) ? 128 : 64;
    if (const char* e = std::getenv("HGRN_GLA_STATE_TILE")) sc = std::atoi(e) == 64 || a.V % 128 != 0 ? 64 : 128;  // tests
    const int tiles = tiles_of(sc);
    int S = segments_of(sc);
    if (const char* e = std::getenv("HGRN_GLA_STATE_SEGMENTS")) S = std::max(1, std::atoi(e));  // tests
    S = std::max(1, std::min(S, a.N));
    a.S = S, a.NS = (a.N + S - 1) / S;
    S = a.S = (a.N + a.NS - 1) / a.NS;  // no empty segment
    float* scratch = nullptr;
    if (a.S > 1) {
        const size_t ne = size_t(ndir) * bh * a.S * a.K * a.V, np = size_t(ndir) * bh * a.N * a.K;
        const size_t nl = size_t(ndir) * bh * a.S * a.K;
        scratch = cuda_scratch_alloc<float>(ne + np + nl, stream);
        a.ebuf = scratch, a.pbuf = scratch + ne, a.lbuf = scratch + ne + np;
    }
    const dim3 grid(unsigned(tiles), unsigned(bh), unsigned(ndir * a.S));
    if (sc == 128) launch_states<128>(a, grid, sms, stream);
    else launch_states<64>(a, grid, sms, stream);
    HGRN_LAUNCH_CHECK();
    if (a.S > 1) {
        gla_state_seg_starts_kernel<<<dim3(unsigned(a.K), unsigned(bh), unsigned(ndir)), 128, 0, stream>>>(a);
        HGRN_LAUNCH_CHECK();
        if (lazy) {
            lazy->x = a.ebuf, lazy->p = a.pbuf, lazy->S = a.S, lazy->NS = a.NS, lazy->BH = bh, lazy->N = a.N;
            lazy->scratch = scratch;
            return;
        }
        gla_state_seg_fix_kernel<<<dim3(unsigned(a.N - a.NS), unsigned(bh), unsigned(ndir)), 256, 0, stream>>>(a);
        HGRN_LAUNCH_CHECK();
        HGRN_CUDA_CHECK(cudaFreeAsync(scratch, stream));
    }
    if (lazy) *lazy = SegFixup{};
}

void chunk_states_forward(const __nv_bfloat16* k, const __nv_bfloat16* v, const float* g, const float* h0,
                          float* hbuf, float* ht, int B, int T, int H, int K, int V, cudaStream_t stream,
                          SegFixup* lazy) {
    StateArgs sa{};
    sa.k = k, sa.v = v, sa.g = g, sa.h0 = h0, sa.hbuf = hbuf, sa.ht = ht;
    sa.T = T, sa.H = H, sa.K = K, sa.V = V, sa.N = (T + kC - 1) / kC;
    sa.scale = 1.f;
    sa.B_H = B * H;
    run_state_pass(sa, 1, stream, lazy);  // the H direction only
}

}  // namespace hgrn::gla_cuda
