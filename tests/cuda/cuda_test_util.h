// cuda_test_util.h — helpers of the GPU tests: host f64 data <-> device tensors of a given dtype, NaN
// poisoning of outputs (every element must be written), rounding to a storage dtype, and the judge of
// bf16 / f32 results (relative RMS against float64 and against a naive same-precision computation).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/compare.h"
#include "core/device.h"
#include "core/tensor.h"

namespace hgrn::test {

// bf16 outputs: the bound on relative RMS against float64.
constexpr double kTolBf16RmsGpu = 5e-3;
// ... and at most this many times the error of a naive same-precision computation (same rounded inputs,
// fp32 state, output rounded to the output dtype).
constexpr double kNaiveFactor = 2.0;
// fp32 rounding noise: two correct fp32 computations that sum in different orders differ by ~1e-7 relative
// per operation, growing with T; below this floor "2x the naive error" is noise, not a defect.
constexpr double kF32NoiseRms = 3e-6;
// fp32 inputs on the GPU, judged against float64 (relative RMS).
constexpr double kTolF32RmsGpu = 2e-5;

using Vec = std::vector<double>;

inline Vec round_to(const Vec& x, DType t) {
    Vec out(x.size());
    if (t == DType::f64) return x;
    std::vector<char> tmp(x.size() * dtype_size(t));
    convert(x.data(), DType::f64, tmp.data(), t, x.size());
    convert(tmp.data(), t, out.data(), DType::f64, x.size());
    return out;
}

// A device tensor of one dtype, filled from / read back into f64 host data.
struct Dev {
    Buffer buf;
    Dev() = default;
    Dev(DType t, Shape s) : buf(t, s, Device::cuda) {}
    Dev(const Vec& host, DType t, Shape s) : buf(t, s, Device::cuda) { upload(host); }
    Tensor view() const { return buf.view(); }
    void upload(const Vec& host) {
        HGRN_CHECK(int64_t(host.size()) == buf.numel(), "upload: size mismatch");
        std::vector<char> tmp(host.size() * dtype_size(buf.dtype()));
        convert(host.data(), DType::f64, tmp.data(), buf.dtype(), host.size());
        cuda_memcpy_h2d(buf.view().data(), tmp.data(), tmp.size());
    }
    void poison() { cuda_memset(buf.view().data(), 0xff, buf.view().nbytes()); }  // NaN in f32 and bf16
    Vec download() const {
        std::vector<char> tmp(size_t(buf.numel()) * dtype_size(buf.dtype()));
        cuda_memcpy_d2h(tmp.data(), buf.view().data(), tmp.size());
        Vec out(size_t(buf.numel()));
        convert(tmp.data(), buf.dtype(), out.data(), DType::f64, out.size());
        return out;
    }
};

inline Tensor host_view(Vec& v, Shape s) { return Tensor(v.data(), DType::f64, s); }

// got: GPU result; ref: float64; naive: same-precision naive result (already rounded to got's dtype).
inline void judge(const std::string& what, const Vec& got, const Vec& ref, const Vec& naive, bool bf16_inputs) {
    const ErrorStats e = compare(got, ref);
    const ErrorStats en = compare(naive, ref);
    EXPECT_EQ(e.nonfinite, 0) << what << ": " << e.str();
    if (bf16_inputs) {
        EXPECT_LE(e.rel_rms, kTolBf16RmsGpu) << what << ": " << e.str();
        EXPECT_LE(e.rel_rms, std::max(kNaiveFactor * en.rel_rms, kF32NoiseRms))
            << what << ": gpu " << e.str() << " | naive " << en.str();
    } else {
        EXPECT_LE(e.rel_rms, kTolF32RmsGpu) << what << ": " << e.str();
    }
}

}  // namespace hgrn::test
