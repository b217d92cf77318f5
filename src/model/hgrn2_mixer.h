// hgrn2_mixer.h — the HGRN2 token mixer (fla's HGRN2Attention, SPEC.md §1.3), forward and backward.
//     q̂ = x W_qᵀ, f̂ = x W_fᵀ, î = x W_iᵀ           (each through its causal short conv when conv > 0)
//     q = swish(q̂),  g = log(γ + (1−γ)σ(f̂))  (γ absent: logσ(f̂)),  k = 1 − exp(g),  v = î
//     o = GLA(q, k, v, g; scale 1/√K) per head,   y = RMSNorm(o; g_norm, eps 1e-5, over all D) W_oᵀ
// Layouts: x, y: (B, T, D); heads are contiguous slices of the channel axis (channel c = h·K + j).
// Parameters and their gradients share the struct; gradients accumulate (+=), dx is overwritten.
#pragma once

#include "core/tensor.h"

namespace hgrn {

struct Hgrn2MixerDims {
    int64_t D = 0, H = 0, K = 0, V = 0;  // F = H·K channels for q and f; H·V = D for i
    int64_t conv = 0;                    // short-conv width W; 0 = no short conv
    double gnorm_eps = 1e-5;             // fla's rms_norm_linear default, not the config's norm_eps
    int64_t F() const { return H * K; }
};

struct Hgrn2MixerParams {
    Tensor q_proj, f_proj;          // (F, D)
    Tensor i_proj, o_proj;          // (D, D)
    Tensor q_conv, f_conv, i_conv;  // (F, W), (F, W), (D, W); absent without short conv
    Tensor g_norm;                  // (D); absent when elementwise_affine is false
};

// Per-sequence recurrent state of one layer, read as the initial state and overwritten with the final one.
struct Hgrn2MixerState {
    Tensor recurrent;               // (B, H, K, V) fp32/f64, ours (K-major) layout
    Tensor q_conv, f_conv, i_conv;  // (B, F, W), (B, F, W), (B, D, W): last W inputs, newest at W−1
};

// What backward needs (allocated once per shape, reused).
struct Hgrn2MixerSaved {
    Tensor x;                                  // the input (a view: the caller keeps it alive)
    Buffer qhat, fhat, ihat;                   // projections (B, T, F|F|D)
    Buffer qc, fc, ic;                         // after the short convs (unused without conv)
    Buffer q, g, k, o, on, rstd;               // gate outputs, recurrence output, normed output, 1/rms
    Buffer h0, q_cache, f_cache, i_cache;      // copies of the incoming state (when a state is given)
    bool has_state = false;
    Buffer don, d_o, dq, dk, dg, dv, dqc, dfc, dpre;  // backward scratch
};

void hgrn2_mixer_forward(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& x, const Tensor& gamma,
                         Hgrn2MixerState* state, const Tensor& y, Hgrn2MixerSaved& s);
void hgrn2_mixer_backward(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& gamma,
                          Hgrn2MixerSaved& s, const Tensor& dy, const Tensor& dx, const Hgrn2MixerParams& dp,
                          const Tensor& dgamma);

// One-token decoding (T = 1) for a batch with a state: no activations saved, the recurrent step kernel.
void hgrn2_mixer_step(const Hgrn2MixerDims& d, const Hgrn2MixerParams& p, const Tensor& x, const Tensor& gamma,
                      Hgrn2MixerState& state, const Tensor& y, Hgrn2MixerSaved& scratch);

}  // namespace hgrn
