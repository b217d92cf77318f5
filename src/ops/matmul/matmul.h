// matmul.h — the linear layer without bias, PyTorch layout: y = x · Wᵀ.
//     x: (M, K) or any (..., K) contiguous, flattened to M rows;  w: (N, K);  y: (M, N) or (..., N).
// Backward: dx = dy · W (overwritten, or added when accumulate_dx);  dw += dyᵀ · x (always accumulates,
// for gradient accumulation). dx or dw may be absent (empty Tensor) to skip it.
// Dispatch: f64 → naive reference (matmul_ref.cpp); f32 on the CPU → OpenBLAS sgemm (matmul_cpu.cpp).
#pragma once

#include "core/tensor.h"

namespace hgrn {

void matmul_forward(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate = false);
void matmul_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                     bool accumulate_dx = false);

}  // namespace hgrn
