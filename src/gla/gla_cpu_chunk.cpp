// gla_cpu_chunk.cpp — fp32 CPU chunkwise GLA, forward and backward (gla_chunk_forward_cpu, gla_chunk_backward_cpu).
//
// Per (b, h) and chunk n of C tokens (SPEC.md §4), with G the cumulative sum of g inside the chunk, Γ its last row
// and H_n the K x V state before the chunk:
//     o_t     = (s q_t ⊙ e^{G_t}) H_n + Σ_{u<=t} A[t,u] v_u,     A[t,u] = s Σ_j q_tj k_uj e^{G_tj - G_uj}
//     H_{n+1} = e^{Γ} ⊙ H_n + Σ_u (k_u ⊙ e^{Γ - G_u}) v_u^T
// G is kept in float64 (a C x K tile) so that the difference of two large cumsums (log f down to -30 per step gives
// |G| ~ 2000) is exact before it is rounded to fp32 and exponentiated. Every exponent is <= 0 except inside A,
// which is built over a recursive split of the chunk (intra_plan): a diagonal block whose gate range
// max_j (G_aj - G_bj) is at most kRangeMax is one product with the reference r = the midpoint of the range (factors
// within e^{±kRangeMax/2}; the upper triangle is masked by assignment, never multiplied); a wider block splits in
// halves and the off-diagonal quadrant uses r = G at its last key row, so both of its exponents are <= 0.
// Typical HGRN2 gates give one block per chunk; gates of log f ~ -30 split down to single tokens.
//
// Backward (SPEC.md §4.2) recomputes the states H_n into per-thread scratch (stored transposed, V x K), then walks
// the chunks backwards carrying D = dL/dH_{n+1}:
//     dq = s e^G ⊙ (dO H_n^T) + dq_in,    dk = e^{Γ-G} ⊙ (V D^T) + dk_in,    dv = A^T dO + (k ⊙ e^{Γ-G}) D
//     dA = s dO V^T (masked to u <= t); dq_in, dk_in through the same blocks as A
//     dΓ = e^Γ ⊙ rowsum(H_n ⊙ D) + Σ_u k_u ⊙ dk_inter_u,    dg_t = Σ_{t' >= t in chunk} (q ⊙ dq - k ⊙ dk)_{t'} + dΓ
//     D ← e^Γ ⊙ D + (s q ⊙ e^G)^T dO;   dh0 = D after the first chunk.
// Layouts: (B, T, H, K|V) rows are gathered per chunk into zero-padded Cp x Kp / Cp x Vp tiles (multiples of 16).
// Padded rows have q = k = v = g = 0: they add nothing and leave G constant, so a partial last chunk needs no
// special case. Parallel over (b, h) with OpenMP; per-thread scratch from one block per call (kept for the next
// call, see Scratch). fp32 with fp32 sums.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "gla/gla_backends.h"
#include "gla/gla_cpu_kernels.h"

namespace hgrn {
namespace {
using namespace gla_cpu;

// Widest gate range (in natural-log units) that one intra block may span: factors stay within e^{±40}, so nothing
// overflows (the masked upper triangle reaches at most e^80 |q| |k| K) and nothing meaningful goes denormal.
constexpr double kRangeMax = 80.0;

struct ChunkDims {
    int64_t B, T, H, K, V;
    int C;           // chunk length: min(requested, next power of two >= T) — the same math, less padding
    int Cp, Kp, Vp;  // C, K, V rounded up to multiples of 16
    int64_t N;       // number of chunks
    float s;         // scale
};

ChunkDims chunk_dims(const GlaDims& g, int chunk, float s) {
    ChunkDims d{g.B, g.T, g.H, g.K, g.V, 1, 0, 0, 0, 0, s};
    while (d.C < chunk && d.C < g.T) d.C *= 2;
    d.Cp = int(round_up(d.C, kLanes));
    d.Kp = int(round_up(g.K, kLanes));
    d.Vp = int(round_up(g.V, kLanes));
    d.N = (g.T + d.C - 1) / d.C;
    return d;
}

// The rows of one (b, h) in a (B, T, H, X) tensor: token t at p + t * ld.
template <class P>
struct Rows {
    P* p;
    int64_t ld;
};
template <class P>
Rows<P> rows_of(const Tensor& x, const ChunkDims& d, int64_t b, int64_t h) {
    const int64_t X = x.size(3);
    return {static_cast<P*>(x.data()) + (b * d.T * d.H + h) * X, d.H * X};
}

// Rows [t0, t0 + L) (X columns) into a Cp x Xp tile; everything else in the tile is zero.
void load_tile(Rows<const float> src, int64_t t0, int L, int64_t X, float* dst, int Cp, int Xp) {
    for (int i = 0; i < Cp; ++i) {
        float* row = dst + i * Xp;
        if (i < L) {
            std::copy_n(src.p + (t0 + i) * src.ld, X, row);
            std::fill(row + X, row + Xp, 0.0f);
        } else {
            std::fill(row, row + Xp, 0.0f);
        }
    }
}
// Prefetches rows [t0, t0 + L) of X columns into L2 (for writing if write): the rows of one chunk are H * X floats
// apart, a stride the hardware prefetchers do not follow, so the next chunk's rows are requested while this one
// computes.
template <class P>
void prefetch_rows(Rows<P> src, int64_t t0, int64_t T, int C, int64_t X, bool write) {
    const int64_t L = std::min<int64_t>(C, T - t0);
    for (int64_t i = 0; i < L; ++i) {
        const char* row = reinterpret_cast<const char*>(src.p + (t0 + i) * src.ld);
        for (int64_t b = 0; b < X * int64_t(sizeof(float)); b += 64) {
            if (write)
                __builtin_prefetch(row + b, 1, 2);
            else
                __builtin_prefetch(row + b, 0, 2);
        }
    }
}

void store_tile(const float* src, int Xp, int L, int64_t X, Rows<float> dst, int64_t t0) {
    for (int i = 0; i < L; ++i) std::copy_n(src + i * Xp, X, dst.p + (t0 + i) * dst.ld);
}

// A (K x V) state <-> padded Kp x Vp tile (or its V x K transpose).
void load_state(const float* s, const ChunkDims& d, float* tile, bool transposed) {
    const int ld = transposed ? d.Kp : d.Vp;
    std::fill(tile, tile + int64_t(d.Kp) * d.Vp, 0.0f);
    if (!s) return;
    for (int64_t i = 0; i < d.K; ++i)
        for (int64_t j = 0; j < d.V; ++j) tile[transposed ? j * ld + i : i * ld + j] = s[i * d.V + j];
}
void store_state(const float* tile, const ChunkDims& d, float* s) {
    for (int64_t i = 0; i < d.K; ++i) std::copy_n(tile + i * d.Vp, d.V, s + i * d.V);
}

struct Block {
    int qa, qb, ka, kb;  // query rows [qa, qb), key rows [ka, kb) of the chunk
    bool diag;           // qa == ka, qb == kb: lower triangle incl. diagonal
};

// Scratch of one thread; every tile is Cp rows (or Kp / Vp rows for states), rows padded to 16 floats.
struct ChunkWork {
    float *q, *k, *v, *g, *dout;  // input tiles: Cp x Kp (q, k, g), Cp x Vp (v, dout)
    double *G, *r;                // Cp x Kp cumsum of g; Kp reference of the current block
    float *gam, *dgam, *gacc;     // Kp: e^Γ, dL/dΓ, running sum of the dg reverse cumsum
    float *qd, *kd, *eq, *ek;     // Cp x Kp: s q e^G, k e^{Γ-G}, s e^G, e^{Γ-G}
    float *A, *dA, *blk;          // Cp x Cp: scores (upper triangle stays 0), their gradient, one block's product
    float *bq, *bk, *bqe, *bke;   // Cp x Kp: block factors q e^{G-r}, k e^{r-G} and the exponentials alone
    float *bkT, *y;               // Kp x Cp transposed key factors; Cp x Kp block gradient sums
    float *o, *dq, *dk, *dv;      // Cp x Vp output; Cp x Kp, Cp x Kp, Cp x Vp gradients
    float *H, *D, *DT, *VT;       // Kp x Vp state (forward) and its gradient, Vp x Kp, Vp x Cp transposes
    float* HT;                    // N x Vp x Kp: the states before each chunk (backward)
    std::vector<Block>* blocks;
};

ChunkWork carve(Arena& a, const ChunkDims& d, bool backward) {
    const int64_t ck = int64_t(d.Cp) * d.Kp, cv = int64_t(d.Cp) * d.Vp, kv = int64_t(d.Kp) * d.Vp,
                  cc = int64_t(d.Cp) * d.Cp;
    ChunkWork w{};
    w.q = a.floats(ck), w.k = a.floats(ck), w.v = a.floats(cv), w.g = a.floats(ck);
    w.G = a.doubles(ck), w.r = a.doubles(d.Kp), w.gam = a.floats(d.Kp), w.dgam = a.floats(d.Kp);
    w.gacc = a.floats(d.Kp);
    w.qd = a.floats(ck), w.kd = a.floats(ck), w.A = a.floats(cc), w.blk = a.floats(cc);
    w.bq = a.floats(ck), w.bk = a.floats(ck), w.bqe = a.floats(ck), w.bke = a.floats(ck);
    w.bkT = a.floats(ck), w.y = a.floats(ck);
    if (!backward) {
        w.o = a.floats(cv), w.H = a.floats(kv);
        return w;
    }
    w.dout = a.floats(cv), w.eq = a.floats(ck), w.ek = a.floats(ck), w.dA = a.floats(cc);
    w.dq = a.floats(ck), w.dk = a.floats(ck), w.dv = a.floats(cv);
    w.D = a.floats(kv), w.DT = a.floats(kv), w.VT = a.floats(cv), w.HT = a.floats(d.N * kv);
    return w;
}

// ---- gates ----------------------------------------------------------------------------------------------------

// G = cumsum of g over the chunk's rows (float64); Γ = last row; gam = e^Γ. A gate below kGateFloor (-inf included,
// f = 0) counts as kGateFloor: e^kGateFloor is 0 in every float format, so no result changes, but differences of
// cumsums stay finite (and exact: |G| <= 1e4 C keeps float64 steps below 1e-9).
constexpr double kGateFloor = -1e4;
void gate_cumsum(ChunkWork& w, const ChunkDims& d) {
    const int Kp = d.Kp;
    for (int j = 0; j < Kp; ++j) w.G[j] = std::max(double(w.g[j]), kGateFloor);
    for (int t = 1; t < d.Cp; ++t) {
        const double* prev = w.G + (t - 1) * Kp;
        double* cur = w.G + t * Kp;
        const float* g = w.g + t * Kp;
        for (int j = 0; j < Kp; ++j) cur[j] = prev[j] + std::max(double(g[j]), kGateFloor);
    }
    const double* last = w.G + (d.Cp - 1) * Kp;
    for (int j = 0; j < Kp; ++j) w.gam[j] = exp_f32(float(last[j]));
}

// Inter-chunk decays: qd = s q e^G, kd = k e^{Γ-G} (both exponents <= 0); with_exps keeps s e^G and e^{Γ-G}
// (backward), otherwise they go to scratch rows of bqe / bke.
void inter_decays(ChunkWork& w, const ChunkDims& d, bool with_q, bool with_exps) {
    const int Kp = d.Kp;
    const double* __restrict last = w.G + (d.Cp - 1) * Kp;
    for (int t = 0; t < d.Cp; ++t) {
        const double* __restrict G = w.G + t * Kp;
        float* __restrict ek = with_exps ? w.ek + t * Kp : w.bke;
        for (int j = 0; j < Kp; ++j) ek[j] = exp_f32(float(last[j] - G[j]));
        const float* __restrict k = w.k + t * Kp;
        float* __restrict kd = w.kd + t * Kp;
        for (int j = 0; j < Kp; ++j) kd[j] = k[j] * ek[j];
        if (!with_q) continue;
        float* __restrict eq = with_exps ? w.eq + t * Kp : w.bqe;
        const float s = d.s;
        for (int j = 0; j < Kp; ++j) eq[j] = s * exp_f32(float(G[j]));
        const float* __restrict q = w.q + t * Kp;
        float* __restrict qd = w.qd + t * Kp;
        for (int j = 0; j < Kp; ++j) qd[j] = q[j] * eq[j];
    }
}

// ---- intra-chunk blocks -----------------------------------------------------------------------------------------

double gate_range(const ChunkWork& w, int Kp, int a, int b) {
    const double *top = w.G + a * Kp, *bot = w.G + (b - 1) * Kp;
    double r = 0;
    for (int j = 0; j < Kp; ++j) r = std::max(r, top[j] - bot[j]);
    return r;
}

void intra_plan(const ChunkWork& w, int Kp, int a, int b, std::vector<Block>& out) {
    if (b - a == 1 || gate_range(w, Kp, a, b) <= kRangeMax) {
        out.push_back({a, b, a, b, true});
        return;
    }
    const int m = (a + b) / 2;
    intra_plan(w, Kp, a, m, out);
    intra_plan(w, Kp, m, b, out);
    out.push_back({m, b, a, m, false});
}

// Exponentials of one block: bqe = e^{G-r} on its query rows, bke = e^{r-G} on its key rows. On a diagonal block the
// key rows are the query rows and |G - r| <= kRangeMax / 2, so bke = 1 / bqe: one exp per element instead of two.
void block_exps(ChunkWork& w, const ChunkDims& d, const Block& bl) {
    const int Kp = d.Kp, mq = bl.qb - bl.qa, mk = bl.kb - bl.ka;
    const double *top = w.G + bl.qa * Kp, *bot = w.G + (bl.kb - 1) * Kp;
    double* __restrict r = w.r;
    for (int j = 0; j < Kp; ++j) r[j] = bl.diag ? 0.5 * (top[j] + bot[j]) : bot[j];
    for (int i = 0; i < mq; ++i) {
        const double* __restrict G = w.G + (bl.qa + i) * Kp;
        float* __restrict e = w.bqe + i * Kp;
        for (int j = 0; j < Kp; ++j) e[j] = exp_f32(float(G[j] - r[j]));
        if (!bl.diag) continue;
        float* __restrict ek = w.bke + i * Kp;
        for (int j = 0; j < Kp; ++j) ek[j] = 1.0f / e[j];
    }
    if (bl.diag) return;
    for (int u = 0; u < mk; ++u) {
        const double* __restrict G = w.G + (bl.ka + u) * Kp;
        float* __restrict e = w.bke + u * Kp;
        for (int j = 0; j < Kp; ++j) e[j] = exp_f32(float(r[j] - G[j]));
    }
}

// Block factors: bq = q ⊙ bqe (query rows), bk = k ⊙ bke (key rows, zero up to a multiple of 16 rows), bkT = bk^T.
void block_factors(ChunkWork& w, const ChunkDims& d, const Block& bl) {
    const int Kp = d.Kp, mq = bl.qb - bl.qa, mk = bl.kb - bl.ka, mkp = int(round_up(mk, kLanes));
    block_exps(w, d, bl);
    for (int64_t i = 0; i < int64_t(mq) * Kp; ++i) w.bq[i] = w.q[bl.qa * Kp + i] * w.bqe[i];
    for (int64_t i = 0; i < int64_t(mk) * Kp; ++i) w.bk[i] = w.k[bl.ka * Kp + i] * w.bke[i];
    std::fill(w.bk + mk * Kp, w.bk + mkp * Kp, 0.0f);
    transpose(w.bk, Kp, w.bkT, mkp, mkp, Kp);
}

// When one diagonal block covers the chunk, the inter-chunk decays follow from its factors:
// s e^{G} = bqe ⊙ s e^{r}, e^{Γ-G} = bke ⊙ e^{Γ-r} (per-column constants; exponents r <= 0, Γ - r <= 0).
void inter_from_block(ChunkWork& w, const ChunkDims& d, bool with_exps) {
    const int Kp = d.Kp;
    const double* last = w.G + (d.Cp - 1) * Kp;
    float* __restrict cq = w.dgam;  // scratch until backward_inter
    float* __restrict ck = w.gacc;
    for (int j = 0; j < Kp; ++j) {
        cq[j] = d.s * exp_f32(float(w.r[j]));
        ck[j] = exp_f32(float(last[j] - w.r[j]));
    }
    for (int t = 0; t < d.Cp; ++t) {
        const float *bq = w.bq + t * Kp, *bk = w.bk + t * Kp, *bqe = w.bqe + t * Kp, *bke = w.bke + t * Kp;
        float *qd = w.qd + t * Kp, *kd = w.kd + t * Kp;
        for (int j = 0; j < Kp; ++j) {
            qd[j] = bq[j] * cq[j];
            kd[j] = bk[j] * ck[j];
        }
        if (!with_exps) continue;
        float *eq = w.eq + t * Kp, *ek = w.ek + t * Kp;
        for (int j = 0; j < Kp; ++j) {
            eq[j] = bqe[j] * cq[j];
            ek[j] = bke[j] * ck[j];
        }
    }
}

// Plans the chunk's intra blocks and computes the inter-chunk decays (from the block factors when there is a single
// block, which then keeps its factors in bq / bk / bqe / bke / bkT). Returns whether there is a single block.
bool chunk_decays(ChunkWork& w, const ChunkDims& d, bool with_exps) {
    w.blocks->clear();
    intra_plan(w, d.Kp, 0, d.Cp, *w.blocks);
    if (w.blocks->size() > 1) {
        inter_decays(w, d, true, with_exps);
        return false;
    }
    block_factors(w, d, w.blocks->front());
    inter_from_block(w, d, with_exps);
    return true;
}

// A[qa.., ka..] = s bq bk^T for one block (diagonal blocks: strict upper triangle set to 0).
void block_scores(ChunkWork& w, const ChunkDims& d, const Block& bl) {
    const int mq = bl.qb - bl.qa, mk = bl.kb - bl.ka, mkp = int(round_up(mk, kLanes));
    GemmOpts o;
    o.tri = bl.diag ? Tri::n_le_i : Tri::none;
    gemm(mq, mkp, d.Kp, {w.bq, d.Kp, 1}, {w.bkT, mkp}, {w.blk, d.Cp}, o);
    for (int i = 0; i < mq; ++i) {
        float* dst = w.A + (bl.qa + i) * d.Cp + bl.ka;
        const float* src = w.blk + i * d.Cp;
        const int n = bl.diag ? i + 1 : mk;
        for (int u = 0; u < n; ++u) dst[u] = d.s * src[u];
        for (int u = n; u < mk; ++u) dst[u] = 0.0f;
    }
}

// dq[qa..] += bqe ⊙ (dA_blk bk),  dk[ka..] += bke ⊙ (dA_blk^T bq).
void block_grads(ChunkWork& w, const ChunkDims& d, const Block& bl) {
    const int Kp = d.Kp, mq = bl.qb - bl.qa, mk = bl.kb - bl.ka;
    const float* dA = w.dA + bl.qa * d.Cp + bl.ka;
    GemmOpts o;
    o.tri = bl.diag ? Tri::p_le_i : Tri::none;
    gemm(mq, Kp, mk, {dA, d.Cp, 1}, {w.bk, Kp}, {w.y, Kp}, o);
    for (int i = 0; i < mq; ++i) {
        float* dq = w.dq + (bl.qa + i) * Kp;
        const float *e = w.bqe + i * Kp, *y = w.y + i * Kp;
        for (int j = 0; j < Kp; ++j) dq[j] += e[j] * y[j];
    }
    o.tri = bl.diag ? Tri::p_ge_i : Tri::none;
    gemm(mk, Kp, mq, {dA, 1, d.Cp}, {w.bq, Kp}, {w.y, Kp}, o);
    for (int u = 0; u < mk; ++u) {
        float* dk = w.dk + (bl.ka + u) * Kp;
        const float *e = w.bke + u * Kp, *y = w.y + u * Kp;
        for (int j = 0; j < Kp; ++j) dk[j] += e[j] * y[j];
    }
}

// ---- forward ----------------------------------------------------------------------------------------------------

struct SeqIn {
    Rows<const float> q, k, v, g;
};
SeqIn seq_in(const GlaInputs& in, const ChunkDims& d, int64_t b, int64_t h) {
    return {rows_of<const float>(in.q, d, b, h), rows_of<const float>(in.k, d, b, h),
            rows_of<const float>(in.v, d, b, h), rows_of<const float>(in.g, d, b, h)};
}

// Gathers chunk n's tiles and its gate cumsum; returns the number of valid rows.
int load_chunk(ChunkWork& w, const ChunkDims& d, const SeqIn& s, int64_t n, bool with_q) {
    const int64_t t0 = n * d.C;
    const int L = int(std::min<int64_t>(d.C, d.T - t0));
    if (with_q) load_tile(s.q, t0, L, d.K, w.q, d.Cp, d.Kp);
    load_tile(s.k, t0, L, d.K, w.k, d.Cp, d.Kp);
    load_tile(s.v, t0, L, d.V, w.v, d.Cp, d.Vp);
    load_tile(s.g, t0, L, d.K, w.g, d.Cp, d.Kp);
    gate_cumsum(w, d);
    return L;
}

void prefetch_chunk(const ChunkDims& d, const SeqIn& s, int64_t n, bool with_q) {
    const int64_t t0 = n * d.C;
    if (with_q) prefetch_rows(s.q, t0, d.T, d.C, d.K, false);
    prefetch_rows(s.k, t0, d.T, d.C, d.K, false);
    prefetch_rows(s.v, t0, d.T, d.C, d.V, false);
    prefetch_rows(s.g, t0, d.T, d.C, d.K, false);
}

void intra_scores(ChunkWork& w, const ChunkDims& d, bool single) {
    for (const Block& bl : *w.blocks) {
        if (!single) block_factors(w, d, bl);
        block_scores(w, d, bl);
    }
}

void forward_one(const GlaInputs& in, const GlaOutputs& out, const ChunkDims& d, int64_t b, int64_t h, ChunkWork& w) {
    const int64_t KV = d.K * d.V;
    const SeqIn s = seq_in(in, d, b, h);
    const Rows<float> o = rows_of<float>(out.o, d, b, h);
    const bool h0 = !in.h0.empty();
    load_state(h0 ? in.h0.ptr<float>() + (b * d.H + h) * KV : nullptr, d, w.H, false);
    for (int64_t n = 0; n < d.N; ++n) {
        const int L = load_chunk(w, d, s, n, true);
        if (n + 1 < d.N) prefetch_chunk(d, s, n + 1, true);
        const bool single = chunk_decays(w, d, false);
        GemmOpts first;  // o = qd H_n, skipped while the state is still zero
        if (n > 0 || h0)
            gemm(d.Cp, d.Vp, d.Kp, {w.qd, d.Kp, 1}, {w.H, d.Vp}, {w.o, d.Vp}, first);
        else
            std::fill(w.o, w.o + d.Cp * d.Vp, 0.0f);
        intra_scores(w, d, single);
        GemmOpts acc;
        acc.accumulate = true;
        acc.tri = Tri::p_le_i;  // o += A v
        gemm(d.Cp, d.Vp, d.Cp, {w.A, d.Cp, 1}, {w.v, d.Vp}, {w.o, d.Vp}, acc);
        if (n + 1 < d.N || !out.ht.empty()) {
            GemmOpts upd;  // H = e^Γ ⊙ H + kd^T v
            upd.accumulate = true;
            upd.row_scale = w.gam;
            gemm(d.Kp, d.Vp, d.Cp, {w.kd, 1, d.Kp}, {w.v, d.Vp}, {w.H, d.Vp}, upd);
        }
        store_tile(w.o, d.Vp, L, d.V, o, n * d.C);
    }
    if (!out.ht.empty()) store_state(w.H, d, out.ht.ptr<float>() + (b * d.H + h) * KV);
}

// Runs fn(b, h, work) over all (b, h) pairs in parallel, one scratch arena per thread (one block per call, kept
// for the next call, uninitialised: every tile is written before it is read, except A whose upper triangle must stay
// zero).
template <class Fn>
void for_each_head(const ChunkDims& d, bool backward, Fn fn) {
    const int64_t BH = d.B * d.H;
    const int nth = int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), BH)));
    Arena counter;
    carve(counter, d, backward);
    const int64_t per = counter.used();
    const Scratch scratch(nth * per);
    std::vector<std::vector<Block>> blocks(static_cast<size_t>(nth));
    for (auto& v : blocks) v.reserve(size_t(3 * d.Cp));
#pragma omp parallel num_threads(nth)
    {
        FlushDenormals ftz;
        const int tid = omp_get_thread_num();
        Arena arena(scratch.data() + tid * per, per);
        ChunkWork w = carve(arena, d, backward);
        w.blocks = &blocks[size_t(tid)];
        std::fill(w.A, w.A + int64_t(d.Cp) * d.Cp, 0.0f);
#pragma omp for schedule(dynamic, 1)
        for (int64_t bh = 0; bh < BH; ++bh) fn(bh / d.H, bh % d.H, w);
    }
}

// ---- backward ---------------------------------------------------------------------------------------------------

// Pass 1: the states before every chunk, transposed (V x K), into w.HT.
void backward_states(const GlaInputs& in, const ChunkDims& d, int64_t b, int64_t h, ChunkWork& w) {
    const int64_t kv = int64_t(d.Kp) * d.Vp;
    const SeqIn s = seq_in(in, d, b, h);
    load_state(in.h0.empty() ? nullptr : in.h0.ptr<float>() + (b * d.H + h) * d.K * d.V, d, w.HT, true);
    for (int64_t n = 0; n + 1 < d.N; ++n) {
        load_chunk(w, d, s, n, false);
        if (n + 2 < d.N) prefetch_chunk(d, s, n + 1, false);
        inter_decays(w, d, false, false);
        float* next = w.HT + (n + 1) * kv;
        GemmOpts upd;  // H_{n+1}^T = H_n^T diag(e^Γ) + v^T kd
        upd.accumulate = true;
        upd.col_scale = w.gam;
        upd.c_in = w.HT + n * kv;
        gemm(d.Vp, d.Kp, d.Cp, {w.v, 1, d.Vp}, {w.kd, d.Kp}, {next, d.Kp}, upd);
    }
}

// Inter-chunk part of chunk n: dq, dk (inter terms), dv = kd D, dΓ; needs HT_n and D = dL/dH_{n+1}.
void backward_inter(ChunkWork& w, const ChunkDims& d, const float* HT, bool zero_state) {
    const int Kp = d.Kp, Vp = d.Vp, Cp = d.Cp;
    if (zero_state)
        std::fill(w.dq, w.dq + Cp * Kp, 0.0f);
    else
        gemm(Cp, Kp, Vp, {w.dout, Vp, 1}, {HT, Kp}, {w.dq, Kp});  // dO H^T
    for (int64_t i = 0; i < int64_t(Cp) * Kp; ++i) w.dq[i] *= w.eq[i];
    transpose(w.D, Vp, w.DT, Kp, Kp, Vp);
    gemm(Cp, Kp, Vp, {w.v, Vp, 1}, {w.DT, Kp}, {w.dk, Kp});  // V D^T
    for (int64_t i = 0; i < int64_t(Cp) * Kp; ++i) w.dk[i] *= w.ek[i];
    gemm(Cp, Vp, Kp, {w.kd, Kp, 1}, {w.D, Vp}, {w.dv, Vp});  // kd D
    std::fill(w.dgam, w.dgam + Kp, 0.0f);
    if (!zero_state)
        for (int v = 0; v < Vp; ++v)
            for (int j = 0; j < Kp; ++j) w.dgam[j] += HT[v * Kp + j] * w.DT[v * Kp + j];
    for (int j = 0; j < Kp; ++j) w.dgam[j] *= w.gam[j];
    for (int t = 0; t < Cp; ++t)
        for (int j = 0; j < Kp; ++j) w.dgam[j] += w.k[t * Kp + j] * w.dk[t * Kp + j];
}

// Intra-chunk part: dA = s dO V^T (masked), A recomputed, dv += A^T dO, dq/dk intra terms.
void backward_intra(ChunkWork& w, const ChunkDims& d, bool single) {
    const int Cp = d.Cp, Vp = d.Vp;
    transpose(w.v, Vp, w.VT, Cp, Cp, Vp);
    GemmOpts lower;
    lower.tri = Tri::n_le_i;
    gemm(Cp, Cp, Vp, {w.dout, Vp, 1}, {w.VT, Cp}, {w.dA, Cp}, lower);
    for (int t = 0; t < Cp; ++t) {
        float* row = w.dA + t * Cp;
        for (int u = 0; u <= t; ++u) row[u] *= d.s;
        std::fill(row + t + 1, row + Cp, 0.0f);
    }
    for (const Block& bl : *w.blocks) {
        if (!single) block_factors(w, d, bl);
        block_scores(w, d, bl);
        block_grads(w, d, bl);
    }
    GemmOpts acc;
    acc.accumulate = true;
    acc.tri = Tri::p_ge_i;  // dv += A^T dO
    gemm(Cp, Vp, Cp, {w.A, 1, Cp}, {w.dout, Vp}, {w.dv, Vp}, acc);
}

// dg = reverse cumsum of (q dq - k dk) over the chunk + dΓ, written into w.g (the gate tile is no longer needed).
void backward_gates(ChunkWork& w, const ChunkDims& d) {
    const int Kp = d.Kp;
    float* acc = w.gacc;
    std::copy_n(w.dgam, Kp, acc);
    for (int t = d.Cp - 1; t >= 0; --t) {
        const float *q = w.q + t * Kp, *k = w.k + t * Kp, *dq = w.dq + t * Kp, *dk = w.dk + t * Kp;
        float* dg = w.g + t * Kp;
        for (int j = 0; j < Kp; ++j) {
            acc[j] += q[j] * dq[j] - k[j] * dk[j];
            dg[j] = acc[j];
        }
    }
}

struct SeqGrad {
    Rows<const float> dout;
    Rows<float> dq, dk, dv, dg;
};

void backward_one(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& gr, const ChunkDims& d, int64_t b,
                  int64_t h, ChunkWork& w) {
    const int64_t KV = d.K * d.V, kv = int64_t(d.Kp) * d.Vp;
    backward_states(in, d, b, h, w);
    const SeqIn s = seq_in(in, d, b, h);
    const SeqGrad g{rows_of<const float>(gout.dout, d, b, h), rows_of<float>(gr.dq, d, b, h),
                    rows_of<float>(gr.dk, d, b, h), rows_of<float>(gr.dv, d, b, h), rows_of<float>(gr.dg, d, b, h)};
    load_state(gout.dht.empty() ? nullptr : gout.dht.ptr<float>() + (b * d.H + h) * KV, d, w.D, false);
    for (int64_t n = d.N - 1; n >= 0; --n) {
        const int L = load_chunk(w, d, s, n, true);
        load_tile(g.dout, n * d.C, L, d.V, w.dout, d.Cp, d.Vp);
        if (n > 0) {
            prefetch_chunk(d, s, n - 1, true);
            prefetch_rows(g.dout, (n - 1) * d.C, d.T, d.C, d.V, false);
        }
        const bool single = chunk_decays(w, d, true);
        backward_inter(w, d, w.HT + n * kv, n == 0 && in.h0.empty());
        backward_intra(w, d, single);
        backward_gates(w, d);
        GemmOpts upd;  // D = e^Γ ⊙ D + qd^T dO
        upd.accumulate = true;
        upd.row_scale = w.gam;
        gemm(d.Kp, d.Vp, d.Cp, {w.qd, 1, d.Kp}, {w.dout, d.Vp}, {w.D, d.Vp}, upd);
        const int64_t t0 = n * d.C;
        store_tile(w.dq, d.Kp, L, d.K, g.dq, t0);
        store_tile(w.dk, d.Kp, L, d.K, g.dk, t0);
        store_tile(w.dv, d.Vp, L, d.V, g.dv, t0);
        store_tile(w.g, d.Kp, L, d.K, g.dg, t0);
    }
    if (!gr.dh0.empty()) store_state(w.D, d, gr.dh0.ptr<float>() + (b * d.H + h) * KV);
}

}  // namespace

void gla_chunk_forward_cpu(const GlaInputs& in, const GlaDims& gd, float scale, const GlaOutputs& out) {
    const ChunkDims d = chunk_dims(gd, in.chunk, scale);
    for_each_head(d, false, [&](int64_t b, int64_t h, ChunkWork& w) { forward_one(in, out, d, b, h, w); });
}

void gla_chunk_backward_cpu(const GlaInputs& in, const GlaDims& gd, float scale, const GlaGradOutputs& gout,
                            const GlaGrads& grads) {
    const ChunkDims d = chunk_dims(gd, in.chunk, scale);
    for_each_head(d, true, [&](int64_t b, int64_t h, ChunkWork& w) { backward_one(in, gout, grads, d, b, h, w); });
}

}  // namespace hgrn
