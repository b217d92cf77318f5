// ops.cpp — shared argument checks of the small ops in src/ops/<op>/ (see ops.h).
#include "ops/ops.h"

namespace hgrn {

OpBackend op_backend(const Tensor& t, const char* op) {
    HGRN_CHECK(!t.empty(), op, ": input is absent");
    if (t.device() == Device::cuda) return OpBackend::cuda;
    if (t.dtype() == DType::f64) return OpBackend::ref;
    HGRN_CHECK(t.dtype() == DType::f32, op, " on the CPU takes f64 (reference) or f32 tensors, got ",
               dtype_name(t.dtype()));
    return OpBackend::cpu;
}

void op_check_like(const Tensor& t, const Tensor& ref, const char* op, const char* name) {
    HGRN_CHECK(!t.empty(), op, ": ", name, " is required but absent");
    HGRN_CHECK(t.is_contiguous(), op, ": ", name, " must be contiguous");
    HGRN_CHECK(t.device() == ref.device(), op, ": ", name, " is on another device (", t.describe(), ")");
    HGRN_CHECK(t.dtype() == ref.dtype(), op, ": ", name, " is ", dtype_name(t.dtype()), ", expected ",
               dtype_name(ref.dtype()));
}

int64_t op_rows(const Tensor& t, int64_t last, const char* op, const char* name) {
    HGRN_CHECK(t.ndim() >= 1 && t.size(-1) == last, op, ": ", name, " must end in a dimension of ", last, ", got ",
               t.shape().str());
    return last ? t.numel() / last : 0;
}

}  // namespace hgrn
