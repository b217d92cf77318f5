// cross_entropy.cpp — argument validation and backend dispatch for the mean cross-entropy (cross_entropy.h).
// logits (..., V) flattened to N rows; targets: any shape, i64, N values, each in [0, V) or −100 (checked
// before anything is written); dlogits has logits' shape and may be logits itself. dloss must be finite.
#include "ops/cross_entropy/cross_entropy.h"

#include <cmath>

#include "ops/cross_entropy/cross_entropy_backends.h"
#include "ops/ops.h"

namespace hgrn {
namespace {

CrossEntropyDims dims_of(const Tensor& logits, const Tensor& targets, const char* op) {
    op_check_like(logits, logits, op, "logits");
    HGRN_CHECK(logits.ndim() >= 1 && logits.size(-1) > 0, op, ": logits must be (..., vocab) with vocab > 0, got ",
               logits.shape().str());
    CrossEntropyDims d;
    d.V = logits.size(-1);
    d.N = op_rows(logits, d.V, op, "logits");
    HGRN_CHECK(!targets.empty(), op, ": targets is required but absent");
    HGRN_CHECK(targets.dtype() == DType::i64, op, ": targets must be i64, got ", dtype_name(targets.dtype()));
    HGRN_CHECK(targets.is_contiguous(), op, ": targets must be contiguous");
    HGRN_CHECK(targets.device() == Device::cpu, op, ": targets must be on the CPU, got ", targets.describe());
    HGRN_CHECK(targets.numel() == d.N, op, ": targets ", targets.shape().str(), " has ", targets.numel(),
               " values but logits ", logits.shape().str(), " has ", d.N, " rows");
    const int64_t* Tg = targets.ptr<int64_t>();
    for (int64_t n = 0; n < d.N; ++n) {
        if (Tg[n] == kIgnoreIndex) continue;
        HGRN_CHECK(Tg[n] >= 0 && Tg[n] < d.V, op, ": target ", Tg[n], " at position ", n, " is outside [0, ", d.V,
                   ") and is not the ignore index ", kIgnoreIndex);
        ++d.counted;
    }
    return d;
}

[[noreturn]] void no_gpu(const char* op) { HGRN_FAIL(op, ": not available on the GPU yet"); }

}  // namespace

CrossEntropyResult cross_entropy_forward(const Tensor& logits, const Tensor& targets) {
    const char* op = "cross_entropy";
    const OpBackend backend = op_backend(logits, op);
    if (backend == OpBackend::cuda) no_gpu(op);
    const CrossEntropyDims d = dims_of(logits, targets, op);
    CrossEntropyResult r;
    r.counted = d.counted;
    if (d.counted == 0) return r;
    r.loss = backend == OpBackend::ref ? cross_entropy_forward_ref(logits, targets, d)
                                       : cross_entropy_forward_cpu(logits, targets, d);
    return r;
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits) {
    const char* op = "cross_entropy backward";
    const OpBackend backend = op_backend(logits, op);
    if (backend == OpBackend::cuda) no_gpu(op);
    const CrossEntropyDims d = dims_of(logits, targets, op);
    HGRN_CHECK(std::isfinite(dloss), op, ": dloss must be finite, got ", dloss);
    op_check_like(dlogits, logits, op, "dlogits");
    HGRN_CHECK(dlogits.shape() == logits.shape(), op, ": dlogits has shape ", dlogits.shape().str(),
               ", expected logits' ", logits.shape().str());
    if (backend == OpBackend::ref)
        cross_entropy_backward_ref(logits, targets, dloss, dlogits, d);
    else
        cross_entropy_backward_cpu(logits, targets, dloss, dlogits, d);
}

}  // namespace hgrn
