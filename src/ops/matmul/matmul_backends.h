// matmul_backends.h — per-backend entry points behind matmul.h (internal to src/ops/matmul).
// Arguments are validated by matmul.cpp; x is viewed as (M, K), w as (N, K), y and dy as (M, N).
// Absent dx / dw are empty views.
#pragma once

#include "ops/matmul/matmul.h"

namespace hgrn {

struct MatmulDims {
    int64_t M = 0, N = 0, K = 0;
};

void matmul_forward_ref(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate, const MatmulDims& d);
void matmul_backward_ref(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                         bool accumulate_dx, const MatmulDims& d);

void matmul_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate, const MatmulDims& d);
void matmul_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                         bool accumulate_dx, const MatmulDims& d);

}  // namespace hgrn
