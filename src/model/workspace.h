// workspace.h — activation storage that is allocated once per (config, B, T) and reused.
// ensure(buffer, dtype, shape) returns a view of `buffer`, reallocating only when the dtype or the shape
// changes, so a training loop at a fixed batch shape allocates nothing after its first step.
#pragma once

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

}  // namespace hgrn
