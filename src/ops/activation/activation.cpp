// activation.cpp — argument validation and backend dispatch for swish and swiglu (activation.h).
// Every tensor must have the first input's exact shape, dtype and device, and be contiguous.
#include "ops/activation/activation.h"

#include "ops/activation/activation_backends.h"
#include "ops/ops.h"

namespace hgrn {
namespace {

void check_same(const Tensor& t, const Tensor& ref, const char* op, const char* name, const char* ref_name) {
    op_check_like(t, ref, op, name);
    HGRN_CHECK(t.shape() == ref.shape(), op, ": ", name, " has shape ", t.shape().str(), ", expected ", ref_name, "'s ",
               ref.shape().str());
}

[[noreturn]] void no_gpu(const char* op) { HGRN_FAIL(op, ": not available on the GPU yet"); }

}  // namespace

void swish_forward(const Tensor& x, const Tensor& y) {
    const char* op = "swish";
    const OpBackend backend = op_backend(x, op);
    check_same(x, x, op, "x", "x");
    check_same(y, x, op, "y", "x");
    switch (backend) {
        case OpBackend::ref:
            swish_forward_ref(x, y, x.numel());
            break;
        case OpBackend::cpu:
            swish_forward_cpu(x, y, x.numel());
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void swish_backward(const Tensor& x, const Tensor& dy, const Tensor& dx) {
    const char* op = "swish backward";
    const OpBackend backend = op_backend(x, op);
    check_same(x, x, op, "x", "x");
    check_same(dy, x, op, "dy", "x");
    check_same(dx, x, op, "dx", "x");
    switch (backend) {
        case OpBackend::ref:
            swish_backward_ref(x, dy, dx, x.numel());
            break;
        case OpBackend::cpu:
            swish_backward_cpu(x, dy, dx, x.numel());
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void swiglu_forward(const Tensor& a, const Tensor& b, const Tensor& y) {
    const char* op = "swiglu";
    const OpBackend backend = op_backend(a, op);
    check_same(a, a, op, "a", "a");
    check_same(b, a, op, "b", "a");
    check_same(y, a, op, "y", "a");
    switch (backend) {
        case OpBackend::ref:
            swiglu_forward_ref(a, b, y, a.numel());
            break;
        case OpBackend::cpu:
            swiglu_forward_cpu(a, b, y, a.numel());
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

void swiglu_backward(const Tensor& a, const Tensor& b, const Tensor& dy, const Tensor& da, const Tensor& db) {
    const char* op = "swiglu backward";
    const OpBackend backend = op_backend(a, op);
    check_same(a, a, op, "a", "a");
    check_same(b, a, op, "b", "a");
    check_same(dy, a, op, "dy", "a");
    check_same(da, a, op, "da", "a");
    check_same(db, a, op, "db", "a");
    switch (backend) {
        case OpBackend::ref:
            swiglu_backward_ref(a, b, dy, da, db, a.numel());
            break;
        case OpBackend::cpu:
            swiglu_backward_cpu(a, b, dy, da, db, a.numel());
            break;
        case OpBackend::cuda:
            no_gpu(op);
    }
}

}  // namespace hgrn
