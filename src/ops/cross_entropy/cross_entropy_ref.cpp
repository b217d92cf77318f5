// cross_entropy_ref.cpp — float64 reference of the mean cross-entropy with ignored positions:
//     lse_i = m_i + log Σ_v e^(x_iv − m_i)  (m_i = max_v x_iv),   loss = (1/n) Σ_{t_i ≠ −100} (lse_i − x_{i,t_i})
//     dx_iv = dloss/n · (e^(x_iv − lse_i) − [v = t_i]) for counted rows, 0 for ignored rows
// logits, dlogits (N, V) f64 (dlogits may be logits: each element is read before it is written);
// targets (N) i64, validated by the dispatcher; n = d.counted > 0 in the forward.
#include <algorithm>
#include <cmath>

#include "ops/cross_entropy/cross_entropy_backends.h"

namespace hgrn {
namespace {

double row_lse(const double* x, int64_t V) {
    double m = x[0], s = 0;
    for (int64_t v = 1; v < V; ++v) m = std::max(m, x[v]);
    for (int64_t v = 0; v < V; ++v) s += std::exp(x[v] - m);
    return m + std::log(s);
}

}  // namespace

double cross_entropy_forward_ref(const Tensor& logits, const Tensor& targets, const CrossEntropyDims& d) {
    const double* X = logits.ptr<double>();
    const int64_t* Tg = targets.ptr<int64_t>();
    double total = 0;
    for (int64_t n = 0; n < d.N; ++n) {
        if (Tg[n] == kIgnoreIndex) continue;
        total += row_lse(X + n * d.V, d.V) - X[n * d.V + Tg[n]];
    }
    return total / double(d.counted);
}

void cross_entropy_backward_ref(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits,
                                const CrossEntropyDims& d) {
    const double* X = logits.ptr<double>();
    const int64_t* Tg = targets.ptr<int64_t>();
    double* DX = dlogits.ptr<double>();
    const double scale = d.counted ? dloss / double(d.counted) : 0.0;
    for (int64_t n = 0; n < d.N; ++n) {
        const bool ignored = Tg[n] == kIgnoreIndex;
        const double lse = ignored ? 0.0 : row_lse(X + n * d.V, d.V);
        for (int64_t v = 0; v < d.V; ++v) {
            const int64_t i = n * d.V + v;
            DX[i] = ignored ? 0.0 : scale * (std::exp(X[i] - lse) - (v == Tg[n] ? 1.0 : 0.0));
        }
    }
}

}  // namespace hgrn
