// gla.cpp — argument validation and backend dispatch for the GLA API (gla.h).
// The fused HGRN2 form (k absent) is expanded here for the CPU backends: k = 1 - exp(g) is materialised,
// and in backward dg += -exp(g) * dk. The CUDA backend receives k absent and computes it on chip.
#include "gla/gla.h"

#include <cmath>
#include <cstring>
#include <vector>
#include <algorithm>

#include "gla/gla_backends.h"

namespace hgrn {
namespace {

enum class Backend { ref, cpu, cuda };

Backend pick_backend(const Tensor& q) {
    if (q.device() == Device::cuda) return Backend::cuda;
    if (q.dtype() == DType::f64) return Backend::ref;
    HGRN_CHECK(q.dtype() == DType::f32, "GLA on the CPU takes f64 (reference) or f32 tensors, got ",
               dtype_name(q.dtype()));
    return Backend::cpu;
}

void check_like(const Tensor& t, const Tensor& q, const char* name, Shape shape) {
    check_shape(t, name, shape);
    HGRN_CHECK(t.is_contiguous(), "GLA: ", name, " must be contiguous");
    HGRN_CHECK(t.device() == q.device(), "GLA: ", name, " is on another device than q (", t.describe(), ")");
    // On the GPU, q/k/v may be bf16 while g and the states are f32; on the CPU everything shares one dtype.
    if (q.device() == Device::cpu)
        HGRN_CHECK(t.dtype() == q.dtype(), "GLA: ", name, " is ", dtype_name(t.dtype()), " but q is ",
                   dtype_name(q.dtype()));
}

void check_optional(const Tensor& t, const Tensor& q, const char* name, Shape shape) {
    if (!t.empty()) check_like(t, q, name, shape);
}

Shape qk_shape(const GlaDims& d) { return {d.B, d.T, d.H, d.K}; }
Shape v_shape(const GlaDims& d) { return {d.B, d.T, d.H, d.V}; }
Shape state_shape(const GlaDims& d) { return {d.B, d.H, d.K, d.V}; }

// CPU backends need k: materialise k = 1 - exp(g) when it is absent.
struct FusedKey {
    Buffer k;
    GlaInputs in;
    explicit FusedKey(const GlaInputs& src) : in(src) {
        if (!src.k.empty()) return;
        k = Buffer(src.g.dtype(), src.g.shape());
        const int64_t n = src.g.numel();
        if (src.g.dtype() == DType::f64) {
            for (int64_t i = 0; i < n; ++i) k.ptr<double>()[i] = 1.0 - std::exp(src.g.ptr<double>()[i]);
        } else {
            for (int64_t i = 0; i < n; ++i) k.ptr<float>()[i] = 1.0f - std::exp(src.g.ptr<float>()[i]);
        }
        in.k = k.view();
    }
};

// After a backward with a materialised k: dg += -exp(g) * dk.
void add_fused_key_grad(const Tensor& g, const Tensor& dk, const Tensor& dg) {
    const int64_t n = g.numel();
    if (g.dtype() == DType::f64) {
        for (int64_t i = 0; i < n; ++i) dg.ptr<double>()[i] -= std::exp(g.ptr<double>()[i]) * dk.ptr<double>()[i];
    } else {
        for (int64_t i = 0; i < n; ++i) dg.ptr<float>()[i] -= std::exp(g.ptr<float>()[i]) * dk.ptr<float>()[i];
    }
}

void check_states(const Tensor& t, const GlaInputs& in, const GlaDims& d) {
    if (t.empty()) return;
    check_like(t, in.q, "states", gla_states_shape(d));
    HGRN_CHECK(in.chunk == kGlaChunk, "GLA: chunk states are defined per ", kGlaChunk, " tokens; chunk is ", in.chunk);
    if (t.device() == Device::cuda) HGRN_CHECK(t.dtype() == DType::f32, "GLA: states on the GPU must be f32");
}

void check_outputs(const GlaInputs& in, const GlaDims& d, const GlaOutputs& out) {
    check_like(out.o, in.q, "o", v_shape(d));
    check_optional(out.ht, in.q, "ht", state_shape(d));
    check_states(out.states, in, d);
}

// The chunk states of GlaOutputs::states on the CPU, by the recurrence (S before tokens 0, 64, 128, ...).
template <class F>
void chunk_states_cpu(const GlaInputs& in, const GlaDims& d, const Tensor& states) {
    const int64_t KV = d.K * d.V, N = gla_states_shape(d)[2];
    std::vector<F> S(static_cast<size_t>(KV));
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.H; ++h) {
            const F* h0 = in.h0.empty() ? nullptr : in.h0.ptr<F>() + (b * d.H + h) * KV;
            for (int64_t i = 0; i < KV; ++i) S[size_t(i)] = h0 ? h0[i] : F(0);
            F* dst = states.ptr<F>() + (b * d.H + h) * N * KV;
            for (int64_t t = 0; t < d.T; ++t) {
                if (t % kGlaChunk == 0) std::copy(S.begin(), S.end(), dst + (t / kGlaChunk) * KV);
                const int64_t qk = ((b * d.T + t) * d.H + h) * d.K, vo = ((b * d.T + t) * d.H + h) * d.V;
                for (int64_t j = 0; j < d.K; ++j) {
                    const F f = std::exp(in.g.ptr<F>()[qk + j]), kj = in.k.ptr<F>()[qk + j];
                    F* row = S.data() + j * d.V;
                    for (int64_t c = 0; c < d.V; ++c) row[c] = f * row[c] + kj * in.v.ptr<F>()[vo + c];
                }
            }
        }
}

void check_grads(const GlaInputs& in, const GlaDims& d, const GlaGradOutputs& gout, const GlaGrads& gr) {
    check_like(gout.dout, in.q, "dout", v_shape(d));
    check_optional(gout.dht, in.q, "dht", state_shape(d));
    check_like(gr.dq, in.q, "dq", qk_shape(d));
    check_like(gr.dv, in.q, "dv", v_shape(d));
    check_like(gr.dg, in.q, "dg", qk_shape(d));
    if (in.k.empty()) HGRN_CHECK(gr.dk.empty(), "GLA: dk must be absent when k is (fused HGRN2 form)");
    else check_like(gr.dk, in.q, "dk", qk_shape(d));
    check_optional(gr.dh0, in.q, "dh0", state_shape(d));
}


// Runs a CPU backward, expanding the fused key form around it.
template <class Fn>
void cpu_backward(const GlaInputs& in, const GlaDims& d, const GlaGradOutputs& gout, const GlaGrads& grads, Fn fn) {
    FusedKey fk(in);
    if (!in.k.empty()) {
        fn(fk.in, gout, grads);
        return;
    }
    Buffer dk(in.g.dtype(), in.g.shape());
    GlaGrads g2 = grads;
    g2.dk = dk.view();
    fn(fk.in, gout, g2);
    add_fused_key_grad(in.g, dk.view(), grads.dg);
}

}  // namespace

GlaDims gla_check(const GlaInputs& in) {
    HGRN_CHECK(!in.q.empty(), "GLA: q is required");
    HGRN_CHECK(!in.v.empty(), "GLA: v is required");
    HGRN_CHECK(!in.g.empty(), "GLA: g (log forget gate) is required");
    HGRN_CHECK(in.q.ndim() == 4, "GLA: q must be (B, T, H, K), got ", in.q.shape().str());
    HGRN_CHECK(in.v.ndim() == 4, "GLA: v must be (B, T, H, V), got ", in.v.shape().str());
    GlaDims d{in.q.size(0), in.q.size(1), in.q.size(2), in.q.size(3), in.v.size(3)};
    HGRN_CHECK(d.B > 0 && d.T > 0 && d.H > 0, "GLA: B, T and H must be > 0, got q ", in.q.shape().str());
    HGRN_CHECK(d.K > 0, "GLA: K (head dim of q/k/g) must be > 0");
    HGRN_CHECK(d.V > 0, "GLA: V (head dim of v) must be > 0");
    check_like(in.q, in.q, "q", qk_shape(d));
    check_like(in.v, in.q, "v", v_shape(d));
    check_like(in.g, in.q, "g", qk_shape(d));
    check_optional(in.k, in.q, "k", qk_shape(d));
    check_optional(in.h0, in.q, "h0", state_shape(d));
    HGRN_CHECK(in.chunk >= 1 && (in.chunk & (in.chunk - 1)) == 0, "GLA: chunk must be a power of two, got ",
               in.chunk);
    HGRN_CHECK(in.scale >= 0 && std::isfinite(in.scale), "GLA: scale must be finite and >= 0 (0 = 1/sqrt(K))");
    return d;
}

double gla_scale(const GlaInputs& in, const GlaDims& d) { return in.scale > 0 ? in.scale : 1.0 / std::sqrt(double(d.K)); }

Shape gla_states_shape(const GlaDims& d) { return {d.B, d.H, (d.T + kGlaChunk - 1) / kGlaChunk, d.K, d.V}; }

void gla_chunk_forward(const GlaInputs& in, const GlaOutputs& out) {
    const GlaDims d = gla_check(in);
    check_outputs(in, d, out);
    const double s = gla_scale(in, d);
    switch (pick_backend(in.q)) {
        case Backend::ref: {
            const FusedKey fk(in);
            gla_chunk_forward_ref(fk.in, d, s, out);
            if (!out.states.empty()) chunk_states_cpu<double>(fk.in, d, out.states);
            break;
        }
        case Backend::cpu: {
            const FusedKey fk(in);
            gla_chunk_forward_cpu(fk.in, d, float(s), out);
            if (!out.states.empty()) chunk_states_cpu<float>(fk.in, d, out.states);
            break;
        }
        case Backend::cuda: gla_chunk_forward_cuda(in, d, float(s), out); break;
    }
}

void gla_recurrent_forward(const GlaInputs& in, const GlaOutputs& out) {
    const GlaDims d = gla_check(in);
    check_outputs(in, d, out);
    HGRN_CHECK(out.states.empty(), "GLA: chunk states are written by gla_chunk_forward only");
    const double s = gla_scale(in, d);
    switch (pick_backend(in.q)) {
        case Backend::ref: gla_recurrent_forward_ref(FusedKey(in).in, d, s, out); break;
        case Backend::cpu: gla_recurrent_forward_cpu(FusedKey(in).in, d, float(s), out); break;
        case Backend::cuda: gla_recurrent_forward_cuda(in, d, float(s), out); break;
    }
}

void gla_chunk_backward(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& grads) {
    const GlaDims d = gla_check(in);
    check_grads(in, d, gout, grads);
    check_states(in.states, in, d);
    const double s = gla_scale(in, d);
    switch (pick_backend(in.q)) {
        case Backend::ref:
            cpu_backward(in, d, gout, grads, [&](const GlaInputs& i, const GlaGradOutputs& go, const GlaGrads& g) {
                gla_chunk_backward_ref(i, d, s, go, g);
            });
            break;
        case Backend::cpu:
            cpu_backward(in, d, gout, grads, [&](const GlaInputs& i, const GlaGradOutputs& go, const GlaGrads& g) {
                gla_chunk_backward_cpu(i, d, float(s), go, g);
            });
            break;
        case Backend::cuda: gla_chunk_backward_cuda(in, d, float(s), gout, grads); break;
    }
}

void gla_recurrent_backward(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& grads) {
    const GlaDims d = gla_check(in);
    check_grads(in, d, gout, grads);
    const double s = gla_scale(in, d);
    switch (pick_backend(in.q)) {
        case Backend::ref:
            cpu_backward(in, d, gout, grads, [&](const GlaInputs& i, const GlaGradOutputs& go, const GlaGrads& g) {
                gla_recurrent_backward_ref(i, d, s, go, g);
            });
            break;
        case Backend::cpu:
            cpu_backward(in, d, gout, grads, [&](const GlaInputs& i, const GlaGradOutputs& go, const GlaGrads& g) {
                gla_recurrent_backward_cpu(i, d, float(s), go, g);
            });
            break;
        case Backend::cuda: HGRN_FAIL("GLA: recurrent backward on the GPU is not provided; use gla_chunk_backward");
    }
}

void gla_step(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
              const Tensor& o, double scale) {
    HGRN_CHECK(!q.empty() && q.ndim() == 3, "gla_step: q must be (B, H, K)");
    HGRN_CHECK(!v.empty() && v.ndim() == 3, "gla_step: v must be (B, H, V)");
    const GlaDims d{q.size(0), 1, q.size(1), q.size(2), v.size(2)};
    HGRN_CHECK(d.B > 0 && d.H > 0 && d.K > 0 && d.V > 0, "gla_step: B, H, K and V must be > 0, got q ",
               q.shape().str(), " v ", v.shape().str());
    const Shape qs{d.B, d.H, d.K};
    check_like(q, q, "q", qs);
    check_like(v, q, "v", {d.B, d.H, d.V});
    check_like(g, q, "g", qs);
    check_optional(k, q, "k", qs);
    HGRN_CHECK(!state.empty(), "gla_step: state (B, H, K, V) is required");
    check_like(state, q, "state", state_shape(d));
    check_like(o, q, "o", {d.B, d.H, d.V});
    const double s = scale > 0 ? scale : 1.0 / std::sqrt(double(d.K));
    if (q.device() == Device::cuda) {
        gla_step_cuda(q, k, v, g, state, o, d, float(s));
        return;
    }
    // CPU: one recurrent step is the recurrent forward at T = 1 with the state carried in place.
    GlaInputs in;
    in.q = q.reshape({d.B, 1, d.H, d.K});
    in.k = k.empty() ? Tensor() : k.reshape({d.B, 1, d.H, d.K});
    in.v = v.reshape({d.B, 1, d.H, d.V});
    in.g = g.reshape({d.B, 1, d.H, d.K});
    in.h0 = state;
    in.scale = s;
    FusedKey fk(in);
    if (q.dtype() == DType::f64) {
        gla_recurrent_forward_ref(fk.in, d, s, {o.reshape({d.B, 1, d.H, d.V}), state});
    } else {
        HGRN_CHECK(q.dtype() == DType::f32, "gla_step on the CPU takes f64 or f32, got ", dtype_name(q.dtype()));
        gla_step_cpu(fk.in.q.reshape(qs), fk.in.k.reshape(qs), v, g, state, o, d, float(s));
    }
}

static void transpose_state(const Tensor& src, const Tensor& dst, bool to_fla) {
    HGRN_CHECK(src.ndim() == 4 && dst.ndim() == 4, "state conversion: both states must be 4-D");
    HGRN_CHECK(src.dtype() == dst.dtype(), "state conversion: dtypes differ");
    check_cpu_contiguous(src, "state");
    check_cpu_contiguous(dst, "state");
    const int64_t B = src.size(0), H = src.size(1), R = src.size(2), C = src.size(3);
    check_shape(dst, to_fla ? "fla state (B, H, V, K)" : "state (B, H, K, V)", {B, H, C, R});
    const size_t es = dtype_size(src.dtype());
    const char* s = static_cast<const char*>(src.data());
    char* t = static_cast<char*>(dst.data());
    for (int64_t bh = 0; bh < B * H; ++bh)
        for (int64_t r = 0; r < R; ++r)
            for (int64_t c = 0; c < C; ++c)
                std::memcpy(t + ((bh * C + c) * R + r) * es, s + ((bh * R + r) * C + c) * es, es);
}

void gla_state_to_fla(const Tensor& ours, const Tensor& fla) { transpose_state(ours, fla, true); }
void gla_state_from_fla(const Tensor& fla, const Tensor& ours) { transpose_state(fla, ours, false); }

}  // namespace hgrn
