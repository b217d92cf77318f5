// gla_ref_chunk.cpp — float64 reference of the CHUNKWISE GLA algorithm, forward and backward, in the same
// decomposition as fla's chunk_gla (docs/gla_math.md has the derivations; SPEC.md §4 the fla kernels).
// Naive on purpose: per (b, h), dense float64 copies of the sequence, plain loops straight from the equations.
//
// Per (b, h), chunks n = 0 .. N-1 of length C (the last may be shorter), natural log/exp throughout:
//     G_t     = sum_{u = chunk start .. t} g_u                (chunk-local inclusive cumsum, (T, K))
//     Gamma_n = G at the last position of chunk n             (K)
//     H_0 = h0 (or 0);  H_{n+1} = Diag(exp Gamma_n) H_n + sum_{u in n} (k_u * exp(Gamma_n - G_u)) v_u^T   (K, V)
//     A[t,u]  = s sum_j q_tj k_uj exp(G_tj - G_uj)   for u <= t in the same chunk, else 0     (T, C)
//     o_t     = s (q_t * exp(G_t))^T H_n + sum_{u <= t} A[t,u] v_u
// Backward (D_n = dL/dH_{n+1}, the state after chunk n; dA[t,u] = s <dO_t, v_u> for u <= t):
//     D_{N-1} = dht;  D_{n-1} = Diag(exp Gamma_n) D_n + sum_{t in n} (s q_t * exp(G_t)) dO_t^T;  dh0 = D_{-1}
//     dv_u = sum_{t >= u} A[t,u] dO_t + D_n^T (k_u * exp(Gamma_n - G_u))
//     dq_t = s exp(G_t) * (H_n dO_t) + sum_{u <= t} dA[t,u] k_u * exp(G_t - G_u)
//     dk_u = exp(Gamma_n - G_u) * (D_n v_u) + sum_{t >= u} dA[t,u] q_t * exp(G_t - G_u)
//     dg_t = sum_{t' >= t in chunk} (q*dq - k*dk)_{t'} + dGamma_n,
//         dGamma_n = exp(Gamma_n) * rowsum(H_n * D_n) + sum_{u in n} k_u * dk^inter_u      (* is elementwise)
// The dg line is evaluated after removing the terms that cancel exactly (docs/gla_math.md §6.3), so that dg
// keeps full relative precision when every gate is strong and dg itself is tiny.
//
// Stability without clamping: every exponent formed is <= 0 (g <= 0): G_t - G_u for u <= t only (the upper
// triangle is skipped, never multiplied by 0), Gamma_n - G_u, G_t, Gamma_n. exp(+large) never occurs, so
// g down to -30 per step (cumsums to -2000) gives underflow to 0 where the true value is that small.
//
// Layouts as in gla.h: q, k, g (B, T, H, K); v, o (B, T, H, V); states (B, H, K, V) as S[k][v].
#include <cmath>
#include <vector>

#include "gla/gla_backends.h"

namespace hgrn {
namespace {

// A dense row-major float64 matrix: rows x cols.
struct Mat {
    int64_t rows = 0, cols = 0;
    std::vector<double> x;
    Mat() = default;
    Mat(int64_t r, int64_t c) : rows(r), cols(c), x(size_t(r * c), 0.0) {}
    double* operator[](int64_t r) { return x.data() + r * cols; }
    const double* operator[](int64_t r) const { return x.data() + r * cols; }
};

// The (b, h) slice of a (B, T, H, X) tensor as a (T, X) matrix, and back.
Mat gather_seq(const Tensor& t, const GlaDims& d, int64_t b, int64_t h) {
    const int64_t X = t.size(3);
    Mat m(d.T, X);
    const double* p = t.ptr<double>();
    for (int64_t s = 0; s < d.T; ++s)
        for (int64_t i = 0; i < X; ++i) m[s][i] = p[((b * d.T + s) * d.H + h) * X + i];
    return m;
}
void scatter_seq(const Mat& m, const Tensor& t, const GlaDims& d, int64_t b, int64_t h) {
    double* p = t.ptr<double>();
    for (int64_t s = 0; s < d.T; ++s)
        for (int64_t i = 0; i < m.cols; ++i) p[((b * d.T + s) * d.H + h) * m.cols + i] = m[s][i];
}
// The (b, h) state of a (B, H, K, V) tensor as a (K, V) matrix; zeros when the tensor is absent.
Mat gather_state(const Tensor& t, const GlaDims& d, int64_t b, int64_t h) {
    Mat m(d.K, d.V);
    if (t.empty()) return m;
    const double* p = t.ptr<double>() + (b * d.H + h) * d.K * d.V;
    std::copy(p, p + d.K * d.V, m.x.begin());
    return m;
}
void scatter_state(const Mat& m, const Tensor& t, const GlaDims& d, int64_t b, int64_t h) {
    if (t.empty()) return;
    std::copy(m.x.begin(), m.x.end(), t.ptr<double>() + (b * d.H + h) * d.K * d.V);
}

// Token range [t0, t1) of chunk n.
struct Span {
    int64_t t0, t1;
};
int64_t num_chunks(const GlaDims& d, int64_t C) { return (d.T + C - 1) / C; }
Span chunk_span(const GlaDims& d, int64_t C, int64_t n) { return {n * C, std::min(d.T, (n + 1) * C)}; }

// One (b, h) sequence: the inputs as dense matrices.
struct Seq {
    Mat q, k, v, g;  // (T, K), (T, K), (T, V), (T, K)
    Mat h0;          // (K, V)
};
Seq gather_inputs(const GlaInputs& in, const GlaDims& d, int64_t b, int64_t h) {
    return {gather_seq(in.q, d, b, h), gather_seq(in.k, d, b, h), gather_seq(in.v, d, b, h), gather_seq(in.g, d, b, h),
            gather_state(in.h0, d, b, h)};
}

// What the forward computes and the backward needs (the backward recomputes it, as fla does for H).
struct ChunkSaved {
    Mat G;               // (T, K)  chunk-local cumsum of g
    std::vector<Mat> H;  // N + 1 states (K, V): H[n] before chunk n, H[N] = final state
    Mat A;               // (T, C)  A[t][u - t0], u <= t in the chunk of t
};

// G_t = sum of g from the chunk start to t (inclusive).
Mat chunk_local_cumsum(const Mat& g, const GlaDims& d, int64_t C) {
    Mat G(d.T, d.K);
    for (int64_t t = 0; t < d.T; ++t)
        for (int64_t i = 0; i < d.K; ++i) G[t][i] = g[t][i] + (t % C == 0 ? 0.0 : G[t - 1][i]);
    return G;
}

// H_{n+1} = Diag(exp Gamma_n) H_n + sum_u (k_u * exp(Gamma_n - G_u)) v_u^T.
std::vector<Mat> chunk_fwd_h(const Seq& x, const Mat& G, const GlaDims& d, int64_t C) {
    const int64_t N = num_chunks(d, C);
    std::vector<Mat> H{size_t(N + 1)};
    H[0] = x.h0;
    for (int64_t n = 0; n < N; ++n) {
        const Span c = chunk_span(d, C, n);
        const double* Gam = G[c.t1 - 1];
        Mat& Hn = H[size_t(n + 1)];
        Hn = H[size_t(n)];
        for (int64_t i = 0; i < d.K; ++i)
            for (int64_t j = 0; j < d.V; ++j) Hn[i][j] *= std::exp(Gam[i]);
        for (int64_t u = c.t0; u < c.t1; ++u)
            for (int64_t i = 0; i < d.K; ++i) {
                const double kd = x.k[u][i] * std::exp(Gam[i] - G[u][i]);  // decayed key, exponent <= 0
                for (int64_t j = 0; j < d.V; ++j) Hn[i][j] += kd * x.v[u][j];
            }
    }
    return H;
}

// A[t,u] = s sum_j q_tj k_uj exp(G_tj - G_uj) for u <= t; the upper triangle is never formed (stays 0).
Mat chunk_fwd_intra(const Seq& x, const Mat& G, const GlaDims& d, int64_t C, double s) {
    Mat A(d.T, C);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t u = c.t0; u <= t; ++u) {
                double acc = 0;
                for (int64_t i = 0; i < d.K; ++i) acc += x.q[t][i] * x.k[u][i] * std::exp(G[t][i] - G[u][i]);
                A[t][u - c.t0] = s * acc;
            }
    }
    return A;
}

// o_t = s (q_t * exp(G_t))^T H_n + sum_{u <= t} A[t,u] v_u.
Mat chunk_fwd_o(const Seq& x, const ChunkSaved& sv, const GlaDims& d, int64_t C, double s) {
    Mat o(d.T, d.V);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        const Mat& Hn = sv.H[size_t(n)];
        for (int64_t t = c.t0; t < c.t1; ++t) {
            for (int64_t i = 0; i < d.K; ++i) {
                const double qd = s * x.q[t][i] * std::exp(sv.G[t][i]);  // decayed query, exponent <= 0
                for (int64_t j = 0; j < d.V; ++j) o[t][j] += qd * Hn[i][j];
            }
            for (int64_t u = c.t0; u <= t; ++u)
                for (int64_t j = 0; j < d.V; ++j) o[t][j] += sv.A[t][u - c.t0] * x.v[u][j];
        }
    }
    return o;
}

ChunkSaved chunk_forward_saved(const Seq& x, const GlaDims& d, int64_t C, double s) {
    ChunkSaved sv;
    sv.G = chunk_local_cumsum(x.g, d, C);
    sv.H = chunk_fwd_h(x, sv.G, d, C);
    sv.A = chunk_fwd_intra(x, sv.G, d, C, s);
    return sv;
}

// ---- backward -------------------------------------------------------------------------------------------

// Gradients of one (b, h) sequence, with the parts of dq and dk kept apart for dg.
struct SeqGrads {
    Mat dq_inter, dq_strict;  // (T, K)  s exp(G_t) * (H_n dO_t);  sum_{u < t} dA[t,u] k_u * exp(G_t - G_u)
    Mat dk_inter, dk_strict;  // (T, K)  exp(Gamma - G_u) * (D_n v_u);  sum_{t > u} dA[t,u] q_t * exp(G_t - G_u)
    Mat dq, dk, dv, dg;       // (T, K), (T, K), (T, V), (T, K)
    Mat dh0;                  // (K, V)
};

// D[n] = dL/dH_{n+1}; returns D (N entries) and leaves dh0 = dL/dH_0 in dh0.
std::vector<Mat> chunk_bwd_dh(const Seq& x, const Mat& dout, const Mat& dht, const Mat& G, const GlaDims& d, int64_t C,
                              double s, Mat& dh0) {
    const int64_t N = num_chunks(d, C);
    std::vector<Mat> D{size_t(N)};
    Mat cur = dht;
    for (int64_t n = N - 1; n >= 0; --n) {
        const Span c = chunk_span(d, C, n);
        D[size_t(n)] = cur;
        const double* Gam = G[c.t1 - 1];
        for (int64_t i = 0; i < d.K; ++i)
            for (int64_t j = 0; j < d.V; ++j) cur[i][j] *= std::exp(Gam[i]);
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t i = 0; i < d.K; ++i) {
                const double qd = s * x.q[t][i] * std::exp(G[t][i]);
                for (int64_t j = 0; j < d.V; ++j) cur[i][j] += qd * dout[t][j];
            }
    }
    dh0 = cur;
    return D;
}

// dv_u = sum_{t >= u} A[t,u] dO_t + D_n^T (k_u * exp(Gamma_n - G_u)).
Mat chunk_bwd_dv(const Seq& x, const Mat& dout, const ChunkSaved& sv, const std::vector<Mat>& D, const GlaDims& d,
                 int64_t C) {
    Mat dv(d.T, d.V);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        const double* Gam = sv.G[c.t1 - 1];
        for (int64_t u = c.t0; u < c.t1; ++u) {
            for (int64_t t = u; t < c.t1; ++t)
                for (int64_t j = 0; j < d.V; ++j) dv[u][j] += sv.A[t][u - c.t0] * dout[t][j];
            for (int64_t i = 0; i < d.K; ++i) {
                const double kd = x.k[u][i] * std::exp(Gam[i] - sv.G[u][i]);
                for (int64_t j = 0; j < d.V; ++j) dv[u][j] += kd * D[size_t(n)][i][j];
            }
        }
    }
    return dv;
}

// dA[t,u] = s <dO_t, v_u> for u <= t in the same chunk (the gradient w.r.t. the unscaled score A / s).
Mat chunk_bwd_dA(const Seq& x, const Mat& dout, const GlaDims& d, int64_t C, double s) {
    Mat dA(d.T, C);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t u = c.t0; u <= t; ++u) {
                double acc = 0;
                for (int64_t j = 0; j < d.V; ++j) acc += dout[t][j] * x.v[u][j];
                dA[t][u - c.t0] = s * acc;
            }
    }
    return dA;
}

// Intra-chunk dq/dk, strictly off the diagonal (u < t); the diagonal term dA[t,t] (k_t or q_t) is added in
// chunk_bwd_combine. Every exponent G_t - G_u has u < t, so it is <= 0.
void chunk_bwd_intra(const Seq& x, const Mat& dA, const Mat& G, const GlaDims& d, int64_t C, SeqGrads& gr) {
    gr.dq_strict = Mat(d.T, d.K);
    gr.dk_strict = Mat(d.T, d.K);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t u = c.t0; u < t; ++u) {
                const double a = dA[t][u - c.t0];
                for (int64_t i = 0; i < d.K; ++i) {
                    const double e = std::exp(G[t][i] - G[u][i]);
                    gr.dq_strict[t][i] += a * x.k[u][i] * e;
                    gr.dk_strict[u][i] += a * x.q[t][i] * e;
                }
            }
    }
}

// Inter-chunk dq/dk: dq_t = s exp(G_t) * (H_n dO_t);  dk_u = exp(Gamma_n - G_u) * (D_n v_u).
void chunk_bwd_inter(const Seq& x, const Mat& dout, const ChunkSaved& sv, const std::vector<Mat>& D, const GlaDims& d,
                     int64_t C, double s, SeqGrads& gr) {
    gr.dq_inter = Mat(d.T, d.K);
    gr.dk_inter = Mat(d.T, d.K);
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        const Mat &Hn = sv.H[size_t(n)], &Dn = D[size_t(n)];
        const double* Gam = sv.G[c.t1 - 1];
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t i = 0; i < d.K; ++i) {
                double hq = 0, dk = 0;
                for (int64_t j = 0; j < d.V; ++j) {
                    hq += Hn[i][j] * dout[t][j];
                    dk += Dn[i][j] * x.v[t][j];
                }
                gr.dq_inter[t][i] = s * std::exp(sv.G[t][i]) * hq;
                gr.dk_inter[t][i] = std::exp(Gam[i] - sv.G[t][i]) * dk;
            }
    }
}

// dq = inter + strict + dA[t,t] k_t;  dk = inter + strict + dA[t,t] q_t.
void chunk_bwd_combine(const Seq& x, const Mat& dA, const GlaDims& d, int64_t C, SeqGrads& gr) {
    gr.dq = Mat(d.T, d.K);
    gr.dk = Mat(d.T, d.K);
    for (int64_t t = 0; t < d.T; ++t) {
        const double a = dA[t][t % C];  // diagonal entry dA[t,t]
        for (int64_t i = 0; i < d.K; ++i) {
            gr.dq[t][i] = gr.dq_inter[t][i] + gr.dq_strict[t][i] + a * x.k[t][i];
            gr.dk[t][i] = gr.dk_inter[t][i] + gr.dk_strict[t][i] + a * x.q[t][i];
        }
    }
}

// dg_t = sum_{t' >= t} (q*dq - k*dk)_{t'} + exp(Gamma_n) * rowsum(H_n * D_n) + sum_{u in n} k_u * dk^inter_u,
// evaluated without its exactly cancelling terms (docs/gla_math.md §6.3):
//   the diagonal dA[t,t] parts of q*dq and k*dk cancel, and -k_t * dk^inter_t cancels against the chunk sum,
//   leaving  dg_t = sum_{t' >= t} (q*(dq^inter + dq^strict) - k*dk^strict)_{t'} + sum_{u < t} k_u * dk^inter_u
//                   + exp(Gamma_n) * rowsum(H_n * D_n).
Mat chunk_bwd_dg(const Seq& x, const ChunkSaved& sv, const std::vector<Mat>& D, const GlaDims& d, int64_t C,
                 const SeqGrads& gr) {
    Mat dg(d.T, d.K);
    std::vector<double> chunk_term(size_t(d.K)), rev(size_t(d.K)), fwd(size_t(d.K));
    for (int64_t n = 0; n < num_chunks(d, C); ++n) {
        const Span c = chunk_span(d, C, n);
        const Mat &Hn = sv.H[size_t(n)], &Dn = D[size_t(n)];
        for (int64_t i = 0; i < d.K; ++i) {
            double acc = 0;
            for (int64_t j = 0; j < d.V; ++j) acc += Hn[i][j] * Dn[i][j];
            chunk_term[size_t(i)] = std::exp(sv.G[c.t1 - 1][i]) * acc;
        }
        // Exclusive forward cumsum of k * dk^inter, stored in dg for now.
        std::fill(fwd.begin(), fwd.end(), 0.0);
        for (int64_t t = c.t0; t < c.t1; ++t)
            for (int64_t i = 0; i < d.K; ++i) {
                dg[t][i] = fwd[size_t(i)];
                fwd[size_t(i)] += x.k[t][i] * gr.dk_inter[t][i];
            }
        // Inclusive reverse cumsum of dG_t = q*(dq^inter + dq^strict) - k*dk^strict.
        std::fill(rev.begin(), rev.end(), 0.0);
        for (int64_t t = c.t1 - 1; t >= c.t0; --t)
            for (int64_t i = 0; i < d.K; ++i) {
                rev[size_t(i)] += x.q[t][i] * (gr.dq_inter[t][i] + gr.dq_strict[t][i]) - x.k[t][i] * gr.dk_strict[t][i];
                dg[t][i] += rev[size_t(i)] + chunk_term[size_t(i)];
            }
    }
    return dg;
}

}  // namespace

void gla_chunk_forward_ref(const GlaInputs& in, const GlaDims& d, double s, const GlaOutputs& out) {
    const int64_t C = in.chunk;
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.H; ++h) {
            const Seq x = gather_inputs(in, d, b, h);
            const ChunkSaved sv = chunk_forward_saved(x, d, C, s);
            scatter_seq(chunk_fwd_o(x, sv, d, C, s), out.o, d, b, h);
            scatter_state(sv.H.back(), out.ht, d, b, h);
        }
}

void gla_chunk_backward_ref(const GlaInputs& in, const GlaDims& d, double s, const GlaGradOutputs& gout,
                            const GlaGrads& grads) {
    const int64_t C = in.chunk;
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.H; ++h) {
            const Seq x = gather_inputs(in, d, b, h);
            const Mat dout = gather_seq(gout.dout, d, b, h);  // (T, V)
            const Mat dht = gather_state(gout.dht, d, b, h);  // (K, V)
            const ChunkSaved sv = chunk_forward_saved(x, d, C, s);
            SeqGrads gr;
            const std::vector<Mat> D = chunk_bwd_dh(x, dout, dht, sv.G, d, C, s, gr.dh0);
            gr.dv = chunk_bwd_dv(x, dout, sv, D, d, C);
            const Mat dA = chunk_bwd_dA(x, dout, d, C, s);
            chunk_bwd_intra(x, dA, sv.G, d, C, gr);
            chunk_bwd_inter(x, dout, sv, D, d, C, s, gr);
            chunk_bwd_combine(x, dA, d, C, gr);
            gr.dg = chunk_bwd_dg(x, sv, D, d, C, gr);
            scatter_seq(gr.dq, grads.dq, d, b, h);
            scatter_seq(gr.dk, grads.dk, d, b, h);
            scatter_seq(gr.dv, grads.dv, d, b, h);
            scatter_seq(gr.dg, grads.dg, d, b, h);
            scatter_state(gr.dh0, grads.dh0, d, b, h);
        }
}

}  // namespace hgrn
