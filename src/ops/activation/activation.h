// activation.h — swish (SiLU) and the gated product swiglu, element-wise over tensors of equal shape.
//     swish(x) = x · σ(x)                     swish'(x) = σ(x) · (1 + x · (1 − σ(x)))
//     swiglu(a, b) = swish(a) ⊙ b             d a = dy ⊙ b ⊙ swish'(a),   d b = dy ⊙ swish(a)
// Uses in the model: HGRN2's output gate q = swish(q̂); the MLP's swish(gate) ⊙ up; HGRN1's input
// swish(î) ⊙ (1 − f) and its output gate RMSNorm(o) ⊙ swish(g) (= swiglu(g, RMSNorm(o))).
// Gradients are overwritten. Dispatch: f64 → reference; f32 on the CPU → fp32 path.
#pragma once

#include "core/tensor.h"

namespace hgrn {

void swish_forward(const Tensor& x, const Tensor& y);
void swish_backward(const Tensor& x, const Tensor& dy, const Tensor& dx);
void swiglu_forward(const Tensor& a, const Tensor& b, const Tensor& y);
void swiglu_backward(const Tensor& a, const Tensor& b, const Tensor& dy, const Tensor& da, const Tensor& db);

}  // namespace hgrn
