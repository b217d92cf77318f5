// workspace.cpp — element-wise helpers for the model code (see workspace.h).
#include "model/workspace.h"

#include <cstring>

#include "core/rng.h"

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

namespace {
// Runs f with typed pointers for an f32 or f64 tensor family.
template <class F>
void typed(DType t, F f) {
    if (t == DType::f64) f(double{});
    else if (t == DType::f32) f(float{});
    else HGRN_FAIL("model arithmetic takes f32 or f64, got ", dtype_name(t));
}
}  // namespace

void mul(const Tensor& a, const Tensor& b, const Tensor& out) {
    check_same(a, b, "mul");
    check_same(a, out, "mul");
    typed(a.dtype(), [&](auto z) {
        using T = decltype(z);
        const T *x = a.ptr<T>(), *y = b.ptr<T>();
        T* o = out.ptr<T>();
        for (int64_t i = 0; i < a.numel(); ++i) o[i] = x[i] * y[i];
    });
}

void dropout_mask(const Tensor& mask, double p, uint64_t seed) {
    HGRN_CHECK(p >= 0 && p < 1, "dropout rate must be in [0, 1), got ", p);
    check_cpu_contiguous(mask, "dropout mask");
    Rng rng(seed);
    const double keep = 1.0 / (1.0 - p);
    typed(mask.dtype(), [&](auto z) {
        using T = decltype(z);
        T* m = mask.ptr<T>();
        for (int64_t i = 0; i < mask.numel(); ++i) m[i] = rng.uniform() < p ? T(0) : T(keep);
    });
}

void add_bias(const Tensor& y, const Tensor& b) {
    const int64_t C = b.numel(), N = y.numel() / C;
    HGRN_CHECK(y.size(-1) == C && y.dtype() == b.dtype(), "add_bias: ", y.describe(), " + ", b.describe());
    typed(y.dtype(), [&](auto z) {
        using T = decltype(z);
        T* o = y.ptr<T>();
        const T* bb = b.ptr<T>();
        for (int64_t n = 0; n < N; ++n)
            for (int64_t c = 0; c < C; ++c) o[n * C + c] += bb[c];
    });
}

void bias_backward(const Tensor& dy, const Tensor& db) {
    const int64_t C = db.numel(), N = dy.numel() / C;
    HGRN_CHECK(dy.size(-1) == C && dy.dtype() == db.dtype(), "bias_backward: ", dy.describe(), " vs ", db.describe());
    typed(dy.dtype(), [&](auto z) {
        using T = decltype(z);
        const T* g = dy.ptr<T>();
        T* o = db.ptr<T>();
        for (int64_t n = 0; n < N; ++n)
            for (int64_t c = 0; c < C; ++c) o[c] += g[n * C + c];
    });
}

void mean_over_time(const Tensor& x, const Tensor& pooled) {
    const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
    check_shape(pooled, "pooled", {B, D});
    typed(x.dtype(), [&](auto z) {
        using V = decltype(z);
        const V* in = x.ptr<V>();
        V* o = pooled.ptr<V>();
        for (int64_t b = 0; b < B; ++b) {
            for (int64_t d = 0; d < D; ++d) o[b * D + d] = 0;
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < D; ++d) o[b * D + d] += in[(b * T + t) * D + d];
            for (int64_t d = 0; d < D; ++d) o[b * D + d] /= V(T);
        }
    });
}

void mean_over_time_backward(const Tensor& dpooled, const Tensor& dx) {
    const int64_t B = dx.size(0), T = dx.size(1), D = dx.size(2);
    check_shape(dpooled, "dpooled", {B, D});
    typed(dx.dtype(), [&](auto z) {
        using V = decltype(z);
        const V* g = dpooled.ptr<V>();
        V* o = dx.ptr<V>();
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < D; ++d) o[(b * T + t) * D + d] = g[b * D + d] / V(T);
    });
}

}  // namespace hgrn
