// mlp.h — the gated MLP (fla's GatedMLP with swish): y = (swish(x W_gateᵀ) ⊙ (x W_upᵀ)) W_downᵀ.
//     x, y: (B, T, D); hidden (B, T, I). Parameter gradients accumulate, dx is overwritten.
#pragma once

#include "core/tensor.h"

namespace hgrn {

struct MlpParams {
    Tensor gate_proj, up_proj;  // (I, D)
    Tensor down_proj;           // (D, I)
};

struct MlpSaved {
    Tensor x;
    Buffer gate, up, a;           // (B, T, I) each; a = swish(gate) ⊙ up
    Buffer da, dgate, dup;        // backward scratch
};

void mlp_forward(const MlpParams& p, const Tensor& x, const Tensor& y, MlpSaved& s);
void mlp_backward(const MlpParams& p, MlpSaved& s, const Tensor& dy, const Tensor& dx, const MlpParams& dp);

}  // namespace hgrn
