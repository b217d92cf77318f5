// embedding_backends.h — per-backend entry points behind embedding.h (internal to src/ops/embedding).
// Arguments are validated by embedding.cpp (ids range-checked): ids (N) i64; table, dtable (V, D); y, dy (N, D).
#pragma once

#include <cstdint>

#include "ops/embedding/embedding.h"

namespace hgrn {

struct EmbeddingDims {
    int64_t N = 0, V = 0, D = 0;
};

void embedding_forward_ref(const Tensor& ids, const Tensor& table, const Tensor& y, const EmbeddingDims& d);
void embedding_backward_ref(const Tensor& ids, const Tensor& dy, const Tensor& dtable, const EmbeddingDims& d);

void embedding_forward_cpu(const Tensor& ids, const Tensor& table, const Tensor& y, const EmbeddingDims& d);
void embedding_backward_cpu(const Tensor& ids, const Tensor& dy, const Tensor& dtable, const EmbeddingDims& d);

}  // namespace hgrn
