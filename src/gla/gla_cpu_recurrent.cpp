// gla_cpu_recurrent.cpp — fp32 CPU recurrent GLA: token-by-token forward and backward and the one-token decode step
// (gla_recurrent_forward_cpu, gla_recurrent_backward_cpu, gla_step_cpu).
//
// Per (b, h), with S a K x V fp32 state (row-major, the layout of h0/ht):
//     S_t = Diag(e^{g_t}) S_{t-1} + k_t v_t^T,   o_t = s S_t^T q_t.
// Backward in two sweeps that keep no per-token states (SPEC.md §4.4): a forward sweep recomputes S_t and writes
// dq_t = s S_t do_t; a reverse sweep carries dS (from dht) and, per row i of the state,
//     dS_i += s q_ti do_t;  dk_ti = <dS_i, v_t>;  dv_t += k_ti dS_i;  dS_i *= e^{g_ti};
//     dg_ti = dg_{t+1,i} + q_ti dq_ti - k_ti dk_ti, started from rowsum(S_T ⊙ dht)_i;   dh0 = dS at the end.
// The running dg sum is re-anchored every 64 tokens to rowsum(S_t ⊙ dS) from states saved by the forward sweep,
// so its rounding error never spans more than 64 tokens (under strong decay it cancels to tiny values).
// Every exponent is g <= 0, so no gate strength can overflow. The forward keeps v and the output in registers and
// touches each state element once per token. Parallel over (b, h) with OpenMP. fp32 with fp32 accumulation.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "gla/gla_backends.h"
#include "gla/gla_cpu_kernels.h"

namespace hgrn {
namespace {
using namespace gla_cpu;

constexpr int64_t kGateBlock = 256;  // exps of one token's gates are computed this many at a time

// Rows [0, n) of the state, columns [0, 16 NV): S_i = a_i S_i + k_i v and o += (s q_i) S_i, with v and the o
// accumulators in registers so that the state is read and written exactly once.
template <int NV>
void rows_update(int64_t n, const float* a, const float* k, const float* q, float s, const float* v, float* S,
                 int64_t ldS, float* o) {
    Vec16 vv[NV], acc[NV];
    for (int x = 0; x < NV; ++x) {
        vv[x] = load(v + x * kLanes);
        acc[x] = o ? load(o + x * kLanes) : Vec16{};
    }
    for (int64_t i = 0; i < n; ++i) {
        float* row = S + i * ldS;
        const float ai = a[i], ki = k[i], qi = o ? s * q[i] : 0.0f;
        for (int x = 0; x < NV; ++x) {
            const Vec16 r = ai * load(row + x * kLanes) + ki * vv[x];
            store(row + x * kLanes, r);
            acc[x] += qi * r;
        }
    }
    if (o)
        for (int x = 0; x < NV; ++x) store(o + x * kLanes, acc[x]);
}

// The same for columns that do not fill a vector.
void rows_update_tail(int64_t n, const float* a, const float* k, const float* q, float s, const float* v, float* S,
                      int64_t ldS, float* o, int64_t cols) {
    for (int64_t i = 0; i < n; ++i) {
        float* row = S + i * ldS;
        for (int64_t j = 0; j < cols; ++j) {
            row[j] = a[i] * row[j] + k[i] * v[j];
            if (o) o[j] += s * q[i] * row[j];
        }
    }
}

// One token: S = Diag(e^g) S + k v^T and o = s S^T q (o may be null: state update only). Columns in blocks of 64.
void token_forward(const float* q, const float* k, const float* v, const float* g, float* S, float* o, int64_t K,
                   int64_t V, float s) {
    float a[kGateBlock];
    if (o) std::fill(o, o + V, 0.0f);
    for (int64_t i0 = 0; i0 < K; i0 += kGateBlock) {
        const int64_t n = std::min(kGateBlock, K - i0);
        for (int64_t i = 0; i < n; ++i) a[i] = exp_f32(g[i0 + i]);
        float* S0 = S + i0 * V;
        int64_t j = 0;
        for (; j + 4 * kLanes <= V; j += 4 * kLanes)
            rows_update<4>(n, a, k + i0, q + i0, s, v + j, S0 + j, V, o ? o + j : nullptr);
        for (; j + kLanes <= V; j += kLanes)
            rows_update<1>(n, a, k + i0, q + i0, s, v + j, S0 + j, V, o ? o + j : nullptr);
        if (j < V) rows_update_tail(n, a, k + i0, q + i0, s, v + j, S0 + j, V, o ? o + j : nullptr, V - j);
    }
}

// The rows of one (b, h) in a (B, T, H, X) tensor.
template <class P>
P* rows_of(const Tensor& x, const GlaDims& d, int64_t b, int64_t h) {
    return static_cast<P*>(x.data()) + (b * d.T * d.H + h) * x.size(3);
}
const float* state_of(const Tensor& s, const GlaDims& d, int64_t b, int64_t h) {
    return s.empty() ? nullptr : s.ptr<float>() + (b * d.H + h) * d.K * d.V;
}

void load_state(std::vector<float>& S, const float* src) {
    if (src)
        std::copy(src, src + S.size(), S.begin());
    else
        std::fill(S.begin(), S.end(), 0.0f);
}

// Per-thread scratch of the recurrent backward: the state and its gradient, the dg running sum, and the state
// every kAnchor tokens (anchors[m] = S after token (m + 1) kAnchor - 1).
constexpr int64_t kAnchor = 64;
struct BackwardScratch {
    std::vector<float> S, dS, gacc, anchors;
    explicit BackwardScratch(const GlaDims& d)
        : S(size_t(d.K * d.V)),
          dS(size_t(d.K * d.V)),
          gacc(size_t(d.K)),
          anchors(size_t((d.T - 1) / kAnchor * d.K * d.V)) {}
};

// gacc = rowsum(S ⊙ dS): the dg running sum re-anchored at a known state, so that its rounding error spans at most
// kAnchor tokens (the sum of q dq - k dk cancels to tiny values under strong decay).
void anchor_gate_sum(const float* S, const float* dS, float* gacc, int64_t K, int64_t V) {
    for (int64_t i = 0; i < K; ++i) {
        const float* __restrict a = S + i * V;
        const float* __restrict b = dS + i * V;
        float acc = 0;
        for (int64_t j = 0; j < V; ++j) acc += a[j] * b[j];
        gacc[i] = acc;
    }
}

// Forward sweep of the backward: S_T into w.S, anchors, dq_t = s S_t do_t.
void backward_forward_sweep(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& gr, const GlaDims& d,
                            float s, int64_t b, int64_t h, BackwardScratch& w) {
    const int64_t rk = d.H * d.K, rv = d.H * d.V, KV = d.K * d.V;
    const float *q = rows_of<const float>(in.q, d, b, h), *k = rows_of<const float>(in.k, d, b, h),
                *v = rows_of<const float>(in.v, d, b, h), *g = rows_of<const float>(in.g, d, b, h),
                *dout = rows_of<const float>(gout.dout, d, b, h);
    float* dq = rows_of<float>(gr.dq, d, b, h);
    load_state(w.S, state_of(in.h0, d, b, h));
    for (int64_t t = 0; t < d.T; ++t) {
        token_forward(q + t * rk, k + t * rk, v + t * rv, g + t * rk, w.S.data(), nullptr, d.K, d.V, s);
        const float* __restrict dot = dout + t * rv;
        for (int64_t i = 0; i < d.K; ++i) {
            const float* __restrict row = w.S.data() + i * d.V;
            float acc = 0;
            for (int64_t j = 0; j < d.V; ++j) acc += row[j] * dot[j];
            dq[t * rk + i] = s * acc;
        }
        if ((t + 1) % kAnchor == 0 && t + 1 < d.T)
            std::copy(w.S.begin(), w.S.end(), w.anchors.begin() + ((t + 1) / kAnchor - 1) * KV);
    }
}

// One token of the reverse sweep (see the file comment); dS and gacc carried, dk_t / dv_t / dg_t written.
void token_backward(const float* q, const float* k, const float* __restrict v, const float* g, const float* dq,
                    const float* __restrict dout, float* __restrict dS, float* gacc, float* dk, float* __restrict dv,
                    float* dg, int64_t K, int64_t V, float s) {
    float a[kGateBlock];
    std::fill(dv, dv + V, 0.0f);
    for (int64_t i0 = 0; i0 < K; i0 += kGateBlock) {
        const int64_t n = std::min(kGateBlock, K - i0);
        for (int64_t i = 0; i < n; ++i) a[i] = exp_f32(g[i0 + i]);
        for (int64_t ii = 0; ii < n; ++ii) {
            const int64_t i = i0 + ii;
            float* __restrict row = dS + i * V;
            const float qi = s * q[i], ki = k[i], ai = a[ii];
            float dki = 0;
            for (int64_t j = 0; j < V; ++j) {
                const float x = row[j] + qi * dout[j];
                dki += x * v[j];
                dv[j] += ki * x;
                row[j] = ai * x;
            }
            dk[i] = dki;
            gacc[i] += q[i] * dq[i] - ki * dki;
            dg[i] = gacc[i];
        }
    }
}

void backward_one(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& gr, const GlaDims& d, float s,
                  int64_t b, int64_t h, BackwardScratch& w) {
    backward_forward_sweep(in, gout, gr, d, s, b, h, w);
    const int64_t rk = d.H * d.K, rv = d.H * d.V, KV = d.K * d.V;
    load_state(w.dS, state_of(gout.dht, d, b, h));
    anchor_gate_sum(w.S.data(), w.dS.data(), w.gacc.data(), d.K, d.V);  // dg_T starts from rowsum(S_T ⊙ dht)
    const float *q = rows_of<const float>(in.q, d, b, h), *k = rows_of<const float>(in.k, d, b, h),
                *v = rows_of<const float>(in.v, d, b, h), *g = rows_of<const float>(in.g, d, b, h),
                *dout = rows_of<const float>(gout.dout, d, b, h), *dq = rows_of<const float>(gr.dq, d, b, h);
    float *dk = rows_of<float>(gr.dk, d, b, h), *dv = rows_of<float>(gr.dv, d, b, h),
          *dg = rows_of<float>(gr.dg, d, b, h);
    for (int64_t t = d.T - 1; t >= 0; --t) {
        if ((t + 1) % kAnchor == 0 && t + 1 < d.T)  // dS now holds dL/dS_t from the tokens after t
            anchor_gate_sum(w.anchors.data() + ((t + 1) / kAnchor - 1) * KV, w.dS.data(), w.gacc.data(), d.K, d.V);
        token_backward(q + t * rk, k + t * rk, v + t * rv, g + t * rk, dq + t * rk, dout + t * rv, w.dS.data(),
                       w.gacc.data(), dk + t * rk, dv + t * rv, dg + t * rk, d.K, d.V, s);
    }
    if (!gr.dh0.empty()) std::copy(w.dS.begin(), w.dS.end(), gr.dh0.ptr<float>() + (b * d.H + h) * KV);
}

int threads_for(int64_t items) { return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), items))); }

}  // namespace

void gla_recurrent_forward_cpu(const GlaInputs& in, const GlaDims& d, float s, const GlaOutputs& out) {
    const int64_t BH = d.B * d.H, KV = d.K * d.V, rk = d.H * d.K, rv = d.H * d.V;
    const int nth = threads_for(BH);
#pragma omp parallel num_threads(nth)
    {
        FlushDenormals ftz;
        std::vector<float> S(static_cast<size_t>(KV));  // per thread, once per call
#pragma omp for schedule(dynamic, 1)
        for (int64_t bh = 0; bh < BH; ++bh) {
            const int64_t b = bh / d.H, h = bh % d.H;
            load_state(S, state_of(in.h0, d, b, h));
            const float *q = rows_of<const float>(in.q, d, b, h), *k = rows_of<const float>(in.k, d, b, h),
                        *v = rows_of<const float>(in.v, d, b, h), *g = rows_of<const float>(in.g, d, b, h);
            float* o = rows_of<float>(out.o, d, b, h);
            for (int64_t t = 0; t < d.T; ++t)
                token_forward(q + t * rk, k + t * rk, v + t * rv, g + t * rk, S.data(), o + t * rv, d.K, d.V, s);
            if (!out.ht.empty()) std::copy(S.begin(), S.end(), out.ht.ptr<float>() + bh * KV);
        }
    }
}

void gla_recurrent_backward_cpu(const GlaInputs& in, const GlaDims& d, float s, const GlaGradOutputs& gout,
                                const GlaGrads& grads) {
    const int64_t BH = d.B * d.H;
    const int nth = threads_for(BH);
#pragma omp parallel num_threads(nth)
    {
        FlushDenormals ftz;
        BackwardScratch w(d);  // per thread, once per call
#pragma omp for schedule(dynamic, 1)
        for (int64_t bh = 0; bh < BH; ++bh) backward_one(in, gout, grads, d, s, bh / d.H, bh % d.H, w);
    }
}

void gla_step_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
                  const Tensor& o, const GlaDims& d, float s) {
    const int64_t BH = d.B * d.H, K = d.K, V = d.V;
    const float *qp = q.ptr<float>(), *kp = k.ptr<float>(), *vp = v.ptr<float>(), *gp = g.ptr<float>();
    float *sp = state.ptr<float>(), *op = o.ptr<float>();
    // Threads only pay off once there is real work: about 64K state elements per thread.
    const int nth = threads_for(std::min(BH, BH * K * V / (1 << 16)));
#pragma omp parallel num_threads(nth)
    {
        FlushDenormals ftz;  // a state decayed step after step would otherwise end up in slow denormals
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < BH; ++bh)
            token_forward(qp + bh * K, kp + bh * K, vp + bh * V, gp + bh * K, sp + bh * K * V, op + bh * V, K, V, s);
    }
}

}  // namespace hgrn
