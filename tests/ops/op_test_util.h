// op_test_util.h — helpers shared by the op tests in tests/ops/: seeded random buffers, f64 <-> f32 copies,
// dot products for scalar test losses L = Σ out ⊙ R, central finite differences in float64, and a check
// that a call throws hgrn::Error whose message names what was wrong.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "core/tensor.h"

namespace hgrn::test {

// A new buffer of `shape`, N(0, std²) values.
inline Buffer randn(Shape shape, Rng& rng, double std = 1.0, DType dtype = DType::f64) {
    Buffer b(dtype, shape);
    fill_normal(b, rng, std);
    return b;
}

// A copy of t in another dtype (same shape).
inline Buffer as(const Tensor& t, DType dtype) {
    Buffer b(dtype, t.shape());
    copy(t, b);
    return b;
}
inline Buffer clone(const Tensor& t) { return as(t, t.dtype()); }

// A buffer filled with NaN: outputs that must be overwritten start from it.
inline Buffer nan_buffer(DType dtype, Shape shape) {
    Buffer b(dtype, shape);
    fill(b, std::numeric_limits<double>::quiet_NaN());
    return b;
}

inline std::vector<double> values(const Tensor& t) {
    std::vector<double> v(size_t(t.numel()));
    convert(t.data(), t.dtype(), v.data(), DType::f64, v.size());
    return v;
}

// Σ a ⊙ b over all elements (any floating dtypes, same numel).
inline double dot(const Tensor& a, const Tensor& b) {
    const std::vector<double> x = values(a), y = values(b);
    EXPECT_EQ(x.size(), y.size());
    double s = 0;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) s += x[i] * y[i];
    return s;
}

// ∂loss/∂p for every element of the f64 tensor p by central differences (p is perturbed in place and restored).
inline std::vector<double> numeric_grad(const Tensor& p, const std::function<double()>& loss, double h = 1e-5) {
    double* v = p.ptr<double>();
    std::vector<double> g(size_t(p.numel()));
    for (int64_t i = 0; i < p.numel(); ++i) {
        const double keep = v[i];
        v[i] = keep + h;
        const double lp = loss();
        v[i] = keep - h;
        const double lm = loss();
        v[i] = keep;
        g[size_t(i)] = (lp - lm) / (2 * h);
    }
    return g;
}

// Expects the analytic gradient `got` to match finite differences of `loss` w.r.t. p.
inline void expect_grad_matches_fd(const char* what, const Tensor& got, const Tensor& p,
                                   const std::function<double()>& loss, double h = 1e-5) {
    const std::vector<double> fd = numeric_grad(p, loss, h);
    HGRN_EXPECT_CLOSE(what, values(got), fd, kTolFiniteDiff);
}

// Expects f() to throw hgrn::Error whose message contains every one of `parts`.
template <class F>
void expect_error(F f, std::initializer_list<std::string> parts) {
    try {
        f();
        ADD_FAILURE() << "no hgrn::Error thrown (expected one mentioning '" << *parts.begin() << "')";
    } catch (const Error& e) {
        const std::string m = e.what();
        for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
    }
}

}  // namespace hgrn::test
