// short_conv_cpu.cpp — fp32 causal depthwise conv with a cache on the CPU (math in short_conv_ref.cpp):
//     y[b, t, :] = Σ_j w[:, j] ⊙ x_{t−(W−1)+j}[:]        (rows of C channels, vectorised over c)
// The W − 1 inputs before the first token are gathered from cache_in (B, C, W) into a history (B, W−1, C)
// and the weights are transposed to (W, C), so every inner loop runs over contiguous channels.
// Forward and dx split (b, t) rows over OpenMP threads; dw's sum over (b, t) is split by channel blocks, each
// walking all rows in order in double, so it does not depend on the thread count. cache_out is computed
// into a temporary before it is written (it may alias cache_in).
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/short_conv/short_conv_backends.h"

namespace hgrn {
namespace {

// Below this many element operations a parallel region costs more than it saves (decode steps, tests).
constexpr int64_t kParallelMin = int64_t(1) << 15;
constexpr int64_t kChannelBlock = 64;  // channels per task of the dw reduction

// Views of the extended input: row(b, s) is x_s of sequence b (C floats), s ∈ [−(W−1), T).
struct ConvRows {
    const float* x = nullptr;
    std::vector<float> hist;  // (B, W−1, C): x_s for s < 0, from cache_in or zeros
    ShortConvDims d;
    const float* row(int64_t b, int64_t s) const {
        return s >= 0 ? x + (b * d.T + s) * d.C : hist.data() + (b * (d.W - 1) + (d.W - 1 + s)) * d.C;
    }
};

ConvRows conv_rows(const Tensor& x, const Tensor& cache_in, const ShortConvDims& d) {
    ConvRows r;
    r.x = x.ptr<float>();
    r.d = d;
    r.hist.assign(size_t(d.B * (d.W - 1) * d.C), 0.0f);
    if (cache_in.empty()) return r;
    const float* Cin = cache_in.ptr<float>();
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t h = 0; h < d.W - 1; ++h)  // history row h is x_{h−(W−1)} = cache slot h + 1
            for (int64_t c = 0; c < d.C; ++c)
                r.hist[size_t((b * (d.W - 1) + h) * d.C + c)] = Cin[(b * d.C + c) * d.W + h + 1];
    return r;
}

std::vector<float> transpose_weights(const Tensor& w, const ShortConvDims& d) {  // (C, W) → (W, C)
    const float* Wt = w.ptr<float>();
    std::vector<float> wt(size_t(d.W * d.C));
    for (int64_t c = 0; c < d.C; ++c)
        for (int64_t j = 0; j < d.W; ++j) wt[size_t(j * d.C + c)] = Wt[c * d.W + j];
    return wt;
}

// cache_out[b, c, i] = x_{T−W+i}[c] (slot 0 may be the oldest cache slot, which the history does not hold).
void write_cache_out(const ConvRows& r, const Tensor& cache_in, const Tensor& cache_out, const ShortConvDims& d) {
    const float* Cin = cache_in.empty() ? nullptr : cache_in.ptr<float>();
    std::vector<float> next(size_t(d.B * d.C * d.W));
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t i = 0; i < d.W; ++i) {
            const int64_t s = d.T - d.W + i;
            for (int64_t c = 0; c < d.C; ++c) {
                float v;
                if (s >= -(d.W - 1))
                    v = r.row(b, s)[c];
                else
                    v = Cin ? Cin[(b * d.C + c) * d.W + d.W + s] : 0.0f;  // s = −W
                next[size_t((b * d.C + c) * d.W + i)] = v;
            }
        }
    std::memcpy(cache_out.ptr<float>(), next.data(), next.size() * sizeof(float));
}

}  // namespace

void short_conv_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& y,
                            const Tensor& cache_out, const ShortConvDims& d) {
    const ConvRows r = conv_rows(x, cache_in, d);
    const std::vector<float> wt = transpose_weights(w, d);
    float* Y = y.ptr<float>();
#pragma omp parallel for schedule(static) if (d.B * d.T * d.C * d.W >= kParallelMin)
    for (int64_t bt = 0; bt < d.B * d.T; ++bt) {
        const int64_t b = bt / d.T, t = bt % d.T;
        float* yr = Y + bt * d.C;
        std::fill(yr, yr + d.C, 0.0f);
        for (int64_t j = 0; j < d.W; ++j) {
            const float* xr = r.row(b, t - (d.W - 1) + j);
            const float* wr = wt.data() + j * d.C;
#pragma omp simd
            for (int64_t c = 0; c < d.C; ++c) yr[c] += wr[c] * xr[c];
        }
    }
    if (!cache_out.empty()) write_cache_out(r, cache_in, cache_out, d);
}

namespace {

// out[c] = Σ_j wt[j, c] · dy[b, s+(W−1)−j, c] over the j whose token t = s+(W−1)−j lies in [0, T).
void conv_grad_row(const float* DY, const float* wt, const ShortConvDims& d, int64_t b, int64_t s, float* out) {
    std::fill(out, out + d.C, 0.0f);
    for (int64_t j = 0; j < d.W; ++j) {
        const int64_t t = s + (d.W - 1) - j;
        if (t < 0 || t >= d.T) continue;
        const float* g = DY + (b * d.T + t) * d.C;
        const float* wr = wt + j * d.C;
#pragma omp simd
        for (int64_t c = 0; c < d.C; ++c) out[c] += wr[c] * g[c];
    }
}

// dw[c, j] += Σ_{b, t} dy[b, t, c] · x_{t−(W−1)+j}[c]
void conv_dw(const ConvRows& r, const float* DY, float* DW, const ShortConvDims& d) {
    const int64_t blocks = (d.C + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (d.B * d.T * d.C * d.W >= kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t c0 = blk * kChannelBlock, len = std::min(kChannelBlock, d.C - c0);
        std::vector<double> acc(size_t(d.W * kChannelBlock), 0.0);  // (W, block)
        for (int64_t b = 0; b < d.B; ++b)
            for (int64_t t = 0; t < d.T; ++t) {
                const float* g = DY + (b * d.T + t) * d.C + c0;
                for (int64_t j = 0; j < d.W; ++j) {
                    const float* xr = r.row(b, t - (d.W - 1) + j) + c0;
                    double* a = acc.data() + j * kChannelBlock;
#pragma omp simd
                    for (int64_t c = 0; c < len; ++c) a[c] += double(g[c] * xr[c]);
                }
            }
        for (int64_t c = 0; c < len; ++c)
            for (int64_t j = 0; j < d.W; ++j) DW[(c0 + c) * d.W + j] += float(acc[size_t(j * kChannelBlock + c)]);
    }
}

}  // namespace

void short_conv_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& cache_in, const Tensor& dy,
                             const Tensor& dx, const Tensor& dw, const Tensor& dcache_in, const ShortConvDims& d) {
    const std::vector<float> wt = transpose_weights(w, d);
    const float* DY = dy.ptr<float>();
    if (!dw.empty()) conv_dw(conv_rows(x, cache_in, d), DY, dw.ptr<float>(), d);
    if (!dx.empty()) {
        float* DX = dx.ptr<float>();
#pragma omp parallel for schedule(static) if (d.B * d.T * d.C * d.W >= kParallelMin)
        for (int64_t bs = 0; bs < d.B * d.T; ++bs) conv_grad_row(DY, wt.data(), d, bs / d.T, bs % d.T, DX + bs * d.C);
    }
    if (dcache_in.empty()) return;
    float* DC = dcache_in.ptr<float>();
    std::vector<float> row(size_t(d.C));
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t i = 0; i < d.W; ++i) {  // cache slot i holds x_{i−W}; slot 0 never reaches y
            conv_grad_row(DY, wt.data(), d, b, i - d.W, row.data());
            for (int64_t c = 0; c < d.C; ++c) DC[(b * d.C + c) * d.W + i] = row[size_t(c)];
        }
}

}  // namespace hgrn
