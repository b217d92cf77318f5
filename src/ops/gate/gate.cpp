// gate.cpp — argument validation and backend dispatch for the forget gate and the lower bounds (gate.h).
// forget gate: f (..., F) flattened to N rows; g, k, dg, dk, df have f's shape; gamma, dgamma are (F), and
// gamma's values must lie in [0, 1] (checked on the CPU). lower bounds: lb, gamma, dgamma, dlb are (L, D).
#include "ops/gate/gate.h"

#include <vector>

#include "ops/gate/gate_backends.h"
#include "ops/ops.h"

namespace hgrn {
namespace {

void check_like_f(const Tensor& t, const Tensor& f, const char* op, const char* name) {
    op_check_like(t, f, op, name);
    HGRN_CHECK(t.shape() == f.shape(), op, ": ", name, " has shape ", t.shape().str(), ", expected f's ",
               f.shape().str());
}

// gamma / dgamma: exactly (F).
void check_channels(const Tensor& t, const Tensor& f, const char* op, const char* name, int64_t F) {
    op_check_like(t, f, op, name);
    HGRN_CHECK(t.shape() == Shape{F}, op, ": ", name, " has shape ", t.shape().str(), ", expected (", F, ")");
}

// A lower bound is a probability mass: γ ∈ [0, 1] (0 = no bound; log1p(−γ) needs γ ≤ 1).
void check_gamma_values(const Tensor& gamma, const char* op) {
    if (gamma.device() != Device::cpu) return;
    std::vector<double> v(size_t(gamma.numel()));
    convert(gamma.data(), gamma.dtype(), v.data(), DType::f64, v.size());
    for (size_t c = 0; c < v.size(); ++c)
        HGRN_CHECK(v[c] >= 0.0 && v[c] <= 1.0, op, ": gamma[", c, "] = ", v[c], " is outside [0, 1]");
}

GateDims gate_dims(const Tensor& f, const Tensor& gamma, const char* op) {
    op_check_like(f, f, op, "f");
    HGRN_CHECK(f.ndim() >= 1, op, ": f must be (..., F), got a scalar");
    GateDims d;
    d.F = f.size(-1);
    d.N = op_rows(f, d.F, op, "f");
    if (!gamma.empty()) {
        check_channels(gamma, f, op, "gamma", d.F);
        check_gamma_values(gamma, op);
    }
    return d;
}

LowerBoundDims lb_dims(const Tensor& lb, const char* op) {
    op_check_like(lb, lb, op, "lb");
    HGRN_CHECK(lb.ndim() == 2 && lb.size(0) >= 1, op, ": lb must be (L, D) with L >= 1, got ", lb.shape().str());
    return LowerBoundDims{lb.size(0), lb.size(1)};
}

void check_like_lb(const Tensor& t, const Tensor& lb, const char* op, const char* name) {
    op_check_like(t, lb, op, name);
    HGRN_CHECK(t.shape() == lb.shape(), op, ": ", name, " has shape ", t.shape().str(), ", expected lb's ",
               lb.shape().str());
}

[[noreturn]] void no_gpu(const char* op) { HGRN_FAIL(op, ": not available on the GPU yet"); }

}  // namespace

void forget_gate_forward(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k) {
    const char* op = "forget_gate";
    const OpBackend backend = op_backend(f, op);
    const GateDims d = gate_dims(f, gamma, op);
    check_like_f(g, f, op, "g");
    if (!k.empty()) check_like_f(k, f, op, "k");
    switch (backend) {
        case OpBackend::ref:
            forget_gate_forward_ref(f, gamma, g, k, d);
            break;
        case OpBackend::cpu:
            forget_gate_forward_cpu(f, gamma, g, k, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void forget_gate_backward(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk, const Tensor& df,
                          const Tensor& dgamma) {
    const char* op = "forget_gate backward";
    const OpBackend backend = op_backend(f, op);
    const GateDims d = gate_dims(f, gamma, op);
    if (!dg.empty()) check_like_f(dg, f, op, "dg");
    if (!dk.empty()) check_like_f(dk, f, op, "dk");
    check_like_f(df, f, op, "df");
    if (!dgamma.empty()) {
        HGRN_CHECK(!gamma.empty(), op, ": dgamma given but gamma is absent");
        check_channels(dgamma, f, op, "dgamma", d.F);
    }
    switch (backend) {
        case OpBackend::ref:
            forget_gate_backward_ref(f, gamma, dg, dk, df, dgamma, d);
            break;
        case OpBackend::cpu:
            forget_gate_backward_cpu(f, gamma, dg, dk, df, dgamma, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void lower_bounds_forward(const Tensor& lb, const Tensor& gamma) {
    const char* op = "lower_bounds";
    const OpBackend backend = op_backend(lb, op);
    const LowerBoundDims d = lb_dims(lb, op);
    check_like_lb(gamma, lb, op, "gamma");
    switch (backend) {
        case OpBackend::ref:
            lower_bounds_forward_ref(lb, gamma, d);
            break;
        case OpBackend::cpu:
            lower_bounds_forward_cpu(lb, gamma, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void lower_bounds_backward(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb) {
    const char* op = "lower_bounds backward";
    const OpBackend backend = op_backend(lb, op);
    const LowerBoundDims d = lb_dims(lb, op);
    check_like_lb(dgamma, lb, op, "dgamma");
    check_like_lb(dlb, lb, op, "dlb");
    switch (backend) {
        case OpBackend::ref:
            lower_bounds_backward_ref(lb, dgamma, dlb, d);
            break;
        case OpBackend::cpu:
            lower_bounds_backward_cpu(lb, dgamma, dlb, d);
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

}  // namespace hgrn
