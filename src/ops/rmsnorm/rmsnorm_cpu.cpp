// rmsnorm_cpu.cpp — fp32 RMSNorm on the CPU (math in rmsnorm.h):
//     rstd = (mean_D(x²) + eps)^(-1/2),  y = x · rstd · w
//     dx = rstd · (dy⊙w − x̂ · mean_D(dy⊙w⊙x̂)) (= or +=),  dw += Σ_N dy ⊙ x̂
// x, y, dy, dx (N, D); w, dw (D); rstd (N). Rows are split over OpenMP threads; the per-row sums use fp32
// accumulation (SIMD lanes, a fixed order for a given build). dw's sum over rows is split by channel blocks,
// each summed over all rows in order in double, so results do not depend on the thread count.
// y may alias x, and dx may alias dy (dw is taken before dx overwrites dy).
#include <algorithm>
#include <cmath>

#include "ops/rmsnorm/rmsnorm_backends.h"

namespace hgrn {
namespace {

// Below this many element operations a parallel region costs more than it saves (decode steps, tests).
constexpr int64_t kParallelMin = int64_t(1) << 15;
constexpr int64_t kChannelBlock = 64;  // channels per task of the dw reduction

// dw[i] += Σ_n dy[n, i] · x[n, i] · rstd[n]
void rmsnorm_dw_cpu(const float* X, const float* R, const float* DY, float* DW, const RmsnormDims& d) {
    const int64_t blocks = (d.D + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (d.N * d.D >= kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t i0 = blk * kChannelBlock, len = std::min(kChannelBlock, d.D - i0);
        double acc[kChannelBlock] = {};
        for (int64_t n = 0; n < d.N; ++n) {
            const float* xr = X + n * d.D + i0;
            const float* dyr = DY + n * d.D + i0;
            const float r = R[n];
#pragma omp simd
            for (int64_t i = 0; i < len; ++i) acc[i] += double(dyr[i] * xr[i] * r);
        }
        for (int64_t i = 0; i < len; ++i) DW[i0 + i] += float(acc[i]);
    }
}

}  // namespace

void rmsnorm_forward_cpu(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd,
                         const RmsnormDims& d) {
    const float* X = x.ptr<float>();
    const float* Wt = w.empty() ? nullptr : w.ptr<float>();
    float* Y = y.ptr<float>();
    float* R = rstd.empty() ? nullptr : rstd.ptr<float>();
    const float feps = float(eps), inv_d = 1.0f / float(d.D);
#pragma omp parallel for schedule(static) if (d.N * d.D >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n) {
        const float* xr = X + n * d.D;
        float* yr = Y + n * d.D;
        float ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < d.D; ++i) ss += xr[i] * xr[i];
        const float r = 1.0f / std::sqrt(ss * inv_d + feps);
        if (Wt) {
#pragma omp simd
            for (int64_t i = 0; i < d.D; ++i) yr[i] = xr[i] * r * Wt[i];
        } else {
#pragma omp simd
            for (int64_t i = 0; i < d.D; ++i) yr[i] = xr[i] * r;
        }
        if (R) R[n] = r;
    }
}

void rmsnorm_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                          const Tensor& dw, bool accumulate_dx, const RmsnormDims& d) {
    const float* X = x.ptr<float>();
    const float* Wt = w.empty() ? nullptr : w.ptr<float>();
    const float* R = rstd.ptr<float>();
    const float* DY = dy.ptr<float>();
    if (!dw.empty()) rmsnorm_dw_cpu(X, R, DY, dw.ptr<float>(), d);
    if (dx.empty()) return;
    float* DX = dx.ptr<float>();
    const float inv_d = 1.0f / float(d.D);
#pragma omp parallel for schedule(static) if (d.N * d.D >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n) {
        const float* xr = X + n * d.D;
        const float* dyr = DY + n * d.D;
        float* dxr = DX + n * d.D;
        const float r = R[n];
        float m = 0;  // Σ_D dy ⊙ w ⊙ x (times rstd and 1/D below)
#pragma omp simd reduction(+ : m)
        for (int64_t i = 0; i < d.D; ++i) m += dyr[i] * (Wt ? Wt[i] : 1.0f) * xr[i];
        const float c = m * r * r * inv_d;  // x̂ · mean(dy⊙w⊙x̂) = x · rstd² · mean(dy⊙w⊙x)
        if (accumulate_dx) {
#pragma omp simd
            for (int64_t i = 0; i < d.D; ++i) dxr[i] += r * (dyr[i] * (Wt ? Wt[i] : 1.0f) - xr[i] * c);
        } else {  // never reads dx's old contents (which may be garbage or NaN)
#pragma omp simd
            for (int64_t i = 0; i < d.D; ++i) dxr[i] = r * (dyr[i] * (Wt ? Wt[i] : 1.0f) - xr[i] * c);
        }
    }
}

}  // namespace hgrn
