// gate_test.cpp — the forget gate g = log(γ + (1−γ)σ(f̂)), k = 1 − e^g, and the per-layer lower bounds
// Γ = cumsum(softmax_L(lb)) − P[0]: direct float64 formulas (γ ∈ {0, 1/24, 23/24}), finite differences of
// every reference gradient (f̂, γ, lb), fp32 against the reference with gates from weak to strong, extreme
// logits (±100, ±1000) without NaN, Γ_l = l/L at zero init (SPEC.md §1.4), accumulation, argument errors.
#include "ops/gate/gate.h"

#include <cmath>

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240504;

Buffer channels(const std::vector<double>& v, DType dt = DType::f64) {
    Buffer b(dt, {int64_t(v.size())});
    convert(v.data(), DType::f64, b.view().data(), dt, v.size());
    return b;
}

// f = γ + (1 − γ)·σ(f̂) computed directly (valid for moderate f̂).
double direct_f(double fh, double gm) { return gm + (1 - gm) / (1 + std::exp(-fh)); }

void check_direct_formulas(DType dt, double tol) {
    for (const double gm : {-1.0, 0.0, 1.0 / 24, 23.0 / 24}) {  // −1: γ absent
        const uint64_t seed = kSeed + uint64_t(gm * 24 + 1);
        SCOPED_TRACE("seed " + std::to_string(seed) + " gamma " + std::to_string(gm) + " " +
                     std::string(dtype_name(dt)));
        Rng rng(seed);
        const int64_t N = 50, F = 9;
        Buffer f = randn({N, F}, rng, 4.0, dt), g(dt, {N, F}), k(dt, {N, F});
        Buffer gamma = channels(std::vector<double>(size_t(F), std::max(gm, 0.0)), dt);
        forget_gate_forward(f, gm < 0 ? Tensor() : gamma.view(), g, k);
        const std::vector<double> fv = values(f);
        std::vector<double> want_g(fv.size()), want_k(fv.size());
        for (size_t i = 0; i < fv.size(); ++i) {
            const double fr = direct_f(fv[i], std::max(gm, 0.0));
            want_g[i] = std::log(fr);
            want_k[i] = 1 - fr;
        }
        HGRN_EXPECT_CLOSE("g = log f", values(g), want_g, tol);
        HGRN_EXPECT_CLOSE("k = 1 - f", values(k), want_k, tol);
    }
}

TEST(ForgetGate, MatchesDirectFormulas) {
    check_direct_formulas(DType::f64, kTolF64Algo);
    check_direct_formulas(DType::f32, kTolF32);
}

// L = <g, Rg> + <k, Rk>; dg / dk absent in turn.
void check_fd(bool with_gamma, bool with_dg, bool with_dk) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + (with_gamma ? " gamma" : "") + (with_dg ? " dg" : "") +
                 (with_dk ? " dk" : ""));
    Rng rng(kSeed);
    const int64_t N = 5, F = 6;
    Buffer f = randn({2, 3, F}, rng, 3.0), Rg = randn({2, 3, F}, rng), Rk = randn({2, 3, F}, rng);
    (void)N;
    Buffer gamma = channels({1.0 / 24, 23.0 / 24, 0.3, 0.5, 0.9, 0.05});
    Buffer g(DType::f64, f.shape()), k(DType::f64, f.shape()), df(DType::f64, f.shape()), dgam(DType::f64, {F});
    const Tensor gt = with_gamma ? gamma.view() : Tensor();
    const auto loss = [&] {
        forget_gate_forward(f, gt, g, k);
        return (with_dg ? dot(g, Rg) : 0.0) + (with_dk ? dot(k, Rk) : 0.0);
    };
    forget_gate_backward(f, gt, with_dg ? Rg.view() : Tensor(), with_dk ? Rk.view() : Tensor(), df,
                         with_gamma ? dgam.view() : Tensor());
    expect_grad_matches_fd("df", df, f, loss);
    if (with_gamma) expect_grad_matches_fd("dgamma", dgam, gamma, loss);
}

TEST(ForgetGate, RefBackwardMatchesFiniteDifferences) {
    for (const bool with_gamma : {true, false}) {
        check_fd(with_gamma, true, true);
        check_fd(with_gamma, true, false);
        check_fd(with_gamma, false, true);
    }
}

TEST(ForgetGate, RefBackwardAtGammaZeroIsTheLogSigmoidGradient) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    Buffer f = randn({4, 5}, rng, 2.0), Rg = randn({4, 5}, rng), Rk = randn({4, 5}, rng);
    Buffer zeros(DType::f64, {5}), g(DType::f64, {4, 5}), k(DType::f64, {4, 5});
    Buffer df0(DType::f64, {4, 5}), df(DType::f64, {4, 5}), dgam(DType::f64, {5});
    forget_gate_backward(f, zeros, Rg, Rk, df0, dgam);
    forget_gate_backward(f, Tensor(), Rg, Rk, df, Tensor());
    HGRN_EXPECT_CLOSE("df with gamma = 0", df0.view(), df.view(), kTolF64Algo);
    const auto loss = [&] {  // γ fixed at 0: the finite differences perturb f̂ only
        forget_gate_forward(f, zeros, g, k);
        return dot(g, Rg) + dot(k, Rk);
    };
    expect_grad_matches_fd("df at gamma = 0", df0, f, loss);
}

struct GammaCase {
    const char* name;
    std::vector<double> value;  // empty: γ absent
};

TEST(ForgetGate, F32MatchesReference) {
    const int64_t N = 500, F = 70;  // F: two full channel blocks and a ragged one; N·F above the parallel threshold
    Rng grng(kSeed);
    std::vector<double> random_gamma(static_cast<size_t>(F));
    for (double& v : random_gamma) v = grng.uniform(0.0, 0.99);
    const std::vector<GammaCase> cases = {{"absent", {}},
                                          {"0", std::vector<double>(size_t(F), 0.0)},
                                          {"1/24", std::vector<double>(size_t(F), 1.0 / 24)},
                                          {"23/24", std::vector<double>(size_t(F), 23.0 / 24)},
                                          {"random", random_gamma}};
    for (const GammaCase& gc : cases)
        for (const double strength : {0.1, 1.0, 10.0}) {
            const uint64_t seed = kSeed + uint64_t(strength * 10);
            SCOPED_TRACE("seed " + std::to_string(seed) + " gamma " + gc.name + " strength " +
                         std::to_string(strength));
            Rng rng(seed);
            Buffer f = randn({N, F}, rng, strength), dg = randn({N, F}, rng), dk = randn({N, F}, rng);
            Buffer dgam = randn({F}, rng), gamma = channels(gc.value.empty() ? std::vector<double>{0} : gc.value);
            const bool has = !gc.value.empty();
            Buffer f32 = as(f, DType::f32), dg32 = as(dg, DType::f32), dk32 = as(dk, DType::f32);
            Buffer dgam32 = as(dgam, DType::f32), gamma32 = as(gamma, DType::f32);
            Buffer g(DType::f64, {N, F}), k(DType::f64, {N, F}), df(DType::f64, {N, F});
            Buffer g32 = nan_buffer(DType::f32, {N, F}), k32 = nan_buffer(DType::f32, {N, F});
            Buffer df32 = nan_buffer(DType::f32, {N, F});
            forget_gate_forward(f, has ? gamma.view() : Tensor(), g, k);
            forget_gate_forward(f32, has ? gamma32.view() : Tensor(), g32, k32);
            forget_gate_backward(f, has ? gamma.view() : Tensor(), dg, dk, df, has ? dgam.view() : Tensor());
            forget_gate_backward(f32, has ? gamma32.view() : Tensor(), dg32, dk32, df32,
                                 has ? dgam32.view() : Tensor());
            HGRN_EXPECT_CLOSE("g", g32.view(), g.view(), kTolF32);
            HGRN_EXPECT_CLOSE("k", k32.view(), k.view(), kTolF32);
            HGRN_EXPECT_CLOSE("df", df32.view(), df.view(), kTolF32);
            if (has) HGRN_EXPECT_CLOSE("dgamma", dgam32.view(), dgam.view(), kTolF32);
        }
}

void check_extremes(DType dt) {
    SCOPED_TRACE(std::string(dtype_name(dt)));
    const std::vector<double> fh = {-1000, -100, 100, 1000};
    for (const double gm : {-1.0, 0.0, 1.0 / 24, 23.0 / 24}) {
        SCOPED_TRACE("gamma " + std::to_string(gm));
        Buffer f(dt, {4}), g(dt, {4}), k(dt, {4}), ones(dt, {4}), df(dt, {4}), dgam(dt, {4});
        convert(fh.data(), DType::f64, f.view().data(), dt, 4);
        fill(ones, 1.0);
        Buffer gamma = channels(std::vector<double>(4, std::max(gm, 0.0)), dt);
        const Tensor gt = gm < 0 ? Tensor() : gamma.view();
        forget_gate_forward(f, gt, g, k);
        forget_gate_backward(f, gt, ones, ones, df, gm > 0 ? dgam.view() : Tensor());
        const std::vector<double> gv = values(g), kv = values(k), dv = values(df), dgv = values(dgam);
        for (size_t i = 0; i < 4; ++i) {
            EXPECT_TRUE(std::isfinite(gv[i]) && std::isfinite(kv[i]) && std::isfinite(dv[i]) && std::isfinite(dgv[i]))
                << "f = " << fh[i] << ": g " << gv[i] << " k " << kv[i] << " df " << dv[i] << " dgamma " << dgv[i];
            EXPECT_LE(gv[i], 0.0) << "f = " << fh[i];  // never above 0, even by rounding
            EXPECT_GE(kv[i], 0.0) << "f = " << fh[i];
            if (fh[i] > 0) {
                EXPECT_NEAR(gv[i], 0.0, 1e-6);
                EXPECT_NEAR(kv[i], 0.0, 1e-6);
            } else if (gm > 0) {  // f → γ
                EXPECT_NEAR(gv[i], std::log(gm), 1e-6);
            } else {  // g = logσ(f̂) ≈ f̂
                EXPECT_NEAR(gv[i], fh[i], 1e-6 * std::abs(fh[i]));
            }
        }
    }
}

TEST(ForgetGate, ExtremeLogitsStayFinite) {
    check_extremes(DType::f64);
    check_extremes(DType::f32);
}

void check_gate_accumulate(DType dt) {
    SCOPED_TRACE(std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    Buffer f = randn({7, 3}, rng, 2.0, dt), dg = randn({7, 3}, rng, 1, dt), df = nan_buffer(dt, {7, 3});
    Buffer gamma = channels({0.1, 0.5, 0.9}, dt), dgam(dt, {3});
    forget_gate_backward(f, gamma, dg, Tensor(), df, dgam);
    const std::vector<double> once = values(dgam), df1 = values(df);
    forget_gate_backward(f, gamma, dg, Tensor(), df, dgam);
    std::vector<double> twice = once;
    for (double& v : twice) v *= 2;
    HGRN_EXPECT_CLOSE("dgamma twice", values(dgam), twice, 1e-6);
    EXPECT_EQ(values(df), df1);  // overwritten, not accumulated
}

TEST(ForgetGate, DgammaAccumulatesDfOverwrites) {
    check_gate_accumulate(DType::f64);
    check_gate_accumulate(DType::f32);
}

TEST(ForgetGate, BadArgumentsNameTheArgument) {
    Buffer f(DType::f32, {4, 3}), g(DType::f32, {4, 3}), bad(DType::f32, {4, 2}), g64(DType::f64, {4, 3});
    Buffer gamma = channels({0.1, 0.2, 0.3}, DType::f32), gamma_bad = channels({0.1, 0.2}, DType::f32);
    expect_error([&] { forget_gate_forward(f, gamma_bad, g, Tensor()); }, {"forget_gate", "gamma", "(3)"});
    expect_error([&] { forget_gate_forward(f, gamma, bad, Tensor()); }, {"forget_gate", "g", "(4, 2)"});
    expect_error([&] { forget_gate_forward(f, gamma, g, bad); }, {"forget_gate", "k"});
    expect_error([&] { forget_gate_forward(f, gamma, g64, Tensor()); }, {"forget_gate", "g", "f64"});
    expect_error([&] { forget_gate_forward(f, gamma, Tensor(), Tensor()); }, {"forget_gate", "g", "absent"});
    for (const double v : {-0.1, 1.5, std::nan("")}) {
        Buffer gv = channels({0.1, v, 0.3}, DType::f32);
        expect_error([&] { forget_gate_forward(f, gv, g, Tensor()); }, {"forget_gate", "gamma[1]", "[0, 1]"});
    }
    Buffer dgam(DType::f32, {3});
    expect_error([&] { forget_gate_backward(f, Tensor(), g, Tensor(), g, dgam); }, {"dgamma", "gamma is absent"});
    expect_error([&] { forget_gate_backward(f, gamma, g, Tensor(), bad, dgam); }, {"forget_gate", "df"});
    expect_error([&] { forget_gate_backward(f, gamma, bad, Tensor(), g, dgam); }, {"forget_gate", "dg"});
    expect_error([&] { forget_gate_backward(f, gamma, g, Tensor(), g, gamma_bad); }, {"forget_gate", "dgamma"});
}

// ---- lower bounds ----

TEST(LowerBounds, ZeroInitGivesLOverL) {
    for (const DType dt : {DType::f64, DType::f32}) {
        SCOPED_TRACE(std::string(dtype_name(dt)));
        const int64_t L = 24, D = 5;
        Buffer lb(dt, {L, D}), gamma = nan_buffer(dt, {L, D});
        lower_bounds_forward(lb, gamma);
        const std::vector<double> gv = values(gamma);
        for (int64_t l = 0; l < L; ++l)
            for (int64_t c = 0; c < D; ++c)
                EXPECT_NEAR(gv[size_t(l * D + c)], double(l) / double(L), dt == DType::f64 ? 1e-15 : 1e-6)
                    << "l " << l << " c " << c;
        EXPECT_EQ(gv[0], 0.0);  // Γ_0 = P_0 − P_0 exactly
    }
}

TEST(LowerBounds, RefBackwardMatchesFiniteDifferences) {
    for (const int64_t L : {1, 2, 6}) {
        SCOPED_TRACE("seed " + std::to_string(kSeed) + " L " + std::to_string(L));
        Rng rng(kSeed + uint64_t(L));
        const int64_t D = 4;
        Buffer lb = randn({L, D}, rng, 1.5), R = randn({L, D}, rng), gamma(DType::f64, {L, D});
        Buffer dlb(DType::f64, {L, D});
        const auto loss = [&] {
            lower_bounds_forward(lb, gamma);
            return dot(gamma, R);
        };
        lower_bounds_backward(lb, R, dlb);
        expect_grad_matches_fd("dlb", dlb, lb, loss);
    }
}

TEST(LowerBounds, F32MatchesReferenceAndAccumulates) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t L = 24, D = 1500;  // L·D above the parallel threshold
    Buffer lb = randn({L, D}, rng, 2.0), dgam = randn({L, D}, rng), gamma(DType::f64, {L, D}), dlb(DType::f64, {L, D});
    Buffer lb32 = as(lb, DType::f32), dgam32 = as(dgam, DType::f32), gamma32 = nan_buffer(DType::f32, {L, D});
    Buffer dlb32(DType::f32, {L, D});
    lower_bounds_forward(lb, gamma);
    lower_bounds_forward(lb32, gamma32);
    lower_bounds_backward(lb, dgam, dlb);
    lower_bounds_backward(lb32, dgam32, dlb32);
    HGRN_EXPECT_CLOSE("gamma", gamma32.view(), gamma.view(), kTolF32);
    HGRN_EXPECT_CLOSE("dlb", dlb32.view(), dlb.view(), kTolF32);
    std::vector<double> twice = values(dlb);
    for (double& v : twice) v *= 2;
    lower_bounds_backward(lb, dgam, dlb);
    HGRN_EXPECT_CLOSE("dlb twice", values(dlb), twice, 1e-12);
    lower_bounds_backward(lb32, dgam32, dlb32);
    HGRN_EXPECT_CLOSE("dlb32 twice", values(dlb32), twice, kTolF32);
    const std::vector<double> gv = values(gamma);  // Γ is non-decreasing over layers, in [0, 1)
    for (int64_t l = 1; l < L; ++l)
        for (int64_t c = 0; c < D; ++c) {
            EXPECT_GE(gv[size_t(l * D + c)], gv[size_t((l - 1) * D + c)]);
            EXPECT_LT(gv[size_t(l * D + c)], 1.0);
        }
}

TEST(LowerBounds, BadArgumentsNameTheArgument) {
    Buffer lb(DType::f32, {4, 3}), gamma(DType::f32, {4, 3}), bad(DType::f32, {3, 4}), flat(DType::f32, {12});
    Buffer g64(DType::f64, {4, 3});
    expect_error([&] { lower_bounds_forward(flat, gamma); }, {"lower_bounds", "lb", "(L, D)"});
    expect_error([&] { lower_bounds_forward(lb, bad); }, {"lower_bounds", "gamma", "(3, 4)"});
    expect_error([&] { lower_bounds_forward(lb, g64); }, {"lower_bounds", "gamma", "f64"});
    expect_error([&] { lower_bounds_backward(lb, gamma, bad); }, {"lower_bounds", "dlb"});
    expect_error([&] { lower_bounds_backward(lb, bad, gamma); }, {"lower_bounds", "dgamma"});
}

}  // namespace
