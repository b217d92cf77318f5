// cross_entropy.h — mean cross-entropy over the positions whose target is not kIgnoreIndex (−100).
//     logits: (N, vocab) (any (..., vocab) contiguous);  targets: (N) i64
//     loss = (1/n) Σ_{targets[i] ≠ −100} (logsumexp(logits_i) − logits_i[targets_i]),  n = that count
// A target outside [0, vocab) other than −100 is an hgrn::Error. With n = 0 the loss is 0.
// Backward: dlogits_i = dloss/n · (softmax(logits_i) − onehot(targets_i)) for counted rows, 0 for ignored
// rows (overwritten; dlogits may alias logits). The softmax is recomputed (nothing saved).
// Dispatch: f64 → reference; f32 on the CPU → fp32 path (log-sum-exp with the row max subtracted).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace hgrn {

constexpr int64_t kIgnoreIndex = -100;

struct CrossEntropyResult {
    double loss = 0;      // mean over counted positions
    int64_t counted = 0;  // positions with a target != −100
};

CrossEntropyResult cross_entropy_forward(const Tensor& logits, const Tensor& targets);
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits);

}  // namespace hgrn
