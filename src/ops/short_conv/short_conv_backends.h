// short_conv_backends.h — per-backend entry points behind short_conv.h (internal to src/ops/short_conv).
// Arguments are validated by short_conv.cpp: x, y, dy, dx (B, T, C); w, dw (C, W); cache_in, cache_out,
// dcache_in (B, C, W). Absent optional tensors are empty views; cache_out may alias cache_in.
#pragma once

#include <cstdint>

#include "ops/short_conv/short_conv.h"

namespace hgrn {

struct ShortConvDims {
    int64_t B = 0, T = 0, C = 0, W = 0;
};

void short_conv_forward_ref(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                            const Tensor& cache_out, const ShortConvDims& d);
void short_conv_backward_ref(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy,
                             const Tensor& dx, const Tensor& dw, const Tensor& dcache_in, const ShortConvDims& d);

void short_conv_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                            const Tensor& cache_out, const ShortConvDims& d);
void short_conv_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy,
                             const Tensor& dx, const Tensor& dw, const Tensor& dcache_in, const ShortConvDims& d);

}  // namespace hgrn
