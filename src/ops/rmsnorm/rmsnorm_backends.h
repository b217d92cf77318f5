// rmsnorm_backends.h — per-backend entry points behind rmsnorm.h (internal to src/ops/rmsnorm).
// Arguments are validated by rmsnorm.cpp; x, y, dy, dx are viewed as (N, D); w, dw (D); rstd (N).
// Absent w / dw / rstd (forward) are empty views.
#pragma once

#include "ops/rmsnorm/rmsnorm.h"

namespace hgrn {

struct RmsnormDims {
    int64_t N = 0, D = 0;
};

void rmsnorm_forward_ref(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd,
                         const RmsnormDims& d);
void rmsnorm_backward_ref(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                          const Tensor& dw, bool accumulate_dx, const RmsnormDims& d);

void rmsnorm_forward_cpu(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd,
                         const RmsnormDims& d);
void rmsnorm_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                          const Tensor& dw, bool accumulate_dx, const RmsnormDims& d);

}  // namespace hgrn
