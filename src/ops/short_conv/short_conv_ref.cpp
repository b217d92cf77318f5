// short_conv_ref.cpp — float64 reference of the causal depthwise conv with a cache, straight from the sums.
// With the extended input x_s[c] for s ∈ [−W, T): x[b, s, c] for s >= 0, cache_in[b, c, W + s] for s < 0
// (0 when cache_in is absent):
//     y[b, t, c] = Σ_j w[c, j] · x_{t−(W−1)+j}[c]          cache_out[b, c, i] = x_{T−W+i}[c]
// Backward scatters dy through the same sum: d x_{t−(W−1)+j}[c] += dy[b, t, c] · w[c, j] into an extended
// (B, W + T, C) buffer, then splits it into dx (s >= 0) and dcache_in (s < 0); dw[c, j] += Σ_{b,t} dy · x_{...}.
// x, y, dy, dx (B, T, C); w, dw (C, W); caches (B, C, W); all f64.
#include <vector>

#include "ops/short_conv/short_conv_backends.h"

namespace hgrn {
namespace {

// x_s[c] of sequence b, s ∈ [−W, T).
double x_at(const double* X, const double* cache, const ShortConvDims& d, int64_t b, int64_t s, int64_t c) {
    if (s >= 0) return X[(b * d.T + s) * d.C + c];
    return cache ? cache[(b * d.C + c) * d.W + d.W + s] : 0.0;
}

}  // namespace

void short_conv_forward_ref(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                            const Tensor& cache_out, const ShortConvDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.ptr<double>();
    const double* Cin = cache_in.empty() ? nullptr : cache_in.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t t = 0; t < d.T; ++t)
            for (int64_t c = 0; c < d.C; ++c) {
                double s = 0;
                for (int64_t j = 0; j < d.W; ++j) s += Wt[c * d.W + j] * x_at(X, Cin, d, b, t - (d.W - 1) + j, c);
                Y[(b * d.T + t) * d.C + c] = s;
            }
    if (cache_out.empty()) return;
    std::vector<double> next(size_t(d.B * d.C * d.W));  // cache_out may alias cache_in
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t c = 0; c < d.C; ++c)
            for (int64_t i = 0; i < d.W; ++i)
                next[size_t((b * d.C + c) * d.W + i)] = x_at(X, Cin, d, b, d.T - d.W + i, c);
    double* Cout = cache_out.ptr<double>();
    for (size_t i = 0; i < next.size(); ++i) Cout[i] = next[i];
}

void short_conv_backward_ref(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy,
                             const Tensor& dx, const Tensor& dw, const Tensor& dcache_in, const ShortConvDims& d) {
    const double* X = x.ptr<double>();
    const double* Wt = w.ptr<double>();
    const double* Cin = cache_in.empty() ? nullptr : cache_in.ptr<double>();
    const double* DY = dy.ptr<double>();
    const int64_t E = d.W + d.T;  // extended length: s + W ∈ [0, E)
    std::vector<double> dxe(size_t(d.B * E * d.C), 0.0);
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t t = 0; t < d.T; ++t)
            for (int64_t c = 0; c < d.C; ++c)
                for (int64_t j = 0; j < d.W; ++j) {
                    const int64_t s = t - (d.W - 1) + j;
                    const double g = DY[(b * d.T + t) * d.C + c];
                    dxe[size_t((b * E + s + d.W) * d.C + c)] += g * Wt[c * d.W + j];
                    if (!dw.empty()) dw.ptr<double>()[c * d.W + j] += g * x_at(X, Cin, d, b, s, c);
                }
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t c = 0; c < d.C; ++c) {
            if (!dx.empty())
                for (int64_t s = 0; s < d.T; ++s)
                    dx.ptr<double>()[(b * d.T + s) * d.C + c] = dxe[size_t((b * E + s + d.W) * d.C + c)];
            if (!dcache_in.empty())
                for (int64_t i = 0; i < d.W; ++i)  // cache slot i holds x_{i−W}
                    dcache_in.ptr<double>()[(b * d.C + c) * d.W + i] = dxe[size_t((b * E + i) * d.C + c)];
        }
}

}  // namespace hgrn
