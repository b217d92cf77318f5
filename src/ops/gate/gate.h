// gate.h — the HGRN forget gate in log space, and the per-layer lower bounds (SPEC.md §1.3-1.4, §3.1).
//
// forget_gate: f̂ (N, F) logits, γ (F) lower bound or absent (layer 0, or no lower bounds):
//     g = logσ(f̂)                                   without γ
//     g = log(γ + (1 − γ)·σ(f̂)) = logaddexp(log γ, log1p(−γ) + logσ(f̂))     with γ
//     k = 1 − exp(g)            (HGRN2's key / HGRN1's input gate; k may be absent)
// Backward: dg and dk (absent → 0) are the gradients w.r.t. g and k; with u = dg − exp(g)·dk:
//     df̂ = u · ∂g/∂f̂ (overwritten),   dγ += Σ_N u · ∂g/∂γ   (dγ may be absent).
//
// lower_bounds: the model parameter lb (L, D) gives every layer's γ:
//     P = softmax(lb) over the layer axis (per channel), C = cumsum(P) over layers, Γ = C − P[0]
// so Γ[0] = 0 and Γ[l] = Σ_{j=1..l} P[j]. Backward: dlb += ∂Γ/∂lb applied to dΓ.
// Dispatch: f64 → reference; f32 on the CPU → fp32 path (all of it computed in fp32, as fla's fp32 γ path).
#pragma once

#include "core/tensor.h"

namespace hgrn {

void forget_gate_forward(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k);
void forget_gate_backward(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk, const Tensor& df,
                          const Tensor& dgamma);

void lower_bounds_forward(const Tensor& lb, const Tensor& gamma);
void lower_bounds_backward(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb);

}  // namespace hgrn
