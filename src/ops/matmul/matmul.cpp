// matmul.cpp — argument validation and backend dispatch for y = x · Wᵀ (matmul.h).
// x (..., K) is flattened to M rows; y and dy must have the same number of rows and end in N.
#include "ops/matmul/matmul.h"

#include "ops/matmul/matmul_backends.h"
#include "ops/ops.h"

namespace hgrn {
namespace {

constexpr const char* kOp = "matmul";

// Checks x, w and the (M, N) output-shaped tensor `out` (y or dy); returns the dims.
MatmulDims dims_of(const Tensor& x, const Tensor& w, const Tensor& out, const char* out_name) {
    op_check_like(x, x, kOp, "x");
    op_check_like(w, x, kOp, "w");
    HGRN_CHECK(w.ndim() == 2, kOp, ": w must be (N, K), got ", w.shape().str());
    MatmulDims d;
    d.N = w.size(0);
    d.K = w.size(1);
    HGRN_CHECK(x.ndim() >= 1 && x.size(-1) == d.K, kOp, ": x ", x.shape().str(), " and w ", w.shape().str(),
               " disagree on K (the last dimension of both)");
    d.M = op_rows(x, d.K, kOp, "x");
    op_check_like(out, x, kOp, out_name);
    const int64_t rows = op_rows(out, d.N, kOp, out_name);
    HGRN_CHECK(rows == d.M, kOp, ": ", out_name, " ", out.shape().str(), " has ", rows, " rows but x ", x.shape().str(),
               " has ", d.M);
    return d;
}

[[noreturn]] void no_gpu() { HGRN_FAIL(kOp, ": not available on the GPU yet"); }

}  // namespace

void matmul_forward(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate) {
    const OpBackend backend = op_backend(x, kOp);
    const MatmulDims d = dims_of(x, w, y, "y");
    switch (backend) {
        case OpBackend::ref:
            matmul_forward_ref(x, w, y, accumulate, d);
            break;
        case OpBackend::cpu:
            matmul_forward_cpu(x, w, y, accumulate, d);
            break;
        case OpBackend::cuda:
            no_gpu();
    }
}

void matmul_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                     bool accumulate_dx) {
    const OpBackend backend = op_backend(x, kOp);
    const MatmulDims d = dims_of(x, w, dy, "dy");
    if (!dx.empty()) {
        op_check_like(dx, x, kOp, "dx");
        HGRN_CHECK(dx.shape() == x.shape(), kOp, ": dx has shape ", dx.shape().str(), ", expected x's ",
                   x.shape().str());
    }
    if (!dw.empty()) {
        op_check_like(dw, x, kOp, "dw");
        HGRN_CHECK(dw.shape() == w.shape(), kOp, ": dw has shape ", dw.shape().str(), ", expected w's ",
                   w.shape().str());
    }
    switch (backend) {
        case OpBackend::ref:
            matmul_backward_ref(x, w, dy, dx, dw, accumulate_dx, d);
            break;
        case OpBackend::cpu:
            matmul_backward_cpu(x, w, dy, dx, dw, accumulate_dx, d);
            break;
        case OpBackend::cuda:
            no_gpu();
    }
}

}  // namespace hgrn
