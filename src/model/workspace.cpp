// workspace.cpp — element-wise helpers for the model code (see workspace.h).
#include "model/workspace.h"

#include <cstring>

namespace hgrn {
namespace {
template <class T>
void add_t(const T* a, const T* b, T* out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
void check_same(const Tensor& a, const Tensor& b, const char* what) {
    HGRN_CHECK(a.numel() == b.numel() && a.dtype() == b.dtype(), what, ": ", a.describe(), " vs ", b.describe());
    check_cpu_contiguous(a, what);
    check_cpu_contiguous(b, what);
}
}  // namespace

void add(const Tensor& a, const Tensor& b, const Tensor& out) {
    check_same(a, b, "add");
    check_same(a, out, "add");
    if (a.dtype() == DType::f64) add_t(a.ptr<double>(), b.ptr<double>(), out.ptr<double>(), a.numel());
    else add_t(a.ptr<float>(), b.ptr<float>(), out.ptr<float>(), a.numel());
}

void add_into(const Tensor& dst, const Tensor& src) { add(dst, src, dst); }

void zero(const Tensor& t) {
    check_cpu_contiguous(t, "zero");
    std::memset(t.data(), 0, t.nbytes());
}

}  // namespace hgrn
