// gate_cpu.cpp — fp32 forget gate and lower bounds on the CPU (math in gate.h and gate_ref.cpp), all in fp32
// as fla's fp32 γ path. Forward, per element, with e = e^(−|f̂|) and s = log1p(e):
//     logσ(f̂) = −(max(−f̂, 0) + s)                                      (no overflow for any f̂)
//     with γ: g = logaddexp(log γ, log1p(−γ) + logσ(f̂)), log γ = −inf for γ = 0 gives g = logσ(f̂) exactly;
//     g clamped to ≤ 0 (rounding where f ≈ 1, see gate_ref.cpp);  k = 1 − e^g as a subtraction (SPEC.md §5.4)
// Backward needs no logarithm: with σ± = σ(±f̂) from e alone and f = γ + (1 − γ)·σ+ (= e^g, f ≥ γ > 0):
//     u = dg − f·dk,  df̂ = u·r·σ−  with r = (1 − γ)·σ+/f, taken as 1 for γ = 0 (σ+/σ+, which would be 0/0
//     where σ+ underflows),  dγ += u·σ−/f (at γ = 0 this is e^(−f̂), inf in fp32 below f̂ ≈ −88: the true value)
// Forward splits rows over OpenMP threads. Backward splits channel blocks: each task walks all rows of its
// channels in order, so dγ's sum over rows (kept in double) does not depend on the thread count.
// Lower bounds: one channel per task, softmax / cumsum over L in fp32.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/gate/gate_backends.h"

namespace hgrn {
namespace {

// Below this many element operations a parallel region costs more than it saves (decode steps, tests).
constexpr int64_t kParallelMin = int64_t(1) << 15;
constexpr int64_t kChannelBlock = 32;  // channels per task of the backward

struct GateConsts {  // per channel: log γ and log1p(−γ); empty without γ
    std::vector<float> log_g, log1m_g;
};

GateConsts gate_consts(const Tensor& gamma, int64_t F) {
    GateConsts k;
    if (gamma.empty()) return k;
    const float* G = gamma.ptr<float>();
    k.log_g.resize(size_t(F));
    k.log1m_g.resize(size_t(F));
    for (int64_t c = 0; c < F; ++c) {
        k.log_g[size_t(c)] = std::log(G[c]);  // −inf for γ = 0
        k.log1m_g[size_t(c)] = std::log1p(-G[c]);
    }
    return k;
}

// g at f̂ = x; lg, l1g = log γ, log1p(−γ) of the channel, or has_gamma = false.
inline float gate_g_f32(float x, bool has_gamma, float lg, float l1g) {
    const float ls = -(std::max(-x, 0.0f) + std::log1p(std::exp(-std::fabs(x))));
    if (!has_gamma) return ls;
    const float b = l1g + ls, m = std::max(lg, b);
    return std::min(m + std::log1p(std::exp(-std::fabs(lg - b))), 0.0f);
}

struct GateGrad {
    float f;        // e^g = γ + (1 − γ)·σ(f̂)
    float dg_df;    // ∂g/∂f̂
    float dg_dgam;  // ∂g/∂γ
};

inline GateGrad gate_grad_f32(float x, bool has_gamma, float gm) {
    const float e = std::exp(-std::fabs(x)), inv = 1.0f / (1.0f + e);
    const float sp = x >= 0.0f ? inv : e * inv, sn = x >= 0.0f ? e * inv : inv;  // σ(f̂), σ(−f̂)
    if (!has_gamma) return {sp, sn, 0.0f};
    const float f = gm + (1.0f - gm) * sp;
    const float r = gm > 0.0f ? (1.0f - gm) * sp / f : 1.0f;
    return {f, r * sn, sn / f};
}

}  // namespace

void forget_gate_forward_cpu(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k,
                             const GateDims& d) {
    const GateConsts kc = gate_consts(gamma, d.F);
    const bool has_gamma = !gamma.empty();
    const float* Fh = f.ptr<float>();
    float* G = g.ptr<float>();
    float* Kp = k.empty() ? nullptr : k.ptr<float>();
#pragma omp parallel for schedule(static) if (d.N * d.F >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t c = 0; c < d.F; ++c) {
            const int64_t i = n * d.F + c;
            const float gi = has_gamma ? gate_g_f32(Fh[i], true, kc.log_g[size_t(c)], kc.log1m_g[size_t(c)])
                                       : gate_g_f32(Fh[i], false, 0.0f, 0.0f);
            G[i] = gi;
            if (Kp) Kp[i] = 1.0f - std::exp(gi);
        }
}

void forget_gate_backward_cpu(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk,
                              const Tensor& df, const Tensor& dgamma, const GateDims& d) {
    const bool has_gamma = !gamma.empty();
    const float* Gm = has_gamma ? gamma.ptr<float>() : nullptr;
    const float* Fh = f.ptr<float>();
    const float* DG = dg.empty() ? nullptr : dg.ptr<float>();
    const float* DK = dk.empty() ? nullptr : dk.ptr<float>();
    float* DF = df.ptr<float>();
    float* DGam = dgamma.empty() ? nullptr : dgamma.ptr<float>();
    const int64_t blocks = (d.F + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (d.N * d.F >= kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t c0 = blk * kChannelBlock, c1 = std::min(d.F, c0 + kChannelBlock);
        double acc[kChannelBlock] = {};
        for (int64_t n = 0; n < d.N; ++n)
            for (int64_t c = c0; c < c1; ++c) {
                const int64_t i = n * d.F + c;
                const GateGrad v = gate_grad_f32(Fh[i], has_gamma, has_gamma ? Gm[c] : 0.0f);
                const float u = (DG ? DG[i] : 0.0f) - (DK ? v.f * DK[i] : 0.0f);
                DF[i] = u * v.dg_df;
                acc[c - c0] += double(u * v.dg_dgam);
            }
        if (DGam)
            for (int64_t c = c0; c < c1; ++c) DGam[c] += float(acc[c - c0]);
    }
}

void lower_bounds_forward_cpu(const Tensor& lb, const Tensor& gamma, const LowerBoundDims& d) {
    const float* X = lb.ptr<float>();
    float* Gm = gamma.ptr<float>();
#pragma omp parallel for schedule(static) if (d.L * d.D >= kParallelMin)
    for (int64_t c = 0; c < d.D; ++c) {
        float m = -std::numeric_limits<float>::infinity(), s = 0;
        for (int64_t l = 0; l < d.L; ++l) m = std::max(m, X[l * d.D + c]);
        for (int64_t l = 0; l < d.L; ++l) s += std::exp(X[l * d.D + c] - m);
        const float inv = 1.0f / s, p0 = std::exp(X[c] - m) * inv;
        float C = 0;  // cumsum of P over layers
        for (int64_t l = 0; l < d.L; ++l) {
            C += std::exp(X[l * d.D + c] - m) * inv;
            Gm[l * d.D + c] = C - p0;
        }
    }
}

void lower_bounds_backward_cpu(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb, const LowerBoundDims& d) {
    const float* X = lb.ptr<float>();
    const float* DG = dgamma.ptr<float>();
    float* DL = dlb.ptr<float>();
#pragma omp parallel for schedule(static) if (d.L * d.D >= kParallelMin)
    for (int64_t c = 0; c < d.D; ++c) {
        float m = -std::numeric_limits<float>::infinity(), s = 0;
        for (int64_t l = 0; l < d.L; ++l) m = std::max(m, X[l * d.D + c]);
        for (int64_t l = 0; l < d.L; ++l) s += std::exp(X[l * d.D + c] - m);
        const float inv = 1.0f / s;
        // dP_j = Σ_{l ≥ j} dΓ_l for j ≥ 1 (suffix sums), dP_0 = 0; then the softmax backward.
        float pdp = 0, suffix = 0;
        for (int64_t j = d.L - 1; j >= 1; --j) {
            suffix += DG[j * d.D + c];
            pdp += std::exp(X[j * d.D + c] - m) * inv * suffix;
        }
        suffix = 0;
        for (int64_t j = d.L - 1; j >= 0; --j) {
            if (j >= 1) suffix += DG[j * d.D + c];
            const float p = std::exp(X[j * d.D + c] - m) * inv, dp = j >= 1 ? suffix : 0.0f;
            DL[j * d.D + c] += p * (dp - pdp);
        }
    }
}

}  // namespace hgrn
