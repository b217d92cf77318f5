// hgrn1_scan_test.cpp — the HGRN1 scan (hgrn1_scan.h): float64 reference backward by central finite
// differences; the fp32 CPU path (forward and every gradient) against the float64 reference over awkward
// shapes and gates from weak to underflowing; invariants (split with state passing == whole, batch row ==
// alone, token-by-token step == forward, thread count changes nothing); argument errors that name the argument.
#include <gtest/gtest.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "core/threads.h"
#include "hgrn1_scan/hgrn1_scan.h"

using namespace hgrn;

namespace {

constexpr int64_t kTs[] = {1, 2, 63, 64, 65, 127, 1025};
constexpr int64_t kDs[] = {16, 37, 48, 96, 128, 256};  // 37: a channel count no vector width divides

// Gate regimes. strong: log f near -30 per step on average; underflow: log f around -90, straddling the point
// where exp() leaves fp32's normal range; lower_bound: HGRN1's bounded gate logaddexp(log γ, log1p(-γ) + g)
// with γ = 0.99, so f in [0.99, 1) and the state remembers hundreds of tokens.
enum class Gate { weak, unit, strong, underflow, lower_bound };
const char* gate_name(Gate k) {
    switch (k) {
        case Gate::weak: return "weak";
        case Gate::unit: return "unit";
        case Gate::strong: return "strong";
        case Gate::underflow: return "underflow";
        case Gate::lower_bound: return "lower_bound";
    }
    return "?";
}

void fill_gate(const Tensor& g, Rng& rng, Gate k) {
    switch (k) {
        case Gate::weak: test::fill_log_gate(g, rng, 0.1); return;
        case Gate::unit: test::fill_log_gate(g, rng, 1.0); return;
        case Gate::strong: test::fill_log_gate(g, rng, 10.0, -3.0); return;
        case Gate::underflow: test::fill_log_gate(g, rng, 30.0, -3.0); return;
        case Gate::lower_bound: {
            Buffer raw(DType::f64, g.shape());
            test::fill_log_gate(raw, rng, 1.0);
            const double lg = std::log(0.99), l1 = std::log1p(-0.99);
            for (int64_t i = 0; i < raw.numel(); ++i) {
                const double a = lg, b = l1 + raw.ptr<double>()[i], m = std::max(a, b);
                raw.ptr<double>()[i] = m + std::log1p(std::exp(std::min(a, b) - m));  // logaddexp(a, b)
            }
            copy(raw, g);
            return;
        }
    }
}

// Which optional state tensors are present: h0 (and the ht output), dht (and the dh0 output).
enum class State { none, h0, dht, both };
const char* state_name(State s) {
    static const char* names[] = {"none", "h0", "dht", "both"};
    return names[int(s)];
}
void PrintTo(Gate k, std::ostream* os) { *os << gate_name(k); }  // for GoogleTest's parameter listings
void PrintTo(State s, std::ostream* os) { *os << state_name(s); }
bool has_h0(State s) { return s == State::h0 || s == State::both; }
bool has_dht(State s) { return s == State::dht || s == State::both; }

#if defined(__GLIBC__)
// The compare and fill helpers make large temporary vectors on every call; by default glibc maps and unmaps
// them each time, and the page faults cost more than everything else in this file. Keep them in the heap.
const bool kMallocTuned = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
}();
#endif

// Scratch memory for the tests' tensors, allocated once and reused from case to case: fresh pages and their
// zeroing cost several times more than the scans under test. One Arena at a time; each starts at offset 0.
class Arena {
  public:
    Tensor take(DType t, Shape s) {
        // Not zeroed (every test fills what it reads); pages are touched only as far as the largest case goes.
        static const std::unique_ptr<char, decltype(&std::free)> storage(
            static_cast<char*>(std::aligned_alloc(64, kBytes)), &std::free);
        const size_t bytes = (size_t(s.numel()) * dtype_size(t) + 63) / 64 * 64;
        HGRN_CHECK(storage && used_ + bytes <= kBytes, "test arena too small for ", s.str());
        Tensor v(storage.get() + used_, t, s);
        used_ += bytes;
        return v;
    }

  private:
    static constexpr size_t kBytes = size_t(64) << 20;
    size_t used_ = 0;
};

// One problem's tensors in one dtype. Optional tensors are allocated always and passed only when present.
struct Scan {
    int64_t B, T, D;
    bool h0_on, dht_on;
    Tensor x, g, h0, o, ht, dout, dht, dx, dg, dh0;  // seq: (B, T, D); state: (B, D)

    Scan(Arena& a, DType t, int64_t B_, int64_t T_, int64_t D_, State s)
        : B(B_), T(T_), D(D_), h0_on(has_h0(s)), dht_on(has_dht(s)),
          x(a.take(t, {B, T, D})), g(a.take(t, {B, T, D})), h0(a.take(t, {B, D})), o(a.take(t, {B, T, D})),
          ht(a.take(t, {B, D})), dout(a.take(t, {B, T, D})), dht(a.take(t, {B, D})), dx(a.take(t, {B, T, D})),
          dg(a.take(t, {B, T, D})), dh0(a.take(t, {B, D})) {}

    Tensor h0v() const { return h0_on ? h0 : Tensor(); }
    Tensor htv() const { return h0_on ? ht : Tensor(); }
    Tensor dhtv() const { return dht_on ? dht : Tensor(); }
    Tensor dh0v() const { return dht_on ? dh0 : Tensor(); }

    void randomize(Rng& rng, Gate k) {
        test::fill_normal(x, rng);
        fill_gate(g, rng, k);
        test::fill_normal(h0, rng);
        test::fill_normal(dout, rng);
        test::fill_normal(dht, rng);
    }
    void copy_inputs_from(const Scan& s) {
        for (auto [src, dst] : {std::pair{&s.x, &x}, {&s.g, &g}, {&s.h0, &h0}, {&s.dout, &dout}, {&s.dht, &dht}})
            copy(*src, *dst);
    }
    void poison_outputs() {  // anything an implementation forgets to write shows up as NaN
        for (const Tensor* t : {&o, &ht, &dx, &dg, &dh0}) fill(*t, std::numeric_limits<double>::quiet_NaN());
    }
    void forward() { hgrn1_scan_forward(x, g, h0v(), o, htv()); }
    void backward() { hgrn1_scan_backward(g, h0v(), o, dout, dhtv(), dx, dg, dh0v()); }
    void run() {
        poison_outputs();
        forward();
        backward();
    }
};

std::string case_str(uint64_t seed, int64_t B, int64_t T, int64_t D) {
    return "seed=" + std::to_string(seed) + " B=" + std::to_string(B) + " T=" + std::to_string(T) +
           " D=" + std::to_string(D);
}

// Copies time steps [t0, t1) of a (B, T, D) tensor into a (B, t1 - t0, D) one, or back (to_seq).
void time_slice(const Tensor& seq, const Tensor& part, int64_t t0, bool to_seq) {
    const int64_t B = seq.size(0), T = seq.size(1), D = seq.size(2), n = part.size(1);
    const size_t es = dtype_size(seq.dtype()), row = size_t(n * D) * es;
    for (int64_t b = 0; b < B; ++b) {
        char* s = static_cast<char*>(seq.data()) + size_t((b * T + t0) * D) * es;
        char* p = static_cast<char*>(part.data()) + size_t(b * n * D) * es;
        if (to_seq) std::memcpy(s, p, row);
        else std::memcpy(p, s, row);
    }
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
    return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

// ---------------------------------------------------------------------------------------------------------
// Reference backward against central finite differences of L = Σ dout·o + Σ dht·ht, in float64.

double loss(Scan& s) {
    s.forward();
    const double *o = s.o.ptr<double>(), *dout = s.dout.ptr<double>();
    double l = 0;
    for (int64_t i = 0; i < s.o.numel(); ++i) l += dout[i] * o[i];
    if (s.dht_on)
        for (int64_t i = 0; i < s.ht.numel(); ++i) l += s.dht.ptr<double>()[i] * s.ht.ptr<double>()[i];
    return l;
}

// Numerical vs analytic gradient of `param` at `idx`.
void finite_diff(Scan& s, const Tensor& param, const Tensor& grad, const std::vector<int64_t>& idx,
                 const char* what) {
    constexpr double kStep = 1e-5;
    std::vector<double> num, ana;
    for (int64_t i : idx) {
        double& v = param.ptr<double>()[i];
        const double v0 = v;
        v = v0 + kStep;
        const double lp = loss(s);
        v = v0 - kStep;
        const double lm = loss(s);
        v = v0;
        num.push_back((lp - lm) / (2 * kStep));
        ana.push_back(grad.ptr<double>()[i]);
    }
    const test::ErrorStats st = test::compare(num, ana);
    EXPECT_EQ(st.nonfinite, 0) << what << ": " << st.str();
    EXPECT_GT(st.max_abs_ref, 1e-3) << what << ": the gradient is too small to test anything";
    EXPECT_LE(st.rel_max, test::kTolFiniteDiff) << what << ": " << st.str();
}

// Entries at the first and last time steps of every row, plus random ones.
std::vector<int64_t> pick_entries(Rng& rng, int64_t B, int64_t T, int64_t D, int n_random) {
    std::vector<int64_t> idx;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < D; ++c) {
            idx.push_back((b * T) * D + c);
            idx.push_back((b * T + T - 1) * D + c);
        }
    for (int i = 0; i < n_random; ++i) idx.push_back(int64_t(rng.below(uint64_t(B * T * D))));
    return idx;
}

TEST(Hgrn1ScanRef, BackwardMatchesFiniteDifferences) {
    const int64_t B = 2, T = 33, D = 7;
    for (Gate k : {Gate::weak, Gate::unit, Gate::lower_bound})
        for (State st : {State::both, State::none}) {
            const uint64_t seed = 101 + uint64_t(k) * 10 + uint64_t(st);
            SCOPED_TRACE(case_str(seed, B, T, D) + " gate=" + gate_name(k) + " state=" + state_name(st));
            Rng rng(seed);
            Arena arena;
            Scan s(arena, DType::f64, B, T, D, st);
            s.randomize(rng, k);
            s.run();
            Scan p(arena, DType::f64, B, T, D, st);  // perturbed copy, so the analytic gradients stay put
            p.copy_inputs_from(s);
            finite_diff(p, p.x, s.dx, pick_entries(rng, B, T, D, 60), "dx");
            finite_diff(p, p.g, s.dg, pick_entries(rng, B, T, D, 60), "dg");
            if (s.h0_on && s.dht_on) {  // dh0 is computed when dht is given (see Scan::dh0v)
                std::vector<int64_t> all(size_t(B * D));
                for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
                finite_diff(p, p.h0, s.dh0, all, "dh0");
            }
        }
}

// ---------------------------------------------------------------------------------------------------------
// fp32 CPU path against the float64 reference.

void expect_f32_matches_ref(const Scan& f, const Scan& r) {
    HGRN_EXPECT_CLOSE("o", f.o, r.o, test::kTolF32);
    HGRN_EXPECT_CLOSE("dx", f.dx, r.dx, test::kTolF32);
    HGRN_EXPECT_CLOSE("dg", f.dg, r.dg, test::kTolF32);
    if (f.h0_on) HGRN_EXPECT_CLOSE("ht", f.ht, r.ht, test::kTolF32);
    if (f.dht_on) HGRN_EXPECT_CLOSE("dh0", f.dh0, r.dh0, test::kTolF32);
    for (const auto& [name, a, b] : {std::tuple{"o", &f.o, &r.o}, {"dx", &f.dx, &r.dx}, {"dg", &f.dg, &r.dg}}) {
        const test::ErrorStats st = test::compare(*a, *b);
        EXPECT_LE(st.rel_rms, test::kTolF32Rms) << name << ": " << st.str();
    }
}

class Hgrn1ScanF32 : public testing::TestWithParam<std::tuple<Gate, State>> {};

TEST_P(Hgrn1ScanF32, MatchesReference) {
    const auto [k, st] = GetParam();
    uint64_t seed = 1000 * (1 + uint64_t(k)) + 100 * uint64_t(st);
    for (int64_t T : kTs)
        for (int64_t D : kDs) {
            const int64_t B = T <= 2 ? 3 : 2;
            ++seed;
            SCOPED_TRACE(case_str(seed, B, T, D) + " gate=" + gate_name(k));
            Rng rng(seed);
            Arena arena;
            Scan f(arena, DType::f32, B, T, D, st), r(arena, DType::f64, B, T, D, st);
            f.randomize(rng, k);
            r.copy_inputs_from(f);  // both see the same (fp32-rounded) inputs
            f.run();
            r.run();
            expect_f32_matches_ref(f, r);
        }
}

std::string param_name(const testing::TestParamInfo<std::tuple<Gate, State>>& info) {
    return std::string(gate_name(std::get<0>(info.param))) + "_" + state_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Gates, Hgrn1ScanF32,
                         testing::Combine(testing::Values(Gate::weak, Gate::unit, Gate::strong, Gate::underflow,
                                                          Gate::lower_bound),
                                          testing::Values(State::none, State::both)),
                         param_name);
INSTANTIATE_TEST_SUITE_P(OneSidedState, Hgrn1ScanF32,
                         testing::Combine(testing::Values(Gate::unit), testing::Values(State::h0, State::dht)),
                         param_name);

// Gates at the edges: g = 0 keeps the state exactly, g = -200 and g = -inf forget it exactly in fp32 (and to
// within 1e-87 in float64), g = -30 nearly; every gradient stays finite and matches the reference.
TEST(Hgrn1ScanF32, ExtremeGates) {
    const int64_t B = 2, T = 4, D = 19;
    Arena arena;
    Scan f(arena, DType::f32, B, T, D, State::both), r(arena, DType::f64, B, T, D, State::both);
    Rng rng(7);
    f.randomize(rng, Gate::unit);
    r.copy_inputs_from(f);
    double* g = r.g.ptr<double>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < D; ++c) {
            g[(b * T + 0) * D + c] = 0.0;
            g[(b * T + 1) * D + c] = c % 2 ? -200.0 : -std::numeric_limits<double>::infinity();
            g[(b * T + 2) * D + c] = -30.0;
            g[(b * T + 3) * D + c] = 0.0;
        }
    copy(r.g, f.g);
    f.run();
    r.run();
    expect_f32_matches_ref(f, r);
    for (const Scan* s : {&f, &r}) {
        SCOPED_TRACE(std::string(dtype_name(s->x.dtype())));
        Buffer x(DType::f64, {B, T, D}), h0(DType::f64, {B, D}), o(DType::f64, {B, T, D});
        copy(s->x, x);
        copy(s->h0, h0);
        copy(s->o, o);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t c = 0; c < D; ++c) {
                const int64_t i = b * T * D + c;
                EXPECT_FLOAT_EQ(o.ptr<double>()[i], h0.ptr<double>()[b * D + c] + x.ptr<double>()[i]) << i;  // f = 1
                EXPECT_EQ(o.ptr<double>()[i + D], x.ptr<double>()[i + D]) << i;                                // f = 0
            }
    }
}

// The gate exp() of the fp32 path, seen through one step from h0 = 1 with x = 0 (o = exp(g)): within a few ulp
// of the true value over the whole normal range of g, and 0 (or at least below FLT_MIN) once e^g leaves it.
TEST(Hgrn1ScanF32, GateExpIsAccurate) {
    constexpr double kTolUlp = 4 * 0x1p-24;  // 4 ulp of fp32, relative: a polynomial exp is good to ~1-2 ulp
    const int64_t n = 1 << 16;
    Buffer x(DType::f32, {n, 1, 1}), g(DType::f32, {n, 1, 1}), h0(DType::f32, {n, 1}), o(DType::f32, {n, 1, 1});
    fill(h0, 1.0);
    for (int64_t i = 0; i < n; ++i) g.ptr<float>()[i] = float(-100.0 * double(i) / double(n - 1));  // [-100, 0]
    hgrn1_scan_forward(x, g, h0, o, Tensor());
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double gi = g.ptr<float>()[i], want = std::exp(gi), got = o.ptr<float>()[i];
        if (gi >= -87.0) worst = std::max(worst, std::abs(got - want) / want);
        else EXPECT_LT(got, std::numeric_limits<float>::min()) << "g=" << gi;
        ASSERT_GE(got, 0.0) << "g=" << gi;
    }
    EXPECT_LE(worst, kTolUlp);
}

// A NaN gate (bad upstream data) must show up as NaN in the output, never as a silently finite value; a
// positive gate above exp()'s range gives inf. Vector body and scalar tail both (D = 37).
TEST(Hgrn1ScanF32, NonFiniteGatesPropagate) {
    const int64_t D = 37;
    Buffer x(DType::f32, {1, 1, D}), g(DType::f32, {1, 1, D}), h0(DType::f32, {1, D}), o(DType::f32, {1, 1, D});
    fill(h0, 1.0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int64_t c = 0; c < D; ++c) g.ptr<float>()[c] = c % 3 == 0 ? nan : (c % 3 == 1 ? -nan : 100.0f);
    hgrn1_scan_forward(x, g, h0, o, Tensor());
    for (int64_t c = 0; c < D; ++c) {
        const float v = o.ptr<float>()[c];
        if (c % 3 == 2) EXPECT_TRUE(std::isinf(v) && v > 0) << "c=" << c << " o=" << v;
        else EXPECT_TRUE(std::isnan(v)) << "c=" << c << " o=" << v;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Invariants, for both the reference and the fp32 path.

double tol_for(DType t) { return t == DType::f64 ? test::kTolF64Algo : test::kTolF32; }

TEST(Hgrn1Scan, SplitWithStatePassingEqualsWhole) {
    const int64_t B = 2, T = 130, D = 70;
    for (DType t : {DType::f64, DType::f32})
        for (int64_t T1 : {1, 64, 129}) {
            const uint64_t seed = 300 + uint64_t(T1);
            SCOPED_TRACE(case_str(seed, B, T, D) + " T1=" + std::to_string(T1) + " " + std::string(dtype_name(t)));
            Rng rng(seed);
            Arena arena;
            Scan whole(arena, t, B, T, D, State::both), a(arena, t, B, T1, D, State::both),
                b(arena, t, B, T - T1, D, State::both);
            whole.randomize(rng, Gate::unit);
            whole.run();
            for (const auto& [w, pa, pb] : {std::tuple{&whole.x, &a.x, &b.x}, {&whole.g, &a.g, &b.g},
                                            {&whole.dout, &a.dout, &b.dout}}) {
                time_slice(*w, *pa, 0, false);
                time_slice(*w, *pb, T1, false);
            }
            copy(whole.h0, a.h0);
            a.poison_outputs();
            b.poison_outputs();
            a.forward();
            copy(a.ht, b.h0);  // the state passed forward
            b.forward();
            copy(whole.dht, b.dht);
            b.backward();
            copy(b.dh0, a.dht);  // the state gradient passed back
            a.backward();
            Buffer joined(t, {B, T, D});
            for (const auto& [name, w, pa, pb] : {std::tuple{"o", &whole.o, &a.o, &b.o},
                                                  {"dx", &whole.dx, &a.dx, &b.dx}, {"dg", &whole.dg, &a.dg, &b.dg}}) {
                time_slice(joined, *pa, 0, true);
                time_slice(joined, *pb, T1, true);
                HGRN_EXPECT_CLOSE(name, joined.view(), *w, tol_for(t));
            }
            HGRN_EXPECT_CLOSE("ht", b.ht, whole.ht, tol_for(t));
            HGRN_EXPECT_CLOSE("dh0", a.dh0, whole.dh0, tol_for(t));
        }
}

TEST(Hgrn1Scan, BatchRowEqualsRowAlone) {
    const int64_t B = 3, T = 65, D = 96;
    for (DType t : {DType::f64, DType::f32}) {
        const uint64_t seed = 400;
        SCOPED_TRACE(case_str(seed, B, T, D) + " " + std::string(dtype_name(t)));
        Rng rng(seed);
        Arena arena;
        Scan all(arena, t, B, T, D, State::both);
        all.randomize(rng, Gate::unit);
        all.run();
        for (int64_t b = 0; b < B; ++b) {
            SCOPED_TRACE("row " + std::to_string(b));
            Scan one(arena, t, 1, T, D, State::both);
            for (const auto& [src, dst] : {std::pair{&all.x, &one.x}, {&all.g, &one.g}, {&all.h0, &one.h0},
                                           {&all.dout, &one.dout}, {&all.dht, &one.dht}})
                copy(src->slice0(b, b + 1), *dst);
            one.run();
            for (const auto& [name, whole, alone] : {std::tuple{"o", &all.o, &one.o}, {"ht", &all.ht, &one.ht},
                                                     {"dx", &all.dx, &one.dx}, {"dg", &all.dg, &one.dg},
                                                     {"dh0", &all.dh0, &one.dh0}})
                HGRN_EXPECT_CLOSE(name, *alone, whole->slice0(b, b + 1), tol_for(t));
        }
    }
}

TEST(Hgrn1Scan, StepTokenByTokenEqualsForward) {
    const int64_t B = 3, T = 40, D = 77;
    for (DType t : {DType::f64, DType::f32})
        for (bool from_h0 : {true, false}) {
            const uint64_t seed = 500 + from_h0;
            SCOPED_TRACE(case_str(seed, B, T, D) + " from_h0=" + std::to_string(from_h0) + " " +
                         std::string(dtype_name(t)));
            Rng rng(seed);
            Arena arena;
            Scan s(arena, t, B, T, D, from_h0 ? State::both : State::none);
            s.randomize(rng, Gate::unit);
            s.poison_outputs();
            s.forward();
            Buffer state(t, {B, D}), xt(t, {B, 1, D}), gt(t, {B, 1, D}), ot(t, {B, 1, D});
            if (from_h0) copy(s.h0, state);  // else zeros, as the forward without h0
            for (int64_t i = 0; i < T; ++i) {
                time_slice(s.x, xt, i, false);
                time_slice(s.g, gt, i, false);
                time_slice(s.o, ot, i, false);
                // state is read (as h0) and written (as o) by the same call
                hgrn1_scan_step(xt.view().reshape({B, D}), gt.view().reshape({B, D}), state);
                HGRN_EXPECT_CLOSE("step " + std::to_string(i), state.view(), ot.view(), tol_for(t));
            }
        }
}

TEST(Hgrn1ScanF32, ThreadCountDoesNotChangeResults) {
    const int64_t B = 4, T = 300, D = 200;  // large enough to take the parallel path
    const int saved = num_threads();
    const uint64_t seed = 600;
    SCOPED_TRACE(case_str(seed, B, T, D));
    Rng rng(seed);
    Arena arena;
    Scan one(arena, DType::f32, B, T, D, State::both), many(arena, DType::f32, B, T, D, State::both);
    one.randomize(rng, Gate::unit);
    many.copy_inputs_from(one);
    set_num_threads(1);
    one.run();
    set_num_threads(4);
    many.run();
    set_num_threads(saved);
    for (const auto& [name, a, b] : {std::tuple{"o", &one.o, &many.o}, {"ht", &one.ht, &many.ht},
                                     {"dx", &one.dx, &many.dx}, {"dg", &one.dg, &many.dg},
                                     {"dh0", &one.dh0, &many.dh0}})
        EXPECT_TRUE(bitwise_equal(*a, *b)) << name;
}

// ---------------------------------------------------------------------------------------------------------
// Bad arguments: hgrn::Error whose message names the argument.

void expect_error(const std::function<void()>& f, const std::string& needle) {
    try {
        f();
        ADD_FAILURE() << "no error; expected one mentioning \"" << needle << "\"";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST(Hgrn1Scan, BadArgumentsNameTheArgument) {
    const int64_t B = 2, T = 3, D = 4;
    Arena arena;
    Scan s(arena, DType::f32, B, T, D, State::both);
    Rng rng(700);
    s.randomize(rng, Gate::unit);
    Buffer seq_wide(DType::f32, {B, T, D + 1}), st_wide(DType::f32, {B, D + 1}), seq64(DType::f64, {B, T, D}),
        st64(DType::f64, {B, D}), zero_d(DType::f32, {B, T, 0}), seq_bf16(DType::bf16, {B, T, D}),
        flat(DType::f32, {B * T * D});
    const Tensor none;
    // forward
    expect_error([&] { hgrn1_scan_forward(seq_wide, s.g, s.h0, s.o, s.ht); }, "x has shape (2, 3, 5)");
    expect_error([&] { hgrn1_scan_forward(s.x, s.g, st_wide, s.o, s.ht); }, "h0 has shape (2, 5)");
    expect_error([&] { hgrn1_scan_forward(s.x, s.g, s.h0, seq_wide, s.ht); }, "o has shape");
    expect_error([&] { hgrn1_scan_forward(s.x, s.g, s.h0, none, s.ht); }, "o is required");
    expect_error([&] { hgrn1_scan_forward(s.x, s.g, s.h0, s.o, st_wide); }, "ht has shape");
    expect_error([&] { hgrn1_scan_forward(s.x, none, s.h0, s.o, s.ht); }, "g (log forget gate) is required");
    expect_error([&] { hgrn1_scan_forward(s.x, flat, s.h0, s.o, s.ht); }, "g must be (B, T, D)");
    expect_error([&] { hgrn1_scan_forward(zero_d, zero_d, none, zero_d, none); }, "D must be > 0, got (2, 3, 0)");
    expect_error([&] { hgrn1_scan_forward(seq64, s.g, s.h0, s.o, s.ht); }, "x is f64 but g is f32");
    expect_error([&] { hgrn1_scan_forward(s.x, s.g, st64, s.o, s.ht); }, "h0 is f64 but g is f32");
    expect_error([&] { hgrn1_scan_forward(seq_bf16, seq_bf16, none, seq_bf16, none); }, "takes f64 or f32");
    // backward
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, s.o, seq_wide, s.dht, s.dx, s.dg, s.dh0); }, "dout has shape");
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, s.o, s.dout, st_wide, s.dx, s.dg, s.dh0); }, "dht has shape");
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, s.o, s.dout, s.dht, s.dx, s.dg, st_wide); }, "dh0 has shape");
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, s.o, s.dout, s.dht, none, s.dg, s.dh0); }, "dx is required");
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, s.o, s.dout, s.dht, s.dx, seq64, s.dh0); }, "dg is f64");
    expect_error([&] { hgrn1_scan_backward(s.g, s.h0, seq_wide, s.dout, s.dht, s.dx, s.dg, s.dh0); }, "o has shape");
    // step
    const Tensor x2 = s.x.slice0(0, 1).reshape({T, D}), g2 = s.g.slice0(0, 1).reshape({T, D});
    Buffer state(DType::f32, {T, D}), state64(DType::f64, {T, D}), state_wide(DType::f32, {T, D + 1});
    expect_error([&] { hgrn1_scan_step(x2, g2, none); }, "state (B, D) is required");
    expect_error([&] { hgrn1_scan_step(x2, g2, state_wide); }, "state has shape");
    expect_error([&] { hgrn1_scan_step(x2, g2, state64); }, "state is f64 but g is f32");
    expect_error([&] { hgrn1_scan_step(x2, s.g, state); }, "g must be (B, D)");
    expect_error([&] { hgrn1_scan_step(st_wide, g2, state); }, "x has shape");
    // the good call still works after all that
    EXPECT_NO_THROW(hgrn1_scan_step(x2, g2, state));
}

}  // namespace
