// embedding.cpp — argument validation and backend dispatch for the token embedding (embedding.h).
// ids: any shape, i64, N values, each in [0, V) (checked before anything is written); table / dtable (V, D);
// y / dy: N rows of D ((N, D) or, e.g., (B, T, D)).
#include "ops/embedding/embedding.h"

#include "ops/embedding/embedding_backends.h"
#include "ops/ops.h"

namespace hgrn {
namespace {

void check_ids(const Tensor& ids, const Tensor& table, const char* op, int64_t V) {
    HGRN_CHECK(!ids.empty(), op, ": ids is required but absent");
    HGRN_CHECK(ids.dtype() == DType::i64, op, ": ids must be i64, got ", dtype_name(ids.dtype()));
    HGRN_CHECK(ids.is_contiguous(), op, ": ids must be contiguous");
    HGRN_CHECK(ids.device() == table.device(), op, ": ids is on another device (", ids.describe(), ")");
    HGRN_CHECK(ids.device() == Device::cpu, op, ": not available on the GPU yet");
    const int64_t* I = ids.ptr<int64_t>();
    for (int64_t n = 0; n < ids.numel(); ++n)
        HGRN_CHECK(I[n] >= 0 && I[n] < V, op, ": token id ", I[n], " at position ", n,
                   " is outside the vocabulary [0, ", V, ")");
}

// table (V, D), the (N, D) rows `rows_t` (y or dy) and the ids; returns the dims.
EmbeddingDims dims_of(const Tensor& ids, const Tensor& table, const char* table_name, const Tensor& rows_t,
                      const char* rows_name, const char* op) {
    op_check_like(table, table, op, table_name);
    HGRN_CHECK(table.ndim() == 2, op, ": ", table_name, " must be (vocab, D), got ", table.shape().str());
    EmbeddingDims d;
    d.V = table.size(0);
    d.D = table.size(1);
    check_ids(ids, table, op, d.V);
    d.N = ids.numel();
    op_check_like(rows_t, table, op, rows_name);
    const int64_t rows = op_rows(rows_t, d.D, op, rows_name);
    HGRN_CHECK(rows == d.N, op, ": ", rows_name, " ", rows_t.shape().str(), " has ", rows, " rows but ids ",
               ids.shape().str(), " has ", d.N, " ids");
    return d;
}

[[noreturn]] void no_gpu(const char* op) { HGRN_FAIL(op, ": not available on the GPU yet"); }

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& y) {
    const char* op = "embedding";
    const OpBackend backend = op_backend(table, op);
    if (backend == OpBackend::cuda) no_gpu(op);
    const EmbeddingDims d = dims_of(ids, table, "table", y, "y", op);
    if (backend == OpBackend::ref)
        embedding_forward_ref(ids, table, y, d);
    else
        embedding_forward_cpu(ids, table, y, d);
}

void embedding_backward(const Tensor& ids, const Tensor& dy, const Tensor& dtable) {
    const char* op = "embedding backward";
    const OpBackend backend = op_backend(dtable, op);
    if (backend == OpBackend::cuda) no_gpu(op);
    const EmbeddingDims d = dims_of(ids, dtable, "dtable", dy, "dy", op);
    if (backend == OpBackend::ref)
        embedding_backward_ref(ids, dy, dtable, d);
    else
        embedding_backward_cpu(ids, dy, dtable, d);
}

}  // namespace hgrn
