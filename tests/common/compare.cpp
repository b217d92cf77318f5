// compare.cpp — error statistics between computed values and a reference (see compare.h).
#include "common/compare.h"

#include <cmath>
#include <sstream>

namespace hgrn::test {

std::string ErrorStats::str() const {
    std::ostringstream os;
    os << "max_abs_err=" << max_abs_err << " max_abs_ref=" << max_abs_ref << " rel_max=" << rel_max
       << " rel_rms=" << rel_rms << " nonfinite=" << nonfinite << " n=" << n;
    return os.str();
}

ErrorStats compare(const double* a, const double* r, int64_t n) {
    ErrorStats s;
    s.n = n;
    double se = 0, sr = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(a[i])) {
            ++s.nonfinite;
            continue;
        }
        const double e = std::abs(a[i] - r[i]);
        s.max_abs_err = std::max(s.max_abs_err, e);
        s.max_abs_ref = std::max(s.max_abs_ref, std::abs(r[i]));
        se += e * e;
        sr += r[i] * r[i];
    }
    s.rel_max = s.max_abs_err / std::max(s.max_abs_ref, 1e-300);
    s.rel_rms = std::sqrt(se) / std::max(std::sqrt(sr), 1e-300);
    if (s.max_abs_err == 0) s.rel_max = s.rel_rms = 0;
    return s;
}

ErrorStats compare(const Tensor& a, const Tensor& r) {
    HGRN_CHECK(a.numel() == r.numel(), "compare: ", a.describe(), " vs ", r.describe());
    std::vector<double> x(size_t(a.numel())), y(size_t(r.numel()));
    convert(a.data(), a.dtype(), x.data(), DType::f64, x.size());
    convert(r.data(), r.dtype(), y.data(), DType::f64, y.size());
    return compare(x.data(), y.data(), int64_t(x.size()));
}

ErrorStats compare(const std::vector<double>& a, const std::vector<double>& r) {
    HGRN_CHECK(a.size() == r.size(), "compare: sizes ", a.size(), " vs ", r.size());
    return compare(a.data(), r.data(), int64_t(a.size()));
}

}  // namespace hgrn::test
