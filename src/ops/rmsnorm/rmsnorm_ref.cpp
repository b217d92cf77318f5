// rmsnorm_ref.cpp — float64 reference of RMSNorm over the last dimension D, straight from the equations:
//     rstd = (mean_D(x²) + eps)^(-1/2),  x̂ = x · rstd,  y = x̂ ⊙ w
//     dx = rstd · (dy⊙w − x̂ · mean_D(dy⊙w⊙x̂))  (= or +=),   dw += Σ_N dy ⊙ x̂
// x, y, dy, dx (N, D); w, dw (D) (w absent → 1); rstd (N).
#include <cmath>

#include "ops/rmsnorm/rmsnorm_backends.h"

namespace hgrn {

void rmsnorm_forward_ref(const Tensor& x, const Tensor& w, double eps, const Tensor& y, const Tensor& rstd,
                         const RmsnormDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.empty() ? nullptr : w.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t n = 0; n < d.N; ++n) {
        const double* xr = X + n * d.D;
        double ss = 0;
        for (int64_t i = 0; i < d.D; ++i) ss += xr[i] * xr[i];
        const double r = 1.0 / std::sqrt(ss / double(d.D) + eps);
        for (int64_t i = 0; i < d.D; ++i) Y[n * d.D + i] = xr[i] * r * (Wt ? Wt[i] : 1.0);
        if (!rstd.empty()) rstd.ptr<double>()[n] = r;
    }
}

void rmsnorm_backward_ref(const Tensor& x, const Tensor& w, const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                          const Tensor& dw, bool accumulate_dx, const RmsnormDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.empty() ? nullptr : w.ptr<double>();
    const double* R = rstd.ptr<double>();
    const double* DY = dy.ptr<double>();
    if (!dw.empty()) {  // dw += Σ_N dy ⊙ x̂ (before dx, so dx may alias dy)
        double* DW = dw.ptr<double>();
        for (int64_t i = 0; i < d.D; ++i) {
            double s = 0;
            for (int64_t n = 0; n < d.N; ++n) s += DY[n * d.D + i] * X[n * d.D + i] * R[n];
            DW[i] += s;
        }
    }
    if (dx.empty()) return;
    double* DX = dx.ptr<double>();
    for (int64_t n = 0; n < d.N; ++n) {
        const double* xr = X + n * d.D;
        const double* dyr = DY + n * d.D;
        double m = 0;  // mean_D(dy ⊙ w ⊙ x̂)
        for (int64_t i = 0; i < d.D; ++i) m += dyr[i] * (Wt ? Wt[i] : 1.0) * xr[i] * R[n];
        m /= double(d.D);
        for (int64_t i = 0; i < d.D; ++i) {
            const double v = R[n] * (dyr[i] * (Wt ? Wt[i] : 1.0) - xr[i] * R[n] * m);
            DX[n * d.D + i] = accumulate_dx ? DX[n * d.D + i] + v : v;
        }
    }
}

}  // namespace hgrn
