// short_conv.h — causal depthwise 1-D convolution of width W, no bias, no activation (fla's
// ShortConvolution as HGRN2 uses it, SPEC.md §1.7):
//     y_t[c] = Σ_{j=0}^{W−1} w[c, j] · x_{t−(W−1)+j}[c]          (w[c, W−1] multiplies the current token)
// Inputs before the first token come from `cache_in` (the last W inputs before this call, newest at index
// W−1: fla's conv cache layout (B, C, W)), or are 0 when it is absent.
//     x, y, dx, dy: (B, T, C);  w, dw: (C, W) (fla's weight [C, 1, W] viewed as (C, W));
//     cache_in, cache_out, dcache_in: (B, C, W), each optional. cache_out receives the last W inputs after
//     this call (so decoding can continue); it may alias cache_in.
// Backward: dx (overwritten), dw += , dcache_in (overwritten) = gradient w.r.t. the cached inputs.
// Dispatch: f64 → reference; f32 on the CPU → fp32 path.
#pragma once

#include "core/tensor.h"

namespace hgrn {

void short_conv_forward(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                        const Tensor& cache_out);
void short_conv_backward(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy, const Tensor& dx,
                         const Tensor& dw, const Tensor& dcache_in);

}  // namespace hgrn
