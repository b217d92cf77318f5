// gate_ref.cpp — float64 reference of the forget gate and the per-layer lower bounds (SPEC.md §1.3-1.4).
// forget gate, per element of f (N, F) with channel c (γ = gamma[c], or no γ):
//     logσ(x) = −softplus(−x),  softplus(z) = max(z, 0) + log1p(e^(−|z|))
//     g = logσ(f̂)  or  g = logaddexp(log γ, b),  b = log1p(−γ) + logσ(f̂)   (= log(γ + (1 − γ)·σ(f̂)))
//     k = 1 − e^g
// g is clamped to ≤ 0: the true g is < 0, but where f ≈ 1 the rounding of logaddexp can land a hair above 0
// (≈ 1e-17 here, 1e-9 in fp32), which would make k negative and break the kernels' g ≤ 0 rule (SPEC.md §5.1).
//     u = dg − e^g·dk,  ∂g/∂f̂ = (1 − γ)·σ(f̂)·(1 − σ(f̂)) / e^g = e^(b − g)·σ(−f̂)   (= σ(−f̂) without γ)
//     ∂g/∂γ = (1 − σ(f̂)) / e^g = e^(logσ(−f̂) − g);   df̂ = u·∂g/∂f̂,  dγ += Σ_N u·∂g/∂γ
// lower bounds, lb (L, D), per channel: P = softmax_L(lb), C = cumsum_L(P), Γ = C − P[0];
//     ∂Γ_l/∂P_j = [j ≤ l] − [j = 0],  dP_j = Σ_l dΓ_l·∂Γ_l/∂P_j,  dlb_j += P_j·(dP_j − Σ_i P_i·dP_i)
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/gate/gate_backends.h"

namespace hgrn {
namespace {

double softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }
double log_sigmoid(double x) { return -softplus(-x); }
double logaddexp(double a, double b) {
    const double m = std::max(a, b);
    if (m == -std::numeric_limits<double>::infinity()) return m;
    return m + std::log1p(std::exp(-std::abs(a - b)));
}

struct GateValue {
    double g;        // log forget gate
    double dg_df;    // ∂g/∂f̂
    double dg_dgam;  // ∂g/∂γ (0 without γ)
};

GateValue gate_value(double x, const double* gamma) {
    const double ls = log_sigmoid(x), ls_neg = log_sigmoid(-x);
    if (!gamma) return {ls, std::exp(ls_neg), 0.0};
    const double gm = *gamma;
    const double b = std::log1p(-gm) + ls;
    const double g = std::min(logaddexp(std::log(gm), b), 0.0);
    return {g, std::exp(b - g) * std::exp(ls_neg), std::exp(ls_neg - g)};
}

}  // namespace

void forget_gate_forward_ref(const Tensor& f, const Tensor& gamma, const Tensor& g, const Tensor& k,
                             const GateDims& d) {
    const double* Fh = f.ptr<double>();
    const double* Gm = gamma.empty() ? nullptr : gamma.ptr<double>();
    double* G = g.ptr<double>();
    double* Kp = k.empty() ? nullptr : k.ptr<double>();
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t c = 0; c < d.F; ++c) {
            const int64_t i = n * d.F + c;
            const double gi = gate_value(Fh[i], Gm ? Gm + c : nullptr).g;
            G[i] = gi;
            if (Kp) Kp[i] = 1.0 - std::exp(gi);
        }
}

void forget_gate_backward_ref(const Tensor& f, const Tensor& gamma, const Tensor& dg, const Tensor& dk,
                              const Tensor& df, const Tensor& dgamma, const GateDims& d) {
    const double* Fh = f.ptr<double>();
    const double* Gm = gamma.empty() ? nullptr : gamma.ptr<double>();
    const double* DG = dg.empty() ? nullptr : dg.ptr<double>();
    const double* DK = dk.empty() ? nullptr : dk.ptr<double>();
    double* DF = df.ptr<double>();
    std::vector<double> dgam(size_t(d.F), 0.0);
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t c = 0; c < d.F; ++c) {
            const int64_t i = n * d.F + c;
            const GateValue v = gate_value(Fh[i], Gm ? Gm + c : nullptr);
            const double u = (DG ? DG[i] : 0.0) - (DK ? std::exp(v.g) * DK[i] : 0.0);
            DF[i] = u * v.dg_df;
            dgam[size_t(c)] += u * v.dg_dgam;
        }
    if (!dgamma.empty())
        for (int64_t c = 0; c < d.F; ++c) dgamma.ptr<double>()[c] += dgam[size_t(c)];
}

void lower_bounds_forward_ref(const Tensor& lb, const Tensor& gamma, const LowerBoundDims& d) {
    const double* X = lb.ptr<double>();
    double* Gm = gamma.ptr<double>();
    std::vector<double> P(size_t(d.L));
    for (int64_t c = 0; c < d.D; ++c) {
        double m = -std::numeric_limits<double>::infinity(), s = 0;
        for (int64_t l = 0; l < d.L; ++l) m = std::max(m, X[l * d.D + c]);
        for (int64_t l = 0; l < d.L; ++l) s += std::exp(X[l * d.D + c] - m);
        for (int64_t l = 0; l < d.L; ++l) P[size_t(l)] = std::exp(X[l * d.D + c] - m) / s;
        double C = 0;
        for (int64_t l = 0; l < d.L; ++l) {
            C += P[size_t(l)];
            Gm[l * d.D + c] = C - P[0];
        }
    }
}

void lower_bounds_backward_ref(const Tensor& lb, const Tensor& dgamma, const Tensor& dlb, const LowerBoundDims& d) {
    const double* X = lb.ptr<double>();
    const double* DG = dgamma.ptr<double>();
    double* DL = dlb.ptr<double>();
    std::vector<double> P(size_t(d.L)), dP(size_t(d.L));
    for (int64_t c = 0; c < d.D; ++c) {
        double m = -std::numeric_limits<double>::infinity(), s = 0;
        for (int64_t l = 0; l < d.L; ++l) m = std::max(m, X[l * d.D + c]);
        for (int64_t l = 0; l < d.L; ++l) s += std::exp(X[l * d.D + c] - m);
        for (int64_t l = 0; l < d.L; ++l) P[size_t(l)] = std::exp(X[l * d.D + c] - m) / s;
        double pdp = 0;  // Σ_i P_i·dP_i
        for (int64_t j = 0; j < d.L; ++j) {
            double acc = 0;
            for (int64_t l = 0; l < d.L; ++l) acc += DG[l * d.D + c] * (double(j <= l) - double(j == 0));
            dP[size_t(j)] = acc;
            pdp += P[size_t(j)] * acc;
        }
        for (int64_t j = 0; j < d.L; ++j) DL[j * d.D + c] += P[size_t(j)] * (dP[size_t(j)] - pdp);
    }
}

}  // namespace hgrn
