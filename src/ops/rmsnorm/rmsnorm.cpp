// rmsnorm.cpp — argument validation and backend dispatch for RMSNorm (rmsnorm.h).
// x (..., D) is flattened to N rows; y / dy / dx have x's shape; w / dw are (D); rstd holds N values.
// rstd may be absent in the forward (inference: nothing is saved); the backward needs it.
#include "ops/rmsnorm/rmsnorm.h"

#include <cmath>

#include "ops/ops.h"
#include "ops/rmsnorm/rmsnorm_backends.h"

namespace hgrn {
namespace {

constexpr const char* kOp = "rmsnorm";

void check_like_x(const Tensor& t, const Tensor& x, const char* name) {
    op_check_like(t, x, kOp, name);
    HGRN_CHECK(t.shape() == x.shape(), kOp, ": ", name, " has shape ", t.shape().str(), ", expected x's ",
               x.shape().str());
}

// w, dw: exactly (D).
void check_weight(const Tensor& t, const Tensor& x, const char* name, int64_t D) {
    op_check_like(t, x, kOp, name);
    HGRN_CHECK(t.shape() == Shape{D}, kOp, ": ", name, " has shape ", t.shape().str(), ", expected (", D, ")");
}

// rstd: N values, in any shape ((N) or, e.g., (B, T)).
void check_rstd(const Tensor& t, const Tensor& x, int64_t N) {
    op_check_like(t, x, kOp, "rstd");
    HGRN_CHECK(t.numel() == N, kOp, ": rstd has shape ", t.shape().str(), ", expected ", N, " values (one per row)");
}

RmsnormDims dims_of(const Tensor& x) {
    op_check_like(x, x, kOp, "x");
    HGRN_CHECK(x.ndim() >= 1, kOp, ": x must be (..., D), got a scalar");
    RmsnormDims d;
    d.D = x.size(-1);
    d.N = op_rows(x, d.D, kOp, "x");
    HGRN_CHECK(d.D > 0, kOp, ": D must be > 0, got x ", x.shape().str());
    return d;
}

[[noreturn]] void no_gpu() { HGRN_FAIL(kOp, ": not available on the GPU yet"); }

}  // namespace

void rmsnorm_forward(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd) {
    const OpBackend backend = op_backend(x, kOp);
    const RmsnormDims d = dims_of(x);
    HGRN_CHECK(std::isfinite(eps) && eps >= 0, kOp, ": eps must be finite and >= 0, got ", eps);
    check_like_x(y, x, "y");
    if (!w.empty()) check_weight(w, x, "w", d.D);
    if (!rstd.empty()) check_rstd(rstd, x, d.N);
    switch (backend) {
        case OpBackend::ref:
            rmsnorm_forward_ref(x, w, eps, y, rstd, d);
            break;
        case OpBackend::cpu:
            rmsnorm_forward_cpu(x, w, eps, y, rstd, d);
            break;
        case OpBackend::cuda:
            no_gpu();
    }
}

void rmsnorm_backward(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                      const Tensor& dw, bool accumulate_dx) {
    const OpBackend backend = op_backend(x, kOp);
    const RmsnormDims d = dims_of(x);
    check_rstd(rstd, x, d.N);
    check_like_x(dy, x, "dy");
    if (!w.empty()) check_weight(w, x, "w", d.D);
    if (!dx.empty()) check_like_x(dx, x, "dx");
    if (!dw.empty()) {
        HGRN_CHECK(!w.empty(), kOp, ": dw given but w is absent (no affine weight to differentiate)");
        check_weight(dw, x, "dw", d.D);
    }
    switch (backend) {
        case OpBackend::ref:
            rmsnorm_backward_ref(x, w, rstd, dy, dx, dw, accumulate_dx, d);
            break;
        case OpBackend::cpu:
            rmsnorm_backward_cpu(x, w, rstd, dy, dx, dw, accumulate_dx, d);
            break;
        case OpBackend::cuda:
            no_gpu();
    }
}

}  // namespace hgrn
