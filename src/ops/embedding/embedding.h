// embedding.h — token embedding lookup.
//     ids: (N) i64 (any shape, flattened);  table: (vocab, D);  y: (N, D)
// A token id outside [0, vocab) is an hgrn::Error naming the id, its position and the vocabulary size.
// Backward: dtable[ids[n]] += dy[n] (accumulates; rows not used are untouched).
// Dispatch: f64 → reference; f32 on the CPU → fp32 path.
#pragma once

#include "core/tensor.h"

namespace hgrn {

void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& y);
void embedding_backward(const Tensor& ids, const Tensor& dy, const Tensor& dtable);

}  // namespace hgrn
