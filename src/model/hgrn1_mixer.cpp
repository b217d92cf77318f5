// hgrn1_mixer.cpp — HGRN1 token mixer forward / backward (math in hgrn1_mixer.h; backward in
// docs/model_math.md). Backward reads as the forward reversed, line by line.
#include "model/hgrn1_mixer.h"

#include "hgrn1_scan/hgrn1_scan.h"
#include "model/projection.h"
#include "model/workspace.h"
#include "ops/activation/activation.h"
#include "ops/gate/gate.h"
#include "ops/matmul/matmul.h"
#include "ops/rmsnorm/rmsnorm.h"

namespace hgrn {

void hgrn1_mixer_forward(const Hgrn1MixerDims& d, const Hgrn1MixerParams& p, const Tensor& x, const Tensor& gamma,
                         Hgrn1MixerState* state, const Tensor& y, Hgrn1MixerSaved& s) {
    const DType dt = x.dtype();
    const int64_t B = x.size(0), T = x.size(1);
    const Shape sh{B, T, d.E};
    s.x = x;
    s.has_state = state != nullptr;
    const Hgrn1MixerState none;
    const Hgrn1MixerState& st = state ? *state : none;
    const Tensor ic = projection_forward(x, p.i_proj, p.i_conv, st.i_conv, s.ihat, s.ic, s.i_cache, true);
    const Tensor fc = projection_forward(x, p.f_proj, p.f_conv, st.f_conv, s.fhat, s.fc, s.f_cache, true);
    const Tensor ghat = ensure(s.ghat, dt, sh);
    matmul_forward(x, p.g_proj, ghat);
    const Tensor g = ensure(s.g, dt, sh), k = ensure(s.k, dt, sh), xin = ensure(s.xin, dt, sh);
    forget_gate_forward(fc, gamma, g, k);
    swiglu_forward(ic, k, xin);
    const Tensor h = ensure(s.h, dt, sh);
    Tensor h0, ht;
    if (state && !state->recurrent.empty()) {
        h0 = ensure(s.h0, dt, state->recurrent.shape());
        copy(state->recurrent, h0);
        ht = state->recurrent;
    }
    hgrn1_scan_forward(xin, g, h0, h, ht);
    const Tensor hn = ensure(s.hn, dt, sh), rstd = ensure(s.rstd, dt, {B * T}), z = ensure(s.z, dt, sh);
    rmsnorm_forward(h, p.g_norm, d.norm_eps, hn, rstd);
    swiglu_forward(ghat, hn, z);
    matmul_forward(z, p.o_proj, y);
}

void hgrn1_mixer_backward(const Hgrn1MixerDims& d, const Hgrn1MixerParams& p, const Tensor& gamma,
                          Hgrn1MixerSaved& s, const Tensor& dy, const Tensor& dx, const Hgrn1MixerParams& dp,
                          const Tensor& dgamma) {
    const DType dt = dy.dtype();
    const Shape sh = s.h.shape();
    const Tensor dz = ensure(s.dz, dt, sh), dhn = ensure(s.dhn, dt, sh), dghat = ensure(s.dghat, dt, sh);
    const Tensor dh = ensure(s.dh, dt, sh), dxin = ensure(s.dxin, dt, sh), dg = ensure(s.dg, dt, sh);
    const Tensor dk = ensure(s.dk, dt, sh), dic = ensure(s.dic, dt, sh), dfc = ensure(s.dfc, dt, sh);
    matmul_backward(s.z, p.o_proj, dy, dz, dp.o_proj);
    swiglu_backward(s.ghat, s.hn, dz, dghat, dhn);
    rmsnorm_backward(s.h, p.g_norm, s.rstd, dhn, dh, dp.g_norm);
    const Tensor h0 = s.has_state ? s.h0.view() : Tensor();
    hgrn1_scan_backward(s.g, h0, s.h, dh, Tensor(), dxin, dg, Tensor());
    const Tensor ic = p.i_conv.empty() ? s.ihat.view() : s.ic.view();
    const Tensor fc = p.f_conv.empty() ? s.fhat.view() : s.fc.view();
    swiglu_backward(ic, s.k, dxin, dic, dk);
    forget_gate_backward(fc, gamma, dg, dk, dfc, dgamma);
    matmul_backward(s.x, p.g_proj, dghat, dx, dp.g_proj);
    const bool st = s.has_state;
    projection_backward(s.x, p.i_proj, p.i_conv, s.ihat, dic, s.dpre, st ? s.i_cache.view() : Tensor(), dx, dp.i_proj,
                        dp.i_conv, false);
    projection_backward(s.x, p.f_proj, p.f_conv, s.fhat, dfc, s.dpre, st ? s.f_cache.view() : Tensor(), dx, dp.f_proj,
                        dp.f_conv, false);
}

}  // namespace hgrn
