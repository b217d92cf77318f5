// hgrn1_mixer.h — the HGRN1 token mixer (fla's HGRNAttention at HEAD, SPEC.md §3.1), forward and backward.
//     î = x W_iᵀ, f̂ = x W_fᵀ (each through its causal short conv when conv > 0),  ĝ = x W_gᵀ
//     g = log(γ + (1−γ)σ(f̂)) (γ absent: logσ(f̂)),   x_in = swish(î) ⊙ (1 − exp g)
//     h_t = exp(g_t) ⊙ h_{t−1} + x_in,t  (element-wise scan over E = D·expand_ratio channels)
//     y = (RMSNorm(h; g_norm, norm_eps) ⊙ swish(ĝ)) W_oᵀ
// Layouts: x, y: (B, T, D); internal channels (B, T, E). Gradients of parameters accumulate, dx is overwritten.
#pragma once

#include "core/tensor.h"

namespace hgrn {

struct Hgrn1MixerDims {
    int64_t D = 0, E = 0;    // E = D · expand_ratio
    int64_t conv = 0;        // short-conv width W; 0 = none
    double norm_eps = 1e-6;  // the config's norm_eps (FusedRMSNormGated)
};

struct Hgrn1MixerParams {
    Tensor i_proj, f_proj, g_proj;  // (E, D)
    Tensor o_proj;                  // (D, E)
    Tensor i_conv, f_conv;          // (E, W); absent without short conv
    Tensor g_norm;                  // (E); absent when elementwise_affine is false
};

struct Hgrn1MixerState {
    Tensor recurrent;       // (B, E)
    Tensor i_conv, f_conv;  // (B, E, W)
};

struct Hgrn1MixerSaved {
    Tensor x;
    Buffer ihat, fhat, ghat, ic, fc;   // projections, and after the convs
    Buffer g, k, xin, h, hn, rstd, z;  // gate, 1 − f, scan input, scan output, normed, 1/rms, gated
    Buffer h0, i_cache, f_cache;
    bool has_state = false;
    Buffer dz, dhn, dh, dxin, dg, dk, dic, dfc, dghat, dpre;  // backward scratch
};

void hgrn1_mixer_forward(const Hgrn1MixerDims& d, const Hgrn1MixerParams& p, const Tensor& x, const Tensor& gamma,
                         Hgrn1MixerState* state, const Tensor& y, Hgrn1MixerSaved& s);
void hgrn1_mixer_backward(const Hgrn1MixerDims& d, const Hgrn1MixerParams& p, const Tensor& gamma,
                          Hgrn1MixerSaved& s, const Tensor& dy, const Tensor& dx, const Hgrn1MixerParams& dp,
                          const Tensor& dgamma);

}  // namespace hgrn
