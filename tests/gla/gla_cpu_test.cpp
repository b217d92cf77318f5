// gla_cpu_test.cpp — the fp32 CPU GLA path (chunkwise, recurrent, one-token step) against the float64 recurrent
// reference: forward o and ht and every backward gradient (dq, dk, dv, dg, dh0) within test::kTolF32
// (max-abs over max-abs, NaN/Inf checked first). Awkward shapes (T in {1, 2, 63, 64, 65, 127, 1025}, K != V,
// head dims 16..256), with and without h0 and dht, chunks 64 / 16 / others, gates from weak to log f ~ -30 per step.
// Invariants: fp32 chunk == fp32 recurrent; a sequence split in two with the state passed == the whole (forward and
// backward); row b of a batch == that row alone (bitwise); token-by-token gla_step == chunk forward; the fused form
// (k absent, k = 1 - exp(g)). The reference inputs are the fp32 inputs widened to f64, so only the computation differs.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "gla/gla.h"

using namespace hgrn;

namespace {

struct Problem {
    int64_t B = 2, T = 64, H = 2, K = 32, V = 32;
    int chunk = 64;
    bool h0 = true, dht = true;
    double strength = 1.0, offset = 0.0;  // gates: g = strength * logsigmoid(N(offset, 1))
    bool fused = false;                   // k absent: k = 1 - exp(g)
    uint64_t seed = 1;

    std::string str() const {
        std::ostringstream os;
        os << "B=" << B << " T=" << T << " H=" << H << " K=" << K << " V=" << V << " chunk=" << chunk << " h0=" << h0
           << " dht=" << dht << " gate strength=" << strength << " offset=" << offset << " fused=" << fused
           << " seed=" << seed;
        return os.str();
    }
};

// Inputs in one dtype; absent tensors stay empty.
struct Inputs {
    Buffer q, k, v, g, h0, dout, dht;
};

Shape qk_shape(const Problem& p) { return {p.B, p.T, p.H, p.K}; }
Shape v_shape(const Problem& p) { return {p.B, p.T, p.H, p.V}; }
Shape state_shape(const Problem& p) { return {p.B, p.H, p.K, p.V}; }

// fp32 inputs (the values the fp32 path sees).
Inputs make_inputs(const Problem& p) {
    Rng rng(p.seed);
    Inputs x;
    x.q = Buffer(DType::f32, qk_shape(p));
    x.v = Buffer(DType::f32, v_shape(p));
    x.g = Buffer(DType::f32, qk_shape(p));
    x.dout = Buffer(DType::f32, v_shape(p));
    test::fill_normal(x.q, rng);
    test::fill_normal(x.v, rng);
    test::fill_log_gate(x.g, rng, p.strength, p.offset);
    test::fill_normal(x.dout, rng);
    if (!p.fused) {
        x.k = Buffer(DType::f32, qk_shape(p));
        test::fill_normal(x.k, rng);
    }
    if (p.h0) {
        x.h0 = Buffer(DType::f32, state_shape(p));
        test::fill_normal(x.h0, rng);
    }
    if (p.dht) {
        x.dht = Buffer(DType::f32, state_shape(p));
        test::fill_normal(x.dht, rng);
    }
    return x;
}

Buffer widen(const Buffer& b, DType t) {
    if (b.empty()) return Buffer();
    Buffer r(t, b.shape());
    copy(b.view(), r.view());
    return r;
}

Inputs convert_inputs(const Inputs& x, DType t) {
    return {widen(x.q, t),  widen(x.k, t),    widen(x.v, t),  widen(x.g, t),
            widen(x.h0, t), widen(x.dout, t), widen(x.dht, t)};
}

struct Result {
    Buffer o, ht, dq, dk, dv, dg, dh0;
};

GlaInputs gla_inputs(const Inputs& x, const Problem& p) {
    GlaInputs in;
    in.q = x.q.view();
    in.k = x.k.empty() ? Tensor() : x.k.view();
    in.v = x.v.view();
    in.g = x.g.view();
    in.h0 = x.h0.empty() ? Tensor() : x.h0.view();
    in.chunk = p.chunk;
    return in;
}

enum class Algo { chunk, recurrent };

// Runs forward (and backward) through the public API on tensors of x's dtype.
Result run(const Inputs& x, const Problem& p, Algo algo, bool backward = true) {
    const DType t = x.q.dtype();
    Result r;
    r.o = Buffer(t, v_shape(p));
    r.ht = Buffer(t, state_shape(p));
    const GlaInputs in = gla_inputs(x, p);
    if (algo == Algo::chunk)
        gla_chunk_forward(in, {r.o, r.ht});
    else
        gla_recurrent_forward(in, {r.o, r.ht});
    if (!backward) return r;
    r.dq = Buffer(t, qk_shape(p));
    r.dv = Buffer(t, v_shape(p));
    r.dg = Buffer(t, qk_shape(p));
    if (!p.fused) r.dk = Buffer(t, qk_shape(p));
    if (p.h0) r.dh0 = Buffer(t, state_shape(p));
    GlaGrads gr{r.dq, r.dk.empty() ? Tensor() : r.dk.view(), r.dv, r.dg, r.dh0.empty() ? Tensor() : r.dh0.view()};
    const GlaGradOutputs go{x.dout, x.dht.empty() ? Tensor() : x.dht.view()};
    if (algo == Algo::chunk)
        gla_chunk_backward(in, go, gr);
    else
        gla_recurrent_backward(in, go, gr);
    return r;
}

void expect_close(const Result& got, const Result& ref, double tol, const std::string& what) {
    HGRN_EXPECT_CLOSE(what + " o", got.o.view(), ref.o.view(), tol);
    HGRN_EXPECT_CLOSE(what + " ht", got.ht.view(), ref.ht.view(), tol);
    if (ref.dq.empty()) return;
    HGRN_EXPECT_CLOSE(what + " dq", got.dq.view(), ref.dq.view(), tol);
    if (!ref.dk.empty()) HGRN_EXPECT_CLOSE(what + " dk", got.dk.view(), ref.dk.view(), tol);
    HGRN_EXPECT_CLOSE(what + " dv", got.dv.view(), ref.dv.view(), tol);
    HGRN_EXPECT_CLOSE(what + " dg", got.dg.view(), ref.dg.view(), tol);
    if (!ref.dh0.empty()) HGRN_EXPECT_CLOSE(what + " dh0", got.dh0.view(), ref.dh0.view(), tol);
}

// fp32 chunk and fp32 recurrent, each against the float64 recurrent reference.
void check_against_reference(const Problem& p, bool recurrent_too = true) {
    SCOPED_TRACE(p.str());
    const Inputs x32 = make_inputs(p);
    const Result ref = run(convert_inputs(x32, DType::f64), p, Algo::recurrent);
    expect_close(run(x32, p, Algo::chunk), ref, test::kTolF32, "chunk");
    if (recurrent_too) expect_close(run(x32, p, Algo::recurrent), ref, test::kTolF32, "recurrent");
}

Problem shape(int64_t T, int64_t H, int64_t K, int64_t V, int chunk = 64, bool h0 = true, bool dht = true) {
    Problem p;
    p.T = T, p.H = H, p.K = K, p.V = V, p.chunk = chunk, p.h0 = h0, p.dht = dht;
    p.seed = uint64_t(T * 1000003 + K * 1009 + V * 31 + chunk);
    return p;
}

}  // namespace

// ---- against the float64 reference --------------------------------------------------------------------------------

TEST(GlaCpu, ShortSequences) {
    check_against_reference(shape(1, 2, 16, 16));
    check_against_reference(shape(2, 3, 48, 16, 64, false, true));
    check_against_reference(shape(2, 2, 16, 48, 16, true, false));
}

TEST(GlaCpu, AroundOneChunk) {
    check_against_reference(shape(63, 2, 64, 48, 16));
    check_against_reference(shape(64, 3, 96, 64, 64, false, false));
    check_against_reference(shape(65, 2, 48, 96, 64, true, false));
    check_against_reference(shape(65, 2, 64, 64, 16, false, true));
}

TEST(GlaCpu, HeadDims) {
    check_against_reference(shape(127, 2, 128, 128, 64));
    check_against_reference(shape(127, 2, 256, 64, 16, false, true), false);
    check_against_reference(shape(65, 2, 64, 256, 64, true, false), false);
    check_against_reference(shape(33, 2, 256, 256, 64), false);
}

TEST(GlaCpu, HeadDimsNotMultiplesOf16) {
    check_against_reference(shape(65, 2, 3, 5, 16));
    check_against_reference(shape(127, 3, 33, 20, 64, false, true));
}

TEST(GlaCpu, LongSequence) {
    check_against_reference(shape(1025, 2, 64, 64, 64), false);
    check_against_reference(shape(1025, 2, 48, 32, 16, false, true), false);
    check_against_reference(shape(1025, 2, 128, 128, 64, true, false), false);
    check_against_reference(shape(1025, 3, 96, 256, 16, true, true), false);
}

TEST(GlaCpu, LongSequenceStrongGates) {
    Problem p = shape(1025, 2, 64, 96, 64);
    p.strength = 10.0, p.offset = -1.5;
    check_against_reference(p);
}

TEST(GlaCpu, OtherChunkLengths) {
    for (int chunk : {1, 4, 32, 128}) check_against_reference(shape(127, 2, 32, 16, chunk), false);
}

TEST(GlaCpu, GateStrengths) {
    for (double strength : {0.1, 1.0, 10.0}) {
        Problem p = shape(200, 2, 64, 32);
        p.strength = strength;
        check_against_reference(p);
    }
}

// log f down to about -30 per step (strength 10, offset -1.5): no NaN/Inf and full accuracy, without clamping.
TEST(GlaCpu, StrongGates) {
    for (int chunk : {64, 16}) {
        Problem p = shape(300, 2, 64, 48, chunk);
        p.strength = 10.0, p.offset = -1.5;
        check_against_reference(p);
    }
}

// Columns of very different decay in one head: some never decay (g = 0), some decay by ~30 per step, the rest weak.
// Chunk blocks then span huge ranges in some columns and none in others.
TEST(GlaCpu, MixedGates) {
    Problem p = shape(190, 2, 48, 32);
    p.strength = 0.5;
    SCOPED_TRACE(p.str());
    Inputs x = make_inputs(p);
    float* g = x.g.ptr<float>();
    for (int64_t i = 0; i < x.g.numel(); ++i) {
        const int64_t j = i % p.K;
        if (j % 3 == 0) g[i] = 0.0f;
        if (j % 3 == 1) g[i] = -30.0f + 0.5f * float(j % 5);
    }
    const Result ref = run(convert_inputs(x, DType::f64), p, Algo::recurrent);
    expect_close(run(x, p, Algo::chunk), ref, test::kTolF32, "chunk");
    expect_close(run(x, p, Algo::recurrent), ref, test::kTolF32, "recurrent");
}

// f = 0 exactly (g = -inf) at some tokens and channels: the state is reset there; everything stays finite.
TEST(GlaCpu, InfiniteDecay) {
    Problem p = shape(150, 2, 32, 32, 64);
    SCOPED_TRACE(p.str());
    Inputs x = make_inputs(p);
    float* g = x.g.ptr<float>();
    for (int64_t i = 0; i < x.g.numel(); i += 37) g[i] = -INFINITY;
    const Result ref = run(convert_inputs(x, DType::f64), p, Algo::recurrent);
    expect_close(run(x, p, Algo::chunk), ref, test::kTolF32, "chunk");
    expect_close(run(x, p, Algo::recurrent), ref, test::kTolF32, "recurrent");
}

TEST(GlaCpu, FusedKeyForm) {
    Problem p = shape(130, 2, 64, 32);
    p.fused = true;
    p.strength = 1.0;
    check_against_reference(p);
    p.h0 = false;
    p.dht = false;
    p.T = 65;
    check_against_reference(p);
}

// ---- invariants -----------------------------------------------------------------------------------------------------

TEST(GlaCpu, ChunkEqualsRecurrentF32) {
    Problem p = shape(517, 3, 64, 80, 64);
    SCOPED_TRACE(p.str());
    const Inputs x = make_inputs(p);
    expect_close(run(x, p, Algo::chunk), run(x, p, Algo::recurrent), test::kTolF32, "chunk vs recurrent");
}

// Tokens [0, T1) then [T1, T) with the state passed forward (and its gradient backward) == the whole sequence.
TEST(GlaCpu, SplitSequenceEqualsWhole) {
    Problem whole = shape(200, 2, 32, 48, 64);
    SCOPED_TRACE(whole.str());
    const Inputs x = make_inputs(whole);
    const Result all = run(x, whole, Algo::chunk);
    const int64_t T1 = 77;
    Problem p1 = whole, p2 = whole;
    p1.T = T1, p2.T = whole.T - T1;
    auto part = [&](const Buffer& b, int64_t t0, int64_t n) {  // tokens [t0, t0 + n) of a (B, T, H, X) tensor
        const int64_t X = b.shape()[3];
        Buffer r(DType::f32, {whole.B, n, whole.H, X});
        for (int64_t bb = 0; bb < whole.B; ++bb)
            for (int64_t t = 0; t < n; ++t)
                for (int64_t i = 0; i < whole.H * X; ++i)
                    r.ptr<float>()[(bb * n + t) * whole.H * X + i] =
                        b.ptr<float>()[(bb * whole.T + t0 + t) * whole.H * X + i];
        return r;
    };
    Inputs x1{part(x.q, 0, T1),        part(x.k, 0, T1),    part(x.v, 0, T1), part(x.g, 0, T1),
              widen(x.h0, DType::f32), part(x.dout, 0, T1), Buffer()};
    const Result r1f = run(x1, p1, Algo::chunk, false);
    Inputs x2{part(x.q, T1, p2.T),       part(x.k, T1, p2.T),    part(x.v, T1, p2.T),     part(x.g, T1, p2.T),
              widen(r1f.ht, DType::f32), part(x.dout, T1, p2.T), widen(x.dht, DType::f32)};
    const Result r2 = run(x2, p2, Algo::chunk);
    x1.dht = widen(r2.dh0, DType::f32);
    const Result r1 = run(x1, p1, Algo::chunk);
    HGRN_EXPECT_CLOSE("ht", r2.ht.view(), all.ht.view(), test::kTolF32);
    HGRN_EXPECT_CLOSE("dh0", r1.dh0.view(), all.dh0.view(), test::kTolF32);
    const std::pair<const Buffer Result::*, const char*> fields[] = {
        {&Result::o, "o"}, {&Result::dq, "dq"}, {&Result::dk, "dk"}, {&Result::dv, "dv"}, {&Result::dg, "dg"}};
    for (const auto& [f, name] : fields) {
        HGRN_EXPECT_CLOSE(std::string(name) + " first part", (r1.*f).view(), part(all.*f, 0, T1).view(), test::kTolF32);
        HGRN_EXPECT_CLOSE(std::string(name) + " second part", (r2.*f).view(), part(all.*f, T1, p2.T).view(),
                          test::kTolF32);
    }
}

// Row b of a batch gives bitwise the same results as that row alone (no cross-talk, no thread-count dependence).
TEST(GlaCpu, BatchRowEqualsAlone) {
    Problem p = shape(150, 3, 48, 32, 64);
    p.B = 3;
    SCOPED_TRACE(p.str());
    const Inputs x = make_inputs(p);
    const Result all = run(x, p, Algo::chunk);
    Problem one = p;
    one.B = 1;
    auto row = [&](const Buffer& b) {
        if (b.empty()) return Buffer();
        Shape s = b.shape();
        const int64_t n = b.numel() / s[0];
        s.size[0] = 1;
        Buffer r(DType::f32, s);
        std::copy_n(b.ptr<float>() + n, n, r.ptr<float>());
        return r;
    };
    const Inputs x1{row(x.q), row(x.k), row(x.v), row(x.g), row(x.h0), row(x.dout), row(x.dht)};
    const Result r1 = run(x1, one, Algo::chunk);
    const std::pair<const Buffer Result::*, const char*> fields[] = {
        {&Result::o, "o"},   {&Result::ht, "ht"}, {&Result::dq, "dq"},  {&Result::dk, "dk"},
        {&Result::dv, "dv"}, {&Result::dg, "dg"}, {&Result::dh0, "dh0"}};
    for (const auto& [f, name] : fields) {
        const Buffer expect = row(all.*f);
        const test::ErrorStats st = test::compare(r1.*f, expect);
        EXPECT_EQ(st.max_abs_err, 0.0) << name << ": " << st.str();
        EXPECT_EQ(st.nonfinite, 0) << name;
    }
}

// Decoding token by token with gla_step (state carried in place) == one chunk forward from the same h0.
TEST(GlaCpu, StepDecodingEqualsChunk) {
    for (bool fused : {false, true}) {
        Problem p = shape(70, 3, 64, 48, 64);
        p.fused = fused;
        SCOPED_TRACE(p.str());
        const Inputs x = make_inputs(p);
        const Result all = run(x, p, Algo::chunk, false);
        Buffer state = widen(x.h0, DType::f32), o(DType::f32, v_shape(p));
        Buffer q(DType::f32, {p.B, p.H, p.K}), k(DType::f32, {p.B, p.H, p.K}), g(DType::f32, {p.B, p.H, p.K}),
            v(DType::f32, {p.B, p.H, p.V}), ot(DType::f32, {p.B, p.H, p.V});
        auto take = [&](const Buffer& src, const Buffer& dst, int64_t t) {
            const int64_t n = dst.numel() / p.B;
            for (int64_t b = 0; b < p.B; ++b)
                std::copy_n(src.ptr<float>() + (b * p.T + t) * n, n, dst.ptr<float>() + b * n);
        };
        for (int64_t t = 0; t < p.T; ++t) {
            take(x.q, q, t), take(x.g, g, t), take(x.v, v, t);
            if (!fused) take(x.k, k, t);
            gla_step(q, fused ? Tensor() : k.view(), v, g, state, ot);
            const int64_t n = p.H * p.V;
            for (int64_t b = 0; b < p.B; ++b)
                std::copy_n(ot.ptr<float>() + b * n, n, o.ptr<float>() + (b * p.T + t) * n);
        }
        HGRN_EXPECT_CLOSE("o", o.view(), all.o.view(), test::kTolF32);
        HGRN_EXPECT_CLOSE("state", state.view(), all.ht.view(), test::kTolF32);
    }
}

namespace {

// GlaOutputs::states of the chunkwise forward: states[n] is the state after the first 64 n tokens (n = 0: h0),
// here compared with ht of the float64 recurrence run on that prefix; the fp32 CPU path against float64; the
// fused key form too. gla_chunk_backward accepts them (the CPU backends recompute regardless).
TEST(GlaCpu, ChunkStatesAreThePrefixStates) {
    for (bool fused : {false, true}) {
        Problem p = shape(200, 2, 32, 48, 64);
        p.fused = fused;
        SCOPED_TRACE(p.str());
        const Inputs x = make_inputs(p);
        const GlaDims d{p.B, p.T, p.H, p.K, p.V};
        const Shape hs = gla_states_shape(d);
        ASSERT_EQ(hs[2], 4);
        auto forward = [&](DType t) {
            const Buffer q = widen(x.q, t), k = widen(x.k, t), v = widen(x.v, t), g = widen(x.g, t), h0 = widen(x.h0, t);
            GlaInputs in;
            in.q = q.view(), in.k = k.view(), in.v = v.view(), in.g = g.view(), in.h0 = h0.view();
            Buffer o(t, v_shape(p)), st(t, hs);
            gla_chunk_forward(in, {o.view(), Tensor(), st.view()});
            return st;
        };
        const Buffer s64 = forward(DType::f64), s32 = forward(DType::f32);
        const int64_t KV = p.K * p.V, N = hs[2];
        for (int64_t n = 0; n < N; ++n) {
            Buffer want(DType::f64, state_shape(p));
            if (n == 0) {
                copy(x.h0.view(), want.view());
            } else {  // the f64 recurrence over tokens [0, 64 n)
                const int64_t L = 64 * n;
                auto prefix = [&](const Buffer& b) {
                    if (b.empty()) return Buffer();
                    const int64_t X = b.shape()[3];
                    Buffer r(DType::f64, {p.B, L, p.H, X});
                    for (int64_t bb = 0; bb < p.B; ++bb)
                        for (int64_t i = 0; i < L * p.H * X; ++i)
                            r.ptr<double>()[bb * L * p.H * X + i] = b.ptr<float>()[bb * p.T * p.H * X + i];
                    return r;
                };
                const Buffer q = prefix(x.q), k = prefix(x.k), v = prefix(x.v), g = prefix(x.g), h0 = widen(x.h0, DType::f64);
                GlaInputs in;
                in.q = q.view(), in.k = k.view(), in.v = v.view(), in.g = g.view(), in.h0 = h0.view();
                Buffer o(DType::f64, {p.B, L, p.H, p.V});
                gla_recurrent_forward(in, {o.view(), want.view()});
            }
            Buffer got64(DType::f64, state_shape(p)), got32(DType::f64, state_shape(p));
            for (int64_t bh = 0; bh < p.B * p.H; ++bh)
                for (int64_t i = 0; i < KV; ++i) {
                    got64.ptr<double>()[bh * KV + i] = s64.ptr<double>()[(bh * N + n) * KV + i];
                    got32.ptr<double>()[bh * KV + i] = s32.ptr<float>()[(bh * N + n) * KV + i];
                }
            HGRN_EXPECT_CLOSE("f64 states[" + std::to_string(n) + "]", got64.view(), want.view(), 1e-12);
            HGRN_EXPECT_CLOSE("f32 states[" + std::to_string(n) + "]", got32.view(), want.view(), test::kTolF32);
        }
    }
}

TEST(GlaCpu, ChunkStatesBadArguments) {
    Problem p = shape(100, 1, 16, 16, 64);
    const Inputs x = make_inputs(p);
    GlaInputs in;
    in.q = x.q.view(), in.k = x.k.view(), in.v = x.v.view(), in.g = x.g.view();
    Buffer o(DType::f32, v_shape(p)), good(DType::f32, {p.B, p.H, 2, p.K, p.V}), bad(DType::f32, {p.B, p.H, 1, p.K, p.V});
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor(), bad.view()}), Error);
    EXPECT_THROW(gla_recurrent_forward(in, {o.view(), Tensor(), good.view()}), Error);  // chunkwise only
    in.chunk = 16;
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor(), good.view()}), Error);  // states are per 64 tokens
    in.chunk = 64;
    EXPECT_NO_THROW(gla_chunk_forward(in, {o.view(), Tensor(), good.view()}));
}

}  // namespace
