// workspace.h — activation storage that is allocated once per (config, B, T) and reused.
// ensure(buffer, dtype, shape) returns a view of `buffer`, reallocating only when the dtype or the shape
// changes, so a training loop at a fixed batch shape allocates nothing after its first step.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace hgrn {

inline Tensor ensure(Buffer& b, DType dtype, Shape shape) {
    if (b.empty() || b.dtype() != dtype || !(b.shape() == shape)) b = Buffer(dtype, shape);
    return b.view();
}

// Element-wise helpers on contiguous CPU tensors of one floating dtype (f32 or f64).
void add_into(const Tensor& dst, const Tensor& src);              // dst += src
void add(const Tensor& a, const Tensor& b, const Tensor& out);    // out = a + b (out may alias a or b)
void zero(const Tensor& t);                                       // t = 0
void mul(const Tensor& a, const Tensor& b, const Tensor& out);    // out = a ⊙ b (out may alias a or b)
// Dropout mask: each element 0 with probability p, else 1/(1 − p); a function of seed only.
void dropout_mask(const Tensor& mask, double p, uint64_t seed);
// y (N, C) += b (C) broadcast over rows;  db (C) += Σ_rows dy.
void add_bias(const Tensor& y, const Tensor& b);
void bias_backward(const Tensor& dy, const Tensor& db);
// pooled (B, D) = mean over T of x (B, T, D);  backward: dx[b, t] = dpooled[b] / T (overwritten).
void mean_over_time(const Tensor& x, const Tensor& pooled);
void mean_over_time_backward(const Tensor& dpooled, const Tensor& dx);

}  // namespace hgrn
