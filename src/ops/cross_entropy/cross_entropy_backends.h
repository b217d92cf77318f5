// cross_entropy_backends.h — per-backend entry points behind cross_entropy.h (internal to
// src/ops/cross_entropy). Arguments are validated by cross_entropy.cpp (targets range-checked):
// logits, dlogits (N, V); targets (N) i64, each in [0, V) or kIgnoreIndex; `counted` = targets != −100.
#pragma once

#include <cstdint>

#include "ops/cross_entropy/cross_entropy.h"

namespace hgrn {

struct CrossEntropyDims {
    int64_t N = 0, V = 0, counted = 0;
};

double cross_entropy_forward_ref(const Tensor& logits, const Tensor& targets, const CrossEntropyDims& d);
void cross_entropy_backward_ref(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits,
                                const CrossEntropyDims& d);

double cross_entropy_forward_cpu(const Tensor& logits, const Tensor& targets, const CrossEntropyDims& d);
void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits,
                                const CrossEntropyDims& d);

}  // namespace hgrn
