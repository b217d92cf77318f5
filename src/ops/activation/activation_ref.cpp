// activation_ref.cpp — float64 reference of swish and swiglu, straight from the equations:
//     σ(x) = 1 / (1 + e^(−x))                  (evaluated as e^(−|x|) / (1 + e^(−|x|)) for x < 0: no overflow)
//     swish(x) = x·σ(x)                        swish'(x) = σ(x)·(1 + x·(1 − σ(x)))
//     swiglu(a, b) = swish(a)·b                da = dy·b·swish'(a),  db = dy·swish(a)
// All tensors are n contiguous f64 values. Each element is read before any output is written, so outputs
// may alias inputs element for element.
#include <cmath>

#include "ops/activation/activation_backends.h"

namespace hgrn {
namespace {

double sigmoid(double x) {
    const double e = std::exp(-std::abs(x));  // in (0, 1]
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
double swish(double x) { return x * sigmoid(x); }
double swish_grad(double x) {
    const double s = sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
}

}  // namespace

void swish_forward_ref(const Tensor& x, const Tensor& y, int64_t n) {
    const double* X = x.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t i = 0; i < n; ++i) Y[i] = swish(X[i]);
}

void swish_backward_ref(const Tensor& x, const Tensor& dy, const Tensor& dx, int64_t n) {
    const double* X = x.ptr<double>();
    const double* DY = dy.ptr<double>();
    double* DX = dx.ptr<double>();
    for (int64_t i = 0; i < n; ++i) DX[i] = DY[i] * swish_grad(X[i]);
}

void swiglu_forward_ref(const Tensor& a, const Tensor& b, const Tensor& y, int64_t n) {
    const double* A = a.ptr<double>();
    const double* B = b.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t i = 0; i < n; ++i) Y[i] = swish(A[i]) * B[i];
}

void swiglu_backward_ref(const Tensor& a, const Tensor& b, const Tensor& dy, const Tensor& da, const Tensor& db,
                         int64_t n) {
    const double* A = a.ptr<double>();
    const double* B = b.ptr<double>();
    const double* DY = dy.ptr<double>();
    double* DA = da.ptr<double>();
    double* DB = db.ptr<double>();
    for (int64_t i = 0; i < n; ++i) {
        const double ai = A[i], bi = B[i], g = DY[i];
        const double va = g * bi * swish_grad(ai), vb = g * swish(ai);
        DA[i] = va;
        DB[i] = vb;
    }
}

}  // namespace hgrn
