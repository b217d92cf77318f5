// random.cpp — seeded random test inputs (see random.h).
#include "common/random.h"

#include <cmath>
#include <vector>

namespace hgrn::test {
namespace {
template <class F>
void fill_with(const Tensor& t, F f) {
    check_cpu_contiguous(t, "tensor");
    std::vector<double> v(size_t(t.numel()));
    for (auto& x : v) x = f();
    convert(v.data(), DType::f64, t.data(), t.dtype(), v.size());
}
}  // namespace

void fill_normal(const Tensor& t, Rng& rng, double std) {
    fill_with(t, [&] { return rng.normal() * std; });
}
void fill_uniform(const Tensor& t, Rng& rng, double lo, double hi) {
    fill_with(t, [&] { return rng.uniform(lo, hi); });
}
void fill_log_gate(const Tensor& t, Rng& rng, double strength, double offset) {
    fill_with(t, [&] {
        const double x = rng.normal() + offset;
        const double ls = x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));  // logsigmoid
        return ls * strength;
    });
}

}  // namespace hgrn::test
