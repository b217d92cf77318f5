// gate_backends.h — per-backend entry points behind gate.h (internal to src/ops/gate).
// Arguments are validated by gate.cpp: f, g, k, dg, dk, df are viewed as (N, F); gamma, dgamma (F);
// lb, gamma, dgamma, dlb of the lower bounds (L, D). Absent optional tensors are empty views.
#pragma once

#include <cstdint>

#include "ops/gate/gate.h"

namespace hgrn {

struct GateDims {
    int64_t N = 0, F = 0;
};
struct LowerBoundDims {
    int64_t L = 0, D = 0;
};

void forget_gate_forward_ref(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k, const GateDims& d);
void forget_gate_backward_ref(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk,
                              const Tensor& df, const Tensor& dgamma, const GateDims& d);
void lower_bounds_forward_ref(const Tensor& lb, const Tensor& gamma, const LowerBoundDims& d);
void lower_bounds_backward_ref(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb, const LowerBoundDims& d);

void forget_gate_forward_cpu(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k, const GateDims& d);
void forget_gate_backward_cpu(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk,
                              const Tensor& df, const Tensor& dgamma, const GateDims& d);
void lower_bounds_forward_cpu(const Tensor& lb, const Tensor& gamma, const LowerBoundDims& d);
void lower_bounds_backward_cpu(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb, const LowerBoundDims& d);

}  // namespace hgrn
