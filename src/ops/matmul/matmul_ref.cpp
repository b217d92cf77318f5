// matmul_ref.cpp — float64 reference of the bias-free linear layer, straight from the sums:
//     y[m, n] (+)= Σ_k x[m, k] · w[n, k]
//     dx[m, k] (+)= Σ_n dy[m, n] · w[n, k]        dw[n, k] += Σ_m dy[m, n] · x[m, k]
// x (M, K), w (N, K), y / dy (M, N), all row-major f64.
#include "ops/matmul/matmul_backends.h"

namespace hgrn {

void matmul_forward_ref(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate, const MatmulDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t m = 0; m < d.M; ++m)
        for (int64_t n = 0; n < d.N; ++n) {
            double s = 0;
            for (int64_t k = 0; k < d.K; ++k) s += X[m * d.K + k] * Wt[n * d.K + k];
            Y[m * d.N + n] = accumulate ? Y[m * d.N + n] + s : s;
        }
}

void matmul_backward_ref(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                         bool accumulate_dx, const MatmulDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.ptr<double>();
    const double* DY = dy.ptr<double>();
    if (!dw.empty()) {  // before dx, so nothing here depends on dx's old contents
        double* DW = dw.ptr<double>();
        for (int64_t n = 0; n < d.N; ++n)
            for (int64_t k = 0; k < d.K; ++k) {
                double s = 0;
                for (int64_t m = 0; m < d.M; ++m) s += DY[m * d.N + n] * X[m * d.K + k];
                DW[n * d.K + k] += s;
            }
    }
    if (!dx.empty()) {
        double* DX = dx.ptr<double>();
        for (int64_t m = 0; m < d.M; ++m)
            for (int64_t k = 0; k < d.K; ++k) {
                double s = 0;
                for (int64_t n = 0; n < d.N; ++n) s += DY[m * d.N + n] * Wt[n * d.K + k];
                DX[m * d.K + k] = accumulate_dx ? DX[m * d.K + k] + s : s;
            }
    }
}

}  // namespace hgrn
