// gla_ref_test.cpp — the two float64 GLA references (recurrent: gla_ref.cpp, chunkwise: gla_ref_chunk.cpp)
// against each other and against central finite differences.
//   * chunkwise == recurrent (forward o, ht; backward dq, dk, dv, dg, dh0) within kTolF64Algo, awkward T,
//     head dims 16..256 with K != V, with/without h0 and dht, chunk 64 and 16;
//   * gates from weak to very strong (log f near -30 per step, chunk cumsums near -2000): finite and 1e-10;
//   * central finite differences of every input of both backwards, and of the fused HGRN2 form (k absent);
//   * a sequence split in two with the state passed == the whole; row b of a batch == that row alone;
//   * bad arguments throw hgrn::Error naming the argument.
// All f64 tensors on the CPU, so the public API (gla.h) dispatches to the references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "gla/gla.h"

namespace hgrn {
namespace {

using test::ErrorStats;

struct Case {
    int64_t B, T, H, K, V;
    int chunk;
    bool h0, dht;
    double strength = 1.0, offset = 0.0;  // gates: fill_log_gate(strength, offset)
    uint64_t seed = 1;
};

std::string case_name(const Case& c) {
    std::ostringstream os;
    os << "B" << c.B << "_T" << c.T << "_H" << c.H << "_K" << c.K << "_V" << c.V << "_C" << c.chunk
       << (c.h0 ? "_h0" : "") << (c.dht ? "_dht" : "");
    return os.str();
}

// gtest prints parameters with this (instead of a byte dump) when a case fails.
void PrintTo(const Case& c, std::ostream* os) {
    *os << case_name(c) << " gates(" << c.strength << ", " << c.offset << ") seed " << c.seed;
}

Buffer clone(const Tensor& t) {
    Buffer b(t.dtype(), t.shape());
    copy(t, b.view());
    return b;
}

// Inputs and output gradients of one problem, all f64. k is always allocated; fused = true leaves it out of
// the inputs (k = 1 - exp(g) inside the API).
struct Problem {
    GlaDims d;
    int chunk = kGlaChunk;
    bool fused = false;
    Buffer q, k, v, g, h0, dout, dht;  // h0, dht may be empty (absent)

    GlaInputs inputs() const {
        GlaInputs in;
        in.q = q.view();
        in.k = fused ? Tensor() : k.view();
        in.v = v.view();
        in.g = g.view();
        in.h0 = h0.empty() ? Tensor() : h0.view();
        in.chunk = chunk;
        return in;
    }
    GlaGradOutputs gout() const { return {dout.view(), dht.empty() ? Tensor() : dht.view()}; }
};

Problem random_problem(const Case& c) {
    Problem p;
    p.d = {c.B, c.T, c.H, c.K, c.V};
    p.chunk = c.chunk;
    Rng rng(c.seed);
    const Shape qk{c.B, c.T, c.H, c.K}, vs{c.B, c.T, c.H, c.V}, st{c.B, c.H, c.K, c.V};
    p.q = Buffer(DType::f64, qk);
    p.k = Buffer(DType::f64, qk);
    p.v = Buffer(DType::f64, vs);
    p.g = Buffer(DType::f64, qk);
    p.dout = Buffer(DType::f64, vs);
    test::fill_normal(p.q, rng);
    test::fill_normal(p.k, rng);
    test::fill_normal(p.v, rng);
    test::fill_log_gate(p.g, rng, c.strength, c.offset);
    test::fill_normal(p.dout, rng);
    if (c.h0) {
        p.h0 = Buffer(DType::f64, st);
        test::fill_normal(p.h0, rng);
    }
    if (c.dht) {
        p.dht = Buffer(DType::f64, st);
        test::fill_normal(p.dht, rng);
    }
    return p;
}

// Outputs and gradients of one run. dh0 is always computed (the gradient w.r.t. a zero h0 is defined too).
struct Result {
    Buffer o, ht, dq, dk, dv, dg, dh0;
};

enum class Algo { recurrent, chunk };

Result run(const Problem& p, Algo algo, bool backward = true) {
    const GlaDims& d = p.d;
    const Shape qk{d.B, d.T, d.H, d.K}, vs{d.B, d.T, d.H, d.V}, st{d.B, d.H, d.K, d.V};
    Result r{Buffer(DType::f64, vs), Buffer(DType::f64, st), {}, {}, {}, {}, {}};
    const GlaInputs in = p.inputs();
    if (algo == Algo::chunk)
        gla_chunk_forward(in, {r.o, r.ht});
    else
        gla_recurrent_forward(in, {r.o, r.ht});
    if (!backward) return r;
    r.dq = Buffer(DType::f64, qk);
    r.dk = Buffer(DType::f64, qk);
    r.dv = Buffer(DType::f64, vs);
    r.dg = Buffer(DType::f64, qk);
    r.dh0 = Buffer(DType::f64, st);
    const GlaGrads gr{r.dq, p.fused ? Tensor() : r.dk.view(), r.dv, r.dg, r.dh0};
    if (algo == Algo::chunk)
        gla_chunk_backward(in, p.gout(), gr);
    else
        gla_recurrent_backward(in, p.gout(), gr);
    return r;
}

// Compares every output and gradient; returns the worst max-abs-over-max-abs.
double expect_results_close(const Result& got, const Result& ref, double tol, const std::string& what) {
    const std::pair<const char*, std::pair<const Buffer*, const Buffer*>> items[] = {
        {"o", {&got.o, &ref.o}},      {"ht", {&got.ht, &ref.ht}}, {"dq", {&got.dq, &ref.dq}},
        {"dk", {&got.dk, &ref.dk}},   {"dv", {&got.dv, &ref.dv}}, {"dg", {&got.dg, &ref.dg}},
        {"dh0", {&got.dh0, &ref.dh0}}};
    double worst = 0;
    for (const auto& [name, pr] : items) {
        if (pr.second->empty()) continue;
        const ErrorStats st = test::compare(pr.first->view(), pr.second->view());
        EXPECT_EQ(st.nonfinite, 0) << what << " " << name << ": " << st.str();
        EXPECT_LE(st.rel_max, tol) << what << " " << name << ": " << st.str();
        EXPECT_GT(st.max_abs_ref, 0) << what << " " << name << " is all zero: the comparison proves nothing";
        worst = std::max(worst, st.rel_max);
    }
    return worst;
}

// ---- chunkwise == recurrent --------------------------------------------------------------------------------

class GlaChunkVsRecurrent : public ::testing::TestWithParam<Case> {};

TEST_P(GlaChunkVsRecurrent, ForwardAndBackwardAgree) {
    const Case c = GetParam();
    SCOPED_TRACE("seed " + std::to_string(c.seed) + " " + case_name(c));
    const Problem p = random_problem(c);
    const Result rec = run(p, Algo::recurrent), chk = run(p, Algo::chunk);
    expect_results_close(chk, rec, test::kTolF64Algo, case_name(c));
}

// Big K * V only at smaller T, so that the whole file stays fast on one core.
INSTANTIATE_TEST_SUITE_P(
    Shapes, GlaChunkVsRecurrent,
    ::testing::Values(
        Case{2, 1, 2, 16, 16, 64, true, true, 1, 0, 11}, Case{2, 2, 3, 16, 48, 16, false, true, 1, 0, 12},
        Case{2, 63, 2, 48, 16, 64, true, false, 1, 0, 13}, Case{2, 64, 2, 16, 96, 64, false, false, 1, 0, 14},
        Case{2, 65, 3, 96, 48, 16, true, true, 1, 0, 15}, Case{2, 127, 2, 128, 128, 64, true, true, 1, 0, 16},
        Case{2, 127, 2, 48, 256, 16, false, true, 1, 0, 17}, Case{2, 65, 2, 256, 16, 64, true, false, 1, 0, 18},
        Case{2, 64, 2, 256, 256, 16, true, true, 1, 0, 19}, Case{2, 1025, 2, 16, 48, 64, true, true, 1, 0, 20},
        Case{2, 1025, 2, 48, 16, 16, false, false, 1, 0, 21}, Case{2, 1025, 2, 128, 96, 64, true, true, 1, 0, 22},
        Case{2, 100, 2, 8, 12, 1, true, true, 1, 0, 23}),  // chunk of one token
    [](const ::testing::TestParamInfo<Case>& info) { return case_name(info.param); });

// ---- gates from weak to very strong -------------------------------------------------------------------------

struct GateCase {
    double strength, offset;
    const char* name;
};

TEST(GlaRefGates, WeakToVeryStrongAgreeAndStayFinite) {
    const GateCase gates[] = {{0.1, 0, "weak(0.1)"},
                              {1, 0, "medium(1)"},
                              {10, 0, "strong(10)"},
                              {1, -30, "logf~-30(offset -30)"},  // g ~ N(-30, 1): every step forgets ~e^-30
                              {10, -3, "logf~-30(10x, offset -3)"}};
    double worst_all = 0;
    for (const GateCase& gc : gates)
        for (int chunk : {64, 16}) {
            const Case c{2, 200, 2, 48, 32, chunk, true, true, gc.strength, gc.offset, 31};
            SCOPED_TRACE("seed " + std::to_string(c.seed) + " gates " + gc.name + " " + case_name(c));
            const Problem p = random_problem(c);
            const Result rec = run(p, Algo::recurrent), chk = run(p, Algo::chunk);
            const double worst = expect_results_close(chk, rec, test::kTolF64Algo, gc.name);
            std::printf("[ gates    ] %-26s C=%-2d worst rel_max over o, ht, dq, dk, dv, dg, dh0 = %.3g\n", gc.name,
                        chunk, worst);
            worst_all = std::max(worst_all, worst);
        }
    EXPECT_LE(worst_all, test::kTolF64Algo);
}

// The strong case really is strong: chunk cumsums reach about -30 * 64 and nothing overflows.
TEST(GlaRefGates, StrongGateCumsumsAreLarge) {
    const Case c{1, 64, 1, 8, 8, 64, true, true, 1, -30, 32};
    const Problem p = random_problem(c);
    double sum_min = 0;
    for (int64_t i = 0; i < c.K; ++i) {
        double s = 0;
        for (int64_t t = 0; t < c.T; ++t) s += p.g.ptr<double>()[t * c.K + i];
        sum_min = std::min(sum_min, s);
    }
    EXPECT_LT(sum_min, -1800.0);
    const Result chk = run(p, Algo::chunk);
    for (const Buffer* b : {&chk.o, &chk.ht, &chk.dq, &chk.dk, &chk.dv, &chk.dg, &chk.dh0})
        EXPECT_EQ(test::compare(b->view(), b->view()).nonfinite, 0);
}

// ---- central finite differences -----------------------------------------------------------------------------

// L = sum(dout * o) + sum(dht * ht), whose gradients are exactly what the backward computes.
double loss(const Problem& p, Algo algo) {
    const Result r = run(p, algo, /*backward=*/false);
    double L = 0;
    for (int64_t i = 0; i < r.o.numel(); ++i) L += p.dout.ptr<double>()[i] * r.o.ptr<double>()[i];
    if (!p.dht.empty())
        for (int64_t i = 0; i < r.ht.numel(); ++i) L += p.dht.ptr<double>()[i] * r.ht.ptr<double>()[i];
    return L;
}

// Checks `samples` random entries of grad against central differences of the loss through x.
void expect_fd_close(Problem& p, Algo algo, const Buffer& x, const Buffer& grad, const char* name, Rng& rng,
                     int samples = 20) {
    const double h = 1e-5;
    const ErrorStats self = test::compare(grad.view(), grad.view());
    ASSERT_GT(self.max_abs_ref, 0) << name << ": analytic gradient is all zero";
    double worst = 0;
    for (int s = 0; s < samples; ++s) {
        const int64_t i = int64_t(rng.below(uint64_t(x.numel())));
        double* xi = x.ptr<double>() + i;
        const double x0 = *xi;
        *xi = x0 + h;
        const double lp = loss(p, algo);
        *xi = x0 - h;
        const double lm = loss(p, algo);
        *xi = x0;
        const double fd = (lp - lm) / (2 * h), an = grad.ptr<double>()[i];
        const double err = std::abs(fd - an) / self.max_abs_ref;
        EXPECT_LE(err, test::kTolFiniteDiff) << name << "[" << i << "]: analytic " << an << " finite-diff " << fd;
        worst = std::max(worst, err);
    }
    EXPECT_LE(worst, test::kTolFiniteDiff) << name;
}

void check_all_fd(const Case& c, Algo algo, bool fused) {
    SCOPED_TRACE("seed " + std::to_string(c.seed) + (fused ? " fused " : " ") +
                 (algo == Algo::chunk ? "chunk " : "recurrent ") + case_name(c));
    Problem p = random_problem(c);
    p.fused = fused;
    const Result r = run(p, algo);
    Rng rng(c.seed + 1000);
    expect_fd_close(p, algo, p.q, r.dq, "dq", rng);
    if (!fused) expect_fd_close(p, algo, p.k, r.dk, "dk", rng);
    expect_fd_close(p, algo, p.v, r.dv, "dv", rng);
    expect_fd_close(p, algo, p.g, r.dg, "dg", rng);
    if (c.h0) expect_fd_close(p, algo, p.h0, r.dh0, "dh0", rng);
}

// T = 37 with chunk 16: two full chunks and a partial one.
TEST(GlaRefFiniteDiff, RecurrentBackward) {
    check_all_fd({2, 37, 2, 6, 5, 16, true, true, 1, 0, 41}, Algo::recurrent, false);
    check_all_fd({1, 23, 2, 4, 7, 8, true, true, 10, 0, 42}, Algo::recurrent, false);
}

TEST(GlaRefFiniteDiff, ChunkBackward) {
    check_all_fd({2, 37, 2, 6, 5, 16, true, true, 1, 0, 43}, Algo::chunk, false);
    check_all_fd({1, 23, 2, 4, 7, 8, true, true, 10, 0, 44}, Algo::chunk, false);
    check_all_fd({1, 19, 1, 5, 3, 4, false, false, 0.1, 0, 45}, Algo::chunk, false);
}

// Fused HGRN2 form: k absent, k = 1 - exp(g); dg must include -exp(g) * dk. Checked through g by finite
// differences (the forward also uses k = 1 - exp(g), so the perturbation of g moves k too).
TEST(GlaRefFiniteDiff, FusedKeyForm) {
    check_all_fd({2, 37, 2, 6, 5, 16, true, true, 1, 0, 46}, Algo::chunk, true);
    check_all_fd({1, 21, 2, 5, 4, 8, true, true, 1, 0, 47}, Algo::recurrent, true);
}

// The fused form equals the explicit form with k = 1 - exp(g), plus -exp(g) * dk in dg.
TEST(GlaRefFiniteDiff, FusedKeyMatchesExplicitKey) {
    const Case c{2, 70, 2, 8, 6, 16, true, true, 1, 0, 48};
    SCOPED_TRACE("seed " + std::to_string(c.seed));
    Problem p = random_problem(c);
    for (int64_t i = 0; i < p.g.numel(); ++i) p.k.ptr<double>()[i] = 1.0 - std::exp(p.g.ptr<double>()[i]);
    const Result expl = run(p, Algo::chunk);
    p.fused = true;
    const Result fused = run(p, Algo::chunk);
    Buffer dg_expected = clone(expl.dg);
    for (int64_t i = 0; i < p.g.numel(); ++i)
        dg_expected.ptr<double>()[i] -= std::exp(p.g.ptr<double>()[i]) * expl.dk.ptr<double>()[i];
    HGRN_EXPECT_CLOSE("o", fused.o.view(), expl.o.view(), 1e-14);
    HGRN_EXPECT_CLOSE("dq", fused.dq.view(), expl.dq.view(), 1e-14);
    HGRN_EXPECT_CLOSE("dg", fused.dg.view(), dg_expected.view(), 1e-14);
    // And the extra term matters: without it dg would be off by far more than rounding.
    EXPECT_GT(test::compare(fused.dg.view(), expl.dg.view()).rel_max, 1e-3);
}

// ---- invariants ---------------------------------------------------------------------------------------------

// Tokens [t0, t1) of a (B, T, H, X) tensor.
Buffer time_slice(const Buffer& x, int64_t t0, int64_t t1) {
    const int64_t B = x.shape()[0], T = x.shape()[1], HX = x.shape()[2] * x.shape()[3];
    Buffer out(DType::f64, {B, t1 - t0, x.shape()[2], x.shape()[3]});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = t0; t < t1; ++t)
            for (int64_t i = 0; i < HX; ++i)
                out.ptr<double>()[(b * (t1 - t0) + t - t0) * HX + i] = x.ptr<double>()[(b * T + t) * HX + i];
    return out;
}

Problem time_part(const Problem& p, int64_t t0, int64_t t1) {
    Problem r;
    r.d = p.d;
    r.d.T = t1 - t0;
    r.chunk = p.chunk;
    r.q = time_slice(p.q, t0, t1);
    r.k = time_slice(p.k, t0, t1);
    r.v = time_slice(p.v, t0, t1);
    r.g = time_slice(p.g, t0, t1);
    r.dout = time_slice(p.dout, t0, t1);
    return r;
}

// Forward: [0, T1) from h0 gives ht1, then [T1, T) from ht1 equals one pass. Backward: the second part's dh0 is
// the first part's dht, and the gradients of the parts equal those of the whole.
TEST(GlaRefInvariants, SplitSequenceWithStatePassingEqualsWhole) {
    for (Algo algo : {Algo::chunk, Algo::recurrent})
        for (int64_t T1 : {1, 37, 64, 99}) {
            const Case c{2, 100, 2, 12, 10, 16, true, true, 1, 0, 51};
            SCOPED_TRACE("seed " + std::to_string(c.seed) + " T1 " + std::to_string(T1) +
                         (algo == Algo::chunk ? " chunk" : " recurrent"));
            const Problem p = random_problem(c);
            const Result whole = run(p, algo);
            Problem p1 = time_part(p, 0, T1), p2 = time_part(p, T1, c.T);
            p1.h0 = clone(p.h0);
            p2.dht = clone(p.dht);
            const Result r1f = run(p1, algo, false);
            p2.h0 = clone(r1f.ht);
            const Result r2 = run(p2, algo);
            p1.dht = clone(r2.dh0);
            const Result r1 = run(p1, algo);
            const double tol = test::kTolF64Algo;
            HGRN_EXPECT_CLOSE("o first", r1.o.view(), time_slice(whole.o, 0, T1).view(), tol);
            HGRN_EXPECT_CLOSE("o second", r2.o.view(), time_slice(whole.o, T1, c.T).view(), tol);
            HGRN_EXPECT_CLOSE("ht", r2.ht.view(), whole.ht.view(), tol);
            const std::pair<const char*, Buffer Result::*> grads[] = {
                {"dq", &Result::dq}, {"dk", &Result::dk}, {"dv", &Result::dv}, {"dg", &Result::dg}};
            for (const auto& [name, m] : grads) {
                HGRN_EXPECT_CLOSE(name, (r1.*m).view(), time_slice(whole.*m, 0, T1).view(), tol);
                HGRN_EXPECT_CLOSE(name, (r2.*m).view(), time_slice(whole.*m, T1, c.T).view(), tol);
            }
            HGRN_EXPECT_CLOSE("dh0", r1.dh0.view(), whole.dh0.view(), tol);
        }
}

TEST(GlaRefInvariants, BatchRowEqualsRowAlone) {
    const Case c{3, 70, 2, 10, 6, 16, true, true, 1, 0, 52};
    SCOPED_TRACE("seed " + std::to_string(c.seed));
    for (Algo algo : {Algo::chunk, Algo::recurrent}) {
        const Problem p = random_problem(c);
        const Result all = run(p, algo);
        for (int64_t b = 0; b < c.B; ++b) {
            Problem pb;
            pb.d = p.d;
            pb.d.B = 1;
            pb.chunk = p.chunk;
            const std::pair<Buffer*, const Buffer*> parts[] = {{&pb.q, &p.q},    {&pb.k, &p.k},   {&pb.v, &p.v},
                                                               {&pb.g, &p.g},    {&pb.h0, &p.h0}, {&pb.dout, &p.dout},
                                                               {&pb.dht, &p.dht}};
            for (const auto& [dst, src] : parts) *dst = clone(src->view().slice0(b, b + 1));
            const Result rb = run(pb, algo);
            const std::pair<const char*, Buffer Result::*> outs[] = {
                {"o", &Result::o},   {"ht", &Result::ht}, {"dq", &Result::dq},  {"dk", &Result::dk},
                {"dv", &Result::dv}, {"dg", &Result::dg}, {"dh0", &Result::dh0}};
            for (const auto& [name, m] : outs)
                HGRN_EXPECT_CLOSE(name, (rb.*m).view(), (all.*m).view().slice0(b, b + 1), 0.0);
        }
    }
}

// ---- bad arguments ------------------------------------------------------------------------------------------

void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles, const char* what) {
    try {
        fn();
        ADD_FAILURE() << what << ": no hgrn::Error thrown";
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (const std::string& n : needles)
            EXPECT_NE(msg.find(n), std::string::npos) << what << ": message \"" << msg << "\" lacks \"" << n << "\"";
    }
}

TEST(GlaRefErrors, BadArgumentsNameTheArgument) {
    const Case c{2, 5, 2, 4, 3, 16, true, true, 1, 0, 61};
    const Problem p = random_problem(c);
    const Shape qk{2, 5, 2, 4}, vs{2, 5, 2, 3}, st{2, 2, 4, 3};
    Buffer o(DType::f64, vs), ht(DType::f64, st);
    Buffer dq(DType::f64, qk), dk(DType::f64, qk), dv(DType::f64, vs), dg(DType::f64, qk), dh0(DType::f64, st);
    const GlaGrads grads{dq, dk, dv, dg, dh0};
    auto fwd = [&](GlaInputs in) { return [in, &o, &ht] { gla_chunk_forward(in, {o, ht}); }; };

    Buffer k_bad(DType::f64, {2, 5, 2, 5}), v_bad(DType::f64, {2, 4, 2, 3}), h0_bad(DType::f64, {2, 2, 3, 4});
    GlaInputs in = p.inputs();
    in.k = k_bad;
    expect_error(fwd(in), {"k has shape", "(2, 5, 2, 5)"}, "k with the wrong K");
    in = p.inputs();
    in.v = v_bad;
    expect_error(fwd(in), {"v has shape"}, "v with the wrong T");
    in = p.inputs();
    in.h0 = h0_bad;
    expect_error(fwd(in), {"h0 has shape"}, "h0 in fla's (B, H, V, K) layout");
    in = p.inputs();
    in.g = Tensor();
    expect_error(fwd(in), {"g (log forget gate) is required"}, "g absent");

    Buffer q0(DType::f64, {2, 5, 2, 0}), v0(DType::f64, {2, 5, 2, 0});
    in = p.inputs();
    in.q = in.k = in.g = q0;
    expect_error(fwd(in), {"K (head dim"}, "K = 0");
    in = p.inputs();
    in.v = v0;
    expect_error(fwd(in), {"V (head dim"}, "V = 0");

    Buffer v32(DType::f32, vs);
    in = p.inputs();
    in.v = v32;
    expect_error(fwd(in), {"v is f32 but q is f64"}, "mixed dtypes");
    for (int chunk : {48, 0, -16}) {
        in = p.inputs();
        in.chunk = chunk;
        expect_error(fwd(in), {"chunk must be a power of two"}, "chunk not a power of two");
    }

    Buffer o_bad(DType::f64, {2, 5, 2, 4});
    expect_error([&] { gla_chunk_forward(p.inputs(), {o_bad, ht}); }, {"o has shape"}, "o with the wrong V");
    Buffer dh0_bad(DType::f64, {2, 2, 3, 4});
    GlaGrads g2 = grads;
    g2.dh0 = dh0_bad;
    expect_error([&] { gla_chunk_backward(p.inputs(), p.gout(), g2); }, {"dh0 has shape"}, "dh0 wrong layout");
    g2 = grads;
    g2.dq = Tensor();
    expect_error([&] { gla_recurrent_backward(p.inputs(), p.gout(), g2); }, {"dq is required"}, "dq absent");
    in = p.inputs();
    in.k = Tensor();
    expect_error([&] { gla_chunk_backward(in, p.gout(), grads); }, {"dk must be absent"}, "dk with fused key");

    Buffer sq(DType::f64, {2, 2, 4}), sv(DType::f64, {2, 2, 3}), so(DType::f64, {2, 2, 3});
    expect_error([&] { gla_step(sq, sq, sv, sq, Tensor(), so); }, {"state", "required"}, "gla_step without state");
}

}  // namespace
}  // namespace hgrn
