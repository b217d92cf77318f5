// ops.h — what every small op in src/ops/<op>/ shares: backend choice by dtype/device and argument checks.
// Each op's public header (e.g. ops/rmsnorm/rmsnorm.h) dispatches: f64 → <op>_ref.cpp, f32 on the CPU →
// <op>_cpu.cpp, CUDA tensors → <op>_cuda.cu (later).
#pragma once

#include "core/tensor.h"

namespace hgrn {

enum class OpBackend { ref, cpu, cuda };

// Backend for an op whose main input is t; errors name the op.
OpBackend op_backend(const Tensor& t, const char* op);
// t must be present, contiguous, and share ref's device and dtype.
void op_check_like(const Tensor& t, const Tensor& ref, const char* op, const char* name);
// Number of rows of t viewed as (rows, last); checks that t's last dimension is `last`.
int64_t op_rows(const Tensor& t, int64_t last, const char* op, const char* name);

}  // namespace hgrn
