// short_conv.cpp — argument validation and backend dispatch for the causal depthwise conv (short_conv.h).
// x (B, T, C) with T >= 0; w (C, W) with W >= 1; y, dy, dx (B, T, C); cache_in, cache_out, dcache_in (B, C, W).
// In the backward, dx and dw may also be absent (skipped). dcache_in without cache_in is the gradient with
// respect to the implicit zero history.
#include "ops/short_conv/short_conv.h"

#include "ops/ops.h"
#include "ops/short_conv/short_conv_backends.h"

namespace hgrn {
namespace {

void check_shaped(const Tensor& t, const Tensor& x, const char* op, const char* name, Shape s) {
    op_check_like(t, x, op, name);
    HGRN_CHECK(t.shape() == s, op, ": ", name, " has shape ", t.shape().str(), ", expected ", s.str());
}

ShortConvDims dims_of(const Tensor& x, const Tensor& w, const char* op) {
    op_check_like(x, x, op, "x");
    HGRN_CHECK(x.ndim() == 3, op, ": x must be (B, T, C), got ", x.shape().str());
    op_check_like(w, x, op, "w");
    HGRN_CHECK(w.ndim() == 2 && w.size(1) >= 1, op, ": w must be (C, W) with W >= 1, got ", w.shape().str());
    const ShortConvDims d{x.size(0), x.size(1), x.size(2), w.size(1)};
    HGRN_CHECK(w.size(0) == d.C, op, ": w has ", w.size(0), " channels but x ", x.shape().str(), " has ", d.C);
    return d;
}

[[noreturn]] void no_gpu(const char* op) { HGRN_FAIL(op, ": not available on the GPU yet"); }

}  // namespace

void short_conv_forward(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                        const Tensor& cache_out) {
    const char* op = "short_conv";
    const OpBackend backend = op_backend(x, op);
    const ShortConvDims d = dims_of(x, w, op);
    const Shape cache{d.B, d.C, d.W};
    check_shaped(y, x, op, "y", x.shape());
    if (!cache_in.empty()) check_shaped(cache_in, x, op, "cache_in", cache);
    if (!cache_out.empty()) check_shaped(cache_out, x, op, "cache_out", cache);
    switch (backend) {
        case OpBackend::ref:
            short_conv_forward_ref(x, w, cache_in, y, cache_out, d);
            break;
        case OpBackend::cpu:
            short_conv_forward_cpu(x, w, cache_in, y, cache_out, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void short_conv_backward(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy, const Tensor& dx,
                         const Tensor& dw, const Tensor& dcache_in) {
    const char* op = "short_conv backward";
    const OpBackend backend = op_backend(x, op);
    const ShortConvDims d = dims_of(x, w, op);
    const Shape cache{d.B, d.C, d.W};
    if (!cache_in.empty()) check_shaped(cache_in, x, op, "cache_in", cache);
    check_shaped(dy, x, op, "dy", x.shape());
    if (!dx.empty()) check_shaped(dx, x, op, "dx", x.shape());
    if (!dw.empty()) check_shaped(dw, x, op, "dw", w.shape());
    if (!dcache_in.empty()) check_shaped(dcache_in, x, op, "dcache_in", cache);
    switch (backend) {
        case OpBackend::ref:
            short_conv_backward_ref(x, w, cache_in, dy, dx, dw, dcache_in, d);
            break;
        case OpBackend::cpu:
            short_conv_backward_cpu(x, w, cache_in, dy, dx, dw, dcache_in, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

}  // namespace hgrn
