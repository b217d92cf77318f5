// rmsnorm.h — RMSNorm over the last dimension D (fla's RMSNorm, no bias):
//     y = x · rstd · w,   rstd = (mean_D(x²) + eps)^(-1/2)   (w absent → no affine weight)
//     x, y, dx, dy: (N, D) or any (..., D) contiguous;  w, dw: (D);  rstd: (N) saved for backward.
// Backward: with x̂ = x·rstd,  dx = rstd · (dy⊙w − x̂ · mean_D(dy⊙w⊙x̂))  (overwritten, or added when
// accumulate_dx: the residual stream);  dw += Σ_N dy ⊙ x̂.
// Dispatch: f64 → reference; f32 on the CPU → fp32 path with fp32 accumulation.
#pragma once

#include "core/tensor.h"

namespace hgrn {

void rmsnorm_forward(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd);
void rmsnorm_backward(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                      const Tensor& dw, bool accumulate_dx = false);

}  // namespace hgrn
