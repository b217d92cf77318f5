// projection.h — a bias-free linear projection followed by an optional causal short convolution, the
// input path shared by the HGRN2 and HGRN1 mixers:  pre = x Wᵀ,  post = conv(pre) (or pre without conv).
#pragma once

#include "core/tensor.h"

namespace hgrn {

// Returns the post-conv activation (B, T, N). With a conv and a cache, the cache is read as the previous
// inputs and overwritten with the newest W; when keep_cache, its incoming value is copied to cache_copy.
Tensor projection_forward(const Tensor& x, const Tensor& w, const Tensor& conv_w, const Tensor& cache, Buffer& pre,
                          Buffer& post, Buffer& cache_copy, bool keep_cache);

// Reverse: dpost → dpre (through the conv) → dx (overwritten when first, else +=), dw += , dconv += .
void projection_backward(const Tensor& x, const Tensor& w, const Tensor& conv_w, const Tensor& pre,
                         const Tensor& dpost, Buffer& dpre, const Tensor& cache_in, const Tensor& dx,
                         const Tensor& dw, const Tensor& dconv, bool first);

}  // namespace hgrn
