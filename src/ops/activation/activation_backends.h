// activation_backends.h — per-backend entry points behind activation.h (internal to src/ops/activation).
// Arguments are validated by activation.cpp: every tensor has n elements, contiguous, one dtype.
#pragma once

#include <cstdint>

#include "ops/activation/activation.h"

namespace hgrn {

void swish_forward_ref(const Tensor& x, const Tensor& y, int64_t n);
void swish_backward_ref(const Tensor& x, const Tensor& dy, const Tensor& dx, int64_t n);
void swiglu_forward_ref(const Tensor& a, const Tensor& b, const Tensor& y, int64_t n);
void swiglu_backward_ref(const Tensor& a, const Tensor& b, const Tensor& dy, const Tensor& da, const Tensor& db,
                         int64_t n);

void swish_forward_cpu(const Tensor& x, const Tensor& y, int64_t n);
void swish_backward_cpu(const Tensor& x, const Tensor& dy, const Tensor& dx, int64_t n);
void swiglu_forward_cpu(const Tensor& a, const Tensor& b, const Tensor& y, int64_t n);
void swiglu_backward_cpu(const Tensor& a, const Tensor& b, const Tensor& dy, const Tensor& da, const Tensor& db,
                         int64_t n);

}  // namespace hgrn
