// gla_ref.cpp — float64 reference of the GLA recurrence: the recurrent definition (this part) and the
// chunkwise algorithm (gla_ref_chunk.cpp), forward and backward. Naive on purpose: every fast path is judged
// against these functions, so they are written straight from the equations of docs/gla_math.md.
//
// Recurrent form, per (b, h), with S a K x V matrix:
//     S_t = Diag(exp g_t) S_{t-1} + k_t v_t^T,   o_t = s S_t^T q_t.
// Backward, with dS the gradient w.r.t. S_t (dS = dht after the last token):
//     dS += s q_t do_t^T;  dq_t = s S_t do_t;  dk_t = dS v_t;  dv_t = dS^T k_t;
//     dg_t = exp(g_t) ⊙ rowsum(dS ⊙ S_{t-1});  then dS ← Diag(exp g_t) dS;  finally dh0 = dS.
// The backward recomputes the states segment by segment (checkpoints every kSegment tokens) to bound memory.
#include <cmath>
#include <vector>

#include "gla/gla_backends.h"

namespace hgrn {
namespace {

constexpr int64_t kSegment = 64;

// Strided access to one (b, h) slice of a (B, T, H, X) tensor.
struct Seq {
    const double* p;
    int64_t row;  // stride between tokens = H * X
    const double* at(int64_t t) const { return p + t * row; }
};
struct SeqOut {
    double* p;
    int64_t row;
    double* at(int64_t t) const { return p + t * row; }
};

Seq seq(const Tensor& x, const GlaDims& d, int64_t b, int64_t h) {
    const int64_t X = x.size(3);
    return {x.ptr<double>() + (b * d.T * d.H + h) * X, d.H * X};
}
SeqOut seq_out(const Tensor& x, const GlaDims& d, int64_t b, int64_t h) {
    const int64_t X = x.size(3);
    return {x.ptr<double>() + (b * d.T * d.H + h) * X, d.H * X};
}
const double* state_in(const Tensor& s, const GlaDims& d, int64_t b, int64_t h) {
    return s.empty() ? nullptr : s.ptr<double>() + (b * d.H + h) * d.K * d.V;
}
double* state_out(const Tensor& s, const GlaDims& d, int64_t b, int64_t h) {
    return s.empty() ? nullptr : s.ptr<double>() + (b * d.H + h) * d.K * d.V;
}

// S ← Diag(exp g) S + k v^T
void step_state(std::vector<double>& S, const double* k, const double* v, const double* g, const GlaDims& d) {
    for (int64_t i = 0; i < d.K; ++i) {
        const double a = std::exp(g[i]);
        for (int64_t j = 0; j < d.V; ++j) S[i * d.V + j] = a * S[i * d.V + j] + k[i] * v[j];
    }
}

}  // namespace

void gla_recurrent_forward_ref(const GlaInputs& in, const GlaDims& d, double s, const GlaOutputs& out) {
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.H; ++h) {
            std::vector<double> S(size_t(d.K * d.V), 0.0);
            if (const double* s0 = state_in(in.h0, d, b, h)) S.assign(s0, s0 + d.K * d.V);
            const Seq q = seq(in.q, d, b, h), k = seq(in.k, d, b, h), v = seq(in.v, d, b, h), g = seq(in.g, d, b, h);
            const SeqOut o = seq_out(out.o, d, b, h);
            for (int64_t t = 0; t < d.T; ++t) {
                step_state(S, k.at(t), v.at(t), g.at(t), d);
                for (int64_t j = 0; j < d.V; ++j) {
                    double acc = 0;
                    for (int64_t i = 0; i < d.K; ++i) acc += S[i * d.V + j] * q.at(t)[i];
                    o.at(t)[j] = s * acc;
                }
            }
            if (double* st = state_out(out.ht, d, b, h)) std::copy(S.begin(), S.end(), st);
        }
}

void gla_recurrent_backward_ref(const GlaInputs& in, const GlaDims& d, double s, const GlaGradOutputs& gout,
                                const GlaGrads& gr) {
    const int64_t KV = d.K * d.V, nseg = (d.T + kSegment - 1) / kSegment;
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.H; ++h) {
            const Seq q = seq(in.q, d, b, h), k = seq(in.k, d, b, h), v = seq(in.v, d, b, h), g = seq(in.g, d, b, h);
            const Seq dout = seq(gout.dout, d, b, h);
            const SeqOut dq = seq_out(gr.dq, d, b, h), dk = seq_out(gr.dk, d, b, h), dv = seq_out(gr.dv, d, b, h),
                         dg = seq_out(gr.dg, d, b, h);
            // Forward sweep: the state before each segment.
            std::vector<std::vector<double>> ckpt{size_t(nseg)};
            std::vector<double> S(size_t(KV), 0.0);
            if (const double* s0 = state_in(in.h0, d, b, h)) S.assign(s0, s0 + KV);
            for (int64_t n = 0; n < nseg; ++n) {
                ckpt[size_t(n)] = S;
                for (int64_t t = n * kSegment; t < std::min(d.T, (n + 1) * kSegment); ++t)
                    step_state(S, k.at(t), v.at(t), g.at(t), d);
            }
            // Reverse sweep.
            std::vector<double> dS(size_t(KV), 0.0);
            if (const double* dht = state_in(gout.dht, d, b, h)) dS.assign(dht, dht + KV);
            for (int64_t n = nseg - 1; n >= 0; --n) {
                const int64_t t0 = n * kSegment, t1 = std::min(d.T, t0 + kSegment);
                std::vector<std::vector<double>> states{size_t(t1 - t0 + 1)};  // states[u] = S_{t0 + u - 1}
                states[0] = ckpt[size_t(n)];
                for (int64_t t = t0; t < t1; ++t) {
                    states[size_t(t - t0 + 1)] = states[size_t(t - t0)];
                    step_state(states[size_t(t - t0 + 1)], k.at(t), v.at(t), g.at(t), d);
                }
                for (int64_t t = t1 - 1; t >= t0; --t) {
                    const std::vector<double>& St = states[size_t(t - t0 + 1)];
                    const std::vector<double>& Sp = states[size_t(t - t0)];
                    for (int64_t i = 0; i < d.K; ++i)
                        for (int64_t j = 0; j < d.V; ++j) dS[i * d.V + j] += s * q.at(t)[i] * dout.at(t)[j];
                    for (int64_t i = 0; i < d.K; ++i) {
                        double aq = 0, ak = 0, ag = 0;
                        for (int64_t j = 0; j < d.V; ++j) {
                            aq += St[i * d.V + j] * dout.at(t)[j];
                            ak += dS[i * d.V + j] * v.at(t)[j];
                            ag += dS[i * d.V + j] * Sp[i * d.V + j];
                        }
                        dq.at(t)[i] = s * aq;
                        dk.at(t)[i] = ak;
                        dg.at(t)[i] = std::exp(g.at(t)[i]) * ag;
                    }
                    for (int64_t j = 0; j < d.V; ++j) {
                        double a = 0;
                        for (int64_t i = 0; i < d.K; ++i) a += dS[i * d.V + j] * k.at(t)[i];
                        dv.at(t)[j] = a;
                    }
                    for (int64_t i = 0; i < d.K; ++i) {
                        const double a = std::exp(g.at(t)[i]);
                        for (int64_t j = 0; j < d.V; ++j) dS[i * d.V + j] *= a;
                    }
                }
            }
            if (double* dh0 = state_out(gr.dh0, d, b, h)) std::copy(dS.begin(), dS.end(), dh0);
        }
}

}  // namespace hgrn
