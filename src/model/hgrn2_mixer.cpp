// hgrn2_mixer.cpp — HGRN2 token mixer forward / backward (math in hgrn2_mixer.h; backward in docs/model_math.md).
// Backward reads as the forward reversed, line by line.
#include "model/hgrn2_mixer.h"

#include "gla/gla.h"
#include "model/projection.h"
#include "model/workspace.h"
#include "ops/activation/activation.h"
#include "ops/gate/gate.h"
#include "ops/matmul/matmul.h"
#include "ops/rmsnorm/rmsnorm.h"

namespace hgrn {
namespace {

Tensor heads(const Tensor& t, int64_t H) {  // (B, T, H·X) → (B, T, H, X)
    return t.reshape({t.size(0), t.size(1), H, t.size(2) / H});
}

}  // namespace

void hgrn2_mixer_forward(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& x, const Tensor& gamma,
                         Hgrn2MixerState* state, const Tensor& y, Hgrn2MixerSaved& s) {
    const DType dt = x.dtype();
    const int64_t B = x.size(0), T = x.size(1);
    s.x = x;
    s.has_state = state != nullptr;
    const Hgrn2MixerState none;
    const Hgrn2MixerState& st = state ? *state : none;
    const Tensor qc = projection_forward(x, p.q_proj, p.q_conv, st.q_conv, s.qhat, s.qc, s.q_cache, true);
    const Tensor fc = projection_forward(x, p.f_proj, p.f_conv, st.f_conv, s.fhat, s.fc, s.f_cache, true);
    const Tensor ic = projection_forward(x, p.i_proj, p.i_conv, st.i_conv, s.ihat, s.ic, s.i_cache, true);
    const Tensor q = ensure(s.q, dt, qc.shape()), g = ensure(s.g, dt, fc.shape()), k = ensure(s.k, dt, fc.shape());
    swish_forward(qc, q);
    forget_gate_forward(fc, gamma, g, k);
    const Tensor o = ensure(s.o, dt, {B, T, d.D});
    GlaInputs in{heads(q, d.H), heads(k, d.H), heads(ic, d.H), heads(g, d.H)};
    Tensor ht;
    if (state && !state->recurrent.empty()) {
        in.h0 = ensure(s.h0, dt, state->recurrent.shape());
        copy(state->recurrent, in.h0);
        ht = state->recurrent;
    }
    gla_chunk_forward(in, {heads(o, d.H), ht});
    const Tensor on = ensure(s.on, dt, o.shape()), rstd = ensure(s.rstd, dt, {B * T});
    rmsnorm_forward(o, p.g_norm, d.gnorm_eps, on, rstd);
    matmul_forward(on, p.o_proj, y);
}

void hgrn2_mixer_backward(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& gamma,
                          Hgrn2MixerSaved& s, const Tensor& dy, const Tensor& dx, const Hgrn2MixerParams& dp,
                          const Tensor& dgamma) {
    const DType dt = dy.dtype();
    const Tensor don = ensure(s.don, dt, s.on.shape()), d_o = ensure(s.d_o, dt, s.o.shape());
    const Tensor dq = ensure(s.dq, dt, s.q.shape()), dk = ensure(s.dk, dt, s.k.shape()), dg = ensure(s.dg, dt, s.g.shape());
    const Tensor dv = ensure(s.dv, dt, s.o.shape()), dqc = ensure(s.dqc, dt, s.q.shape()), dfc = ensure(s.dfc, dt, s.g.shape());
    matmul_backward(s.on, p.o_proj, dy, don, dp.o_proj);
    rmsnorm_backward(s.o, p.g_norm, s.rstd, don, d_o, dp.g_norm);
    const Tensor qc = p.q_conv.empty() ? s.qhat.view() : s.qc.view();
    const Tensor fc = p.f_conv.empty() ? s.fhat.view() : s.fc.view();
    const Tensor ic = p.i_conv.empty() ? s.ihat.view() : s.ic.view();
    GlaInputs in{heads(s.q, d.H), heads(s.k, d.H), heads(ic, d.H), heads(s.g, d.H)};
    if (s.has_state && !s.h0.empty()) in.h0 = s.h0;
    gla_chunk_backward(in, {heads(d_o, d.H), Tensor()}, {heads(dq, d.H), heads(dk, d.H), heads(dv, d.H), heads(dg, d.H)});
    forget_gate_backward(fc, gamma, dg, dk, dfc, dgamma);
    swish_backward(qc, dq, dqc);
    const bool st = s.has_state;
    projection_backward(s.x, p.q_proj, p.q_conv, s.qhat, dqc, s.dpre, st ? s.q_cache.view() : Tensor(), dx, dp.q_proj,
                     dp.q_conv, true);
    projection_backward(s.x, p.f_proj, p.f_conv, s.fhat, dfc, s.dpre, st ? s.f_cache.view() : Tensor(), dx, dp.f_proj,
                     dp.f_conv, false);
    projection_backward(s.x, p.i_proj, p.i_conv, s.ihat, dv, s.dpre, st ? s.i_cache.view() : Tensor(), dx, dp.i_proj,
                     dp.i_conv, false);
}

void hgrn2_mixer_step(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& x, const Tensor& gamma,
                      Hgrn2MixerState& state, const Tensor& y, Hgrn2MixerSaved& s) {
    const DType dt = x.dtype();
    const int64_t B = x.size(0);
    HGRN_CHECK(x.size(1) == 1, "hgrn2_mixer_step takes one token, got T = ", x.size(1));
    HGRN_CHECK(!state.recurrent.empty(), "hgrn2_mixer_step: the recurrent state is required");
    const Tensor qc = projection_forward(x, p.q_proj, p.q_conv, state.q_conv, s.qhat, s.qc, s.q_cache, false);
    const Tensor fc = projection_forward(x, p.f_proj, p.f_conv, state.f_conv, s.fhat, s.fc, s.f_cache, false);
    const Tensor ic = projection_forward(x, p.i_proj, p.i_conv, state.i_conv, s.ihat, s.ic, s.i_cache, false);
    const Tensor q = ensure(s.q, dt, qc.shape()), g = ensure(s.g, dt, fc.shape()), k = ensure(s.k, dt, fc.shape());
    swish_forward(qc, q);
    forget_gate_forward(fc, gamma, g, k);
    const Tensor o = ensure(s.o, dt, {B, 1, d.D});
    gla_step(q.reshape({B, d.H, d.K}), k.reshape({B, d.H, d.K}), ic.reshape({B, d.H, d.V}), g.reshape({B, d.H, d.K}),
             state.recurrent, o.reshape({B, d.H, d.V}));
    const Tensor on = ensure(s.on, dt, o.shape()), rstd = ensure(s.rstd, dt, {B});
    rmsnorm_forward(o, p.g_norm, d.gnorm_eps, on, rstd);
    matmul_forward(on, p.o_proj, y);
}

}  // namespace hgrn
