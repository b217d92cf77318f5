// cross_entropy_cpu.cpp — fp32 mean cross-entropy on the CPU (math in cross_entropy.h):
//     m_i = max_v x_iv,  s_i = Σ_v e^(x_iv − m_i) (e^ in fp32, summed in double),  lse_i = m_i + log s_i
//     loss = (1/n) Σ_{counted} (lse_i − x_{i,t_i})       dx_iv = dloss/n · (e^(x_iv − m_i)/s_i − [v = t_i])
// logits, dlogits (N, V) f32 (dlogits may be logits); targets (N) i64, validated by the dispatcher.
// Rows are split over OpenMP threads; per-row losses are summed afterwards in row order (in double), so the
// loss does not depend on the thread count.
#include <algorithm>

#include "core/vmath.h"
#include <cmath>
#include <vector>

#include "ops/cross_entropy/cross_entropy_backends.h"

namespace hgrn {
namespace {

// Below this many element operations a parallel region costs more than it saves (decode steps, tests).
constexpr int64_t kParallelMin = int64_t(1) << 15;
struct RowStats {
    float max;
    double sum;  // Σ_v e^(x_v − max)
};

RowStats row_stats(const float* x, int64_t V) {
    float m = x[0];
#pragma omp simd reduction(max : m)
    for (int64_t v = 0; v < V; ++v) m = std::max(m, x[v]);
    // Blocks of 256 summed in fp32 (vectorised), then in double: the sum is accurate for any vocabulary size.
    double s = 0;
    for (int64_t b = 0; b < V; b += 256) {
        float part = 0;
        const int64_t e = std::min(V, b + 256);
#pragma omp simd reduction(+ : part)
        for (int64_t v = b; v < e; ++v) part += exp_f32(x[v] - m);
        s += double(part);
    }
    return {m, s};
}

}  // namespace

double cross_entropy_forward_cpu(const Tensor& logits, const Tensor& targets, const CrossEntropyDims& d) {
    const float* X = logits.ptr<float>();
    const int64_t* Tg = targets.ptr<int64_t>();
    std::vector<double> row_loss(size_t(d.N), 0.0);
#pragma omp parallel for schedule(dynamic, 16) if (d.N * d.V >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n) {
        if (Tg[n] == kIgnoreIndex) continue;
        const float* x = X + n * d.V;
        const RowStats st = row_stats(x, d.V);
        row_loss[size_t(n)] = double(st.max) + std::log(st.sum) - double(x[Tg[n]]);
    }
    double total = 0;
    for (double l : row_loss) total += l;
    return total / double(d.counted);
}

void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& targets, double dloss, const Tensor& dlogits,
                                const CrossEntropyDims& d) {
    const float* X = logits.ptr<float>();
    const int64_t* Tg = targets.ptr<int64_t>();
    float* DX = dlogits.ptr<float>();
    const float scale = d.counted ? float(dloss / double(d.counted)) : 0.0f;
#pragma omp parallel for schedule(dynamic, 16) if (d.N * d.V >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n) {
        const float* x = X + n * d.V;
        float* dx = DX + n * d.V;
        if (Tg[n] == kIgnoreIndex) {
            std::fill(dx, dx + d.V, 0.0f);
            continue;
        }
        const RowStats st = row_stats(x, d.V);
        const float inv = float(1.0 / st.sum), xt = x[Tg[n]];  // x_t read before dx (maybe x) is written
        const float mx = st.max;
#pragma omp simd
        for (int64_t v = 0; v < d.V; ++v) dx[v] = scale * (exp_f32(x[v] - mx) * inv);
        dx[Tg[n]] = scale * (exp_f32(xt - mx) * inv - 1.0f);
    }
}

}  // namespace hgrn
