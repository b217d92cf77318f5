// compare.h — how tests judge a computed tensor against a reference.
// ErrorStats gives max |a - r| / max |r| ("max-abs over max-abs") and the relative RMS ||a - r|| / ||r||;
// NaN/Inf in the computed values is reported first. Tolerances are named here, each with why it is what it is.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace hgrn::test {

// float64 algorithms that compute the same function in another order (chunkwise vs recurrent): rounding
// differences of ~1e-15 relative grow with T * K terms; 1e-10 leaves room for T = 1025, K = 256.
constexpr double kTolF64Algo = 1e-10;
// Central finite differences in float64 with step 1e-5 on O(1) inputs: truncation error ~h^2 = 1e-10 relative
// plus cancellation ~1e-16/1e-5 = 1e-11, on values of size ~1; 1e-6 is a comfortable bound that still
// catches any wrong term (which shows up at 1e-2 or worse).
constexpr double kTolFiniteDiff = 1e-6;
// fp32 paths against the float64 reference: fp32 epsilon 6e-8 times sums of up to ~1000 terms plus the
// exp() of cumulated gates; 2e-4 max-abs-over-max-abs catches any wrong term.
constexpr double kTolF32 = 2e-4;
// Same, measured as relative RMS (tighter: it averages rounding noise).
constexpr double kTolF32Rms = 2e-5;

struct ErrorStats {
    double max_abs_err = 0;  // max |a - r|
    double max_abs_ref = 0;  // max |r|
    double rel_max = 0;      // max_abs_err / max(max_abs_ref, tiny)
    double rel_rms = 0;      // ||a - r|| / max(||r||, tiny)
    int64_t nonfinite = 0;   // count of NaN/Inf in a
    int64_t n = 0;
    std::string str() const;
};

ErrorStats compare(const double* a, const double* r, int64_t n);
ErrorStats compare(const Tensor& a, const Tensor& r);  // any floating dtypes on the CPU; same numel
ErrorStats compare(const std::vector<double>& a, const std::vector<double>& r);

}  // namespace hgrn::test

// Asserts that `got` matches `ref` within tol (max-abs over max-abs) and has no NaN/Inf.
#define HGRN_EXPECT_CLOSE(what, got, ref, tol)                                                              \
    do {                                                                                                    \
        const ::hgrn::test::ErrorStats st_ = ::hgrn::test::compare(got, ref);                               \
        EXPECT_EQ(st_.nonfinite, 0) << what << ": " << st_.str();                                           \
        EXPECT_LE(st_.rel_max, tol) << what << ": " << st_.str();                                           \
    } while (0)
