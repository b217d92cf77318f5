// lm_test.cpp — the language model end to end, without checkpoints: float64 finite differences of the loss
// for every parameter tensor (HGRN2 with and without short conv / tying / lower bounds, HGRN1), fp32 against
// float64, state carry (prefix + rest == whole) and recurrent decoding (one token at a time == one pass).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/compare.h"
#include "common/random.h"
#include "model/lm.h"

using namespace hgrn;

namespace {

LmDims small_hgrn2(bool conv, bool tied, bool lb) {
    LmDims d;
    d.kind = MixerKind::hgrn2;
    d.vocab = 37, d.D = 16, d.L = 2, d.H = 2, d.K = 8, d.V = 8, d.mlp_size = 24;
    d.conv = conv ? 4 : 0, d.tied = tied, d.lower_bounds = lb;
    return d;
}

LmDims small_hgrn1() {
    LmDims d;
    d.kind = MixerKind::hgrn1;
    d.vocab = 37, d.D = 16, d.L = 2, d.E = 16, d.mlp_size = 24;
    return d;
}

// Random weights that make a wrong formula visible: norms U(0.5, 1.5), lower bounds N(0, 1), others N(0, 0.3²).
void randomize(LanguageModel& m, uint64_t seed) {
    Rng rng(seed);
    for (const ParamEntry& e : m.params.entries()) {
        const Tensor t = m.params.get(e.name);
        if (e.name.find("norm.weight") != std::string::npos) test::fill_uniform(t, rng, 0.5, 1.5);
        else if (e.name == "model.lower_bounds") test::fill_normal(t, rng, 1.0);
        else test::fill_normal(t, rng, 0.3);
    }
}

Buffer random_ids(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
    Rng rng(seed);
    Buffer ids(DType::i64, {B, T});
    for (int64_t i = 0; i < B * T; ++i) ids.ptr<int64_t>()[i] = int64_t(rng.below(uint64_t(vocab)));
    return ids;
}

// Finite differences through a batch with any inputs / head, with dropout on (its masks depend only on the seed,
// so the loss is a deterministic function of the parameters).
void check_batch_gradients(LanguageModel& m, const LmBatch& batch, const LmTrainOptions& tr, uint64_t seed) {
    LmActs acts;
    lm_forward(m, batch, acts, nullptr, tr);
    m.grads.zero_();
    lm_backward(m, batch, acts);
    Rng pick(seed);
    const double h = 1e-5;
    for (const ParamEntry& e : m.params.entries()) {
        const Tensor w = m.params.get(e.name), gw = m.grads.get(e.name);
        double gmax = 0;
        for (int64_t i = 0; i < gw.numel(); ++i) gmax = std::max(gmax, std::abs(gw.ptr<double>()[i]));
        ASSERT_GT(gmax, 0.0) << e.name << " has an all-zero gradient";
        for (int n = 0; n < 6; ++n) {
            const int64_t i = int64_t(pick.below(uint64_t(w.numel())));
            double& x = w.ptr<double>()[i];
            const double x0 = x;
            LmActs a2;
            x = x0 + h;
            const double lp = lm_forward(m, batch, a2, nullptr, tr);
            x = x0 - h;
            const double lm = lm_forward(m, batch, a2, nullptr, tr);
            x = x0;
            EXPECT_NEAR(gw.ptr<double>()[i], (lp - lm) / (2 * h), test::kTolFiniteDiff * std::max(gmax, 1.0))
                << e.name << "[" << i << "]";
        }
    }
}

void check_finite_differences(const LmDims& d, int64_t T, uint64_t seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " T " + std::to_string(T));
    LanguageModel m(d, DType::f64);
    randomize(m, seed);
    const Buffer ids = random_ids(2, T, d.vocab, seed + 1);
    Buffer targets(DType::i64, {2, T});
    lm_next_token_targets(ids, targets);
    targets.ptr<int64_t>()[3] = -100;  // an ignored position inside the sequence
    check_batch_gradients(m, {ids.view(), Tensor(), targets.view()}, {}, seed + 2);
}

}  // namespace

TEST(LanguageModel, FiniteDifferencesHgrn2) { check_finite_differences(small_hgrn2(false, false, true), 11, 100); }
TEST(LanguageModel, FiniteDifferencesHgrn2ConvTiedAcrossChunks) {
    check_finite_differences(small_hgrn2(true, true, true), 70, 101);
}
TEST(LanguageModel, FiniteDifferencesHgrn2NoLowerBounds) { check_finite_differences(small_hgrn2(false, false, false), 9, 102); }
TEST(LanguageModel, FiniteDifferencesHgrn1) { check_finite_differences(small_hgrn1(), 12, 103); }

TEST(LanguageModel, Fp32MatchesFloat64) {
    for (const LmDims& d : {small_hgrn2(true, false, true), small_hgrn1()}) {
        LanguageModel m64(d, DType::f64), m32(d, DType::f32);
        randomize(m64, 7);
        copy(m64.params.flat(), m32.params.flat());
        const Buffer ids = random_ids(3, 90, d.vocab, 8);
        Buffer targets(DType::i64, {3, 90});
        lm_next_token_targets(ids, targets);
        LmActs a64, a32;
        const double l64 = lm_forward(m64, ids, targets, a64), l32 = lm_forward(m32, ids, targets, a32);
        EXPECT_NEAR(l32, l64, 1e-5 * std::abs(l64));
        HGRN_EXPECT_CLOSE("logits", a32.logits.view(), a64.logits.view(), test::kTolF32);
        m64.grads.zero_(), m32.grads.zero_();
        lm_backward(m64, ids, targets, a64);
        lm_backward(m32, ids, targets, a32);
        for (const ParamEntry& e : m64.params.entries())
            HGRN_EXPECT_CLOSE(e.name, m32.grads.get(e.name), m64.grads.get(e.name), 1e-3);
    }
}

TEST(LanguageModel, PrefixStateThenRestEqualsWhole) {
    for (const LmDims& d : {small_hgrn2(true, false, true), small_hgrn1()}) {
        LanguageModel m(d, DType::f64);
        randomize(m, 11);
        const int64_t B = 2, T = 75, P = 66;
        const Buffer ids = random_ids(B, T, d.vocab, 12);
        LmActs whole;
        lm_forward(m, ids, Tensor(), whole);
        Buffer a(DType::i64, {B, P}), b(DType::i64, {B, T - P});
        for (int64_t i = 0; i < B; ++i)
            for (int64_t t = 0; t < T; ++t)
                (t < P ? a.ptr<int64_t>()[i * P + t] : b.ptr<int64_t>()[i * (T - P) + t - P]) = ids.ptr<int64_t>()[i * T + t];
        LmState state(d, B, DType::f64);
        LmActs first, rest;
        lm_forward(m, a, Tensor(), first, &state);
        lm_forward(m, b, Tensor(), rest, &state);
        for (int64_t i = 0; i < B; ++i) {
            const Tensor w = whole.logits.view().slice0(i, i + 1).reshape({T, d.vocab}).slice0(P, T);
            const Tensor r = rest.logits.view().slice0(i, i + 1).reshape({T - P, d.vocab});
            HGRN_EXPECT_CLOSE("logits after the prefix", r, w, test::kTolF64Algo);
        }
    }
}

TEST(LanguageModel, RecurrentDecodingEqualsOnePass) {
    for (const LmDims& d : {small_hgrn2(true, true, true), small_hgrn2(false, false, false), small_hgrn1()}) {
        for (DType dt : {DType::f64, DType::f32}) {
            LanguageModel m(d, dt);
            LanguageModel m64(d, DType::f64);
            randomize(m64, 21);
            copy(m64.params.flat(), m.params.flat());
            const int64_t B = 3, T = 20;
            const Buffer ids = random_ids(B, T, d.vocab, 22);
            LmActs whole;
            lm_forward(m, ids, Tensor(), whole);
            LmState state(d, B, dt);
            LmActs step_acts;
            Buffer tok(DType::i64, {B}), logits(dt, {B, d.vocab});
            for (int64_t t = 0; t < T; ++t) {
                for (int64_t i = 0; i < B; ++i) tok.ptr<int64_t>()[i] = ids.ptr<int64_t>()[i * T + t];
                lm_step(m, tok, state, step_acts, logits);
                for (int64_t i = 0; i < B; ++i) {
                    const Tensor w = whole.logits.view().slice0(i, i + 1).reshape({T, d.vocab}).slice0(t, t + 1);
                    HGRN_EXPECT_CLOSE("step logits", logits.view().slice0(i, i + 1), w,
                                      dt == DType::f64 ? test::kTolF64Algo : test::kTolF32);
                }
            }
            EXPECT_GT(state.bytes(), 0u);
        }
    }
}

TEST(LanguageModel, BadInputsAreClearErrors) {
    LanguageModel m(small_hgrn2(false, false, true), DType::f32);
    lm_init(m, 1, 0.02);
    Buffer ids = random_ids(1, 5, 37, 3);
    ids.ptr<int64_t>()[2] = 37;  // out of the vocabulary
    LmActs acts;
    EXPECT_THROW(lm_forward(m, ids, Tensor(), acts), Error);
    Buffer f32ids(DType::f32, {1, 5});
    EXPECT_THROW(lm_forward(m, f32ids, Tensor(), acts), Error);
    LmState st(m.dims, 2, DType::f32);
    Buffer ok_ids = random_ids(1, 5, 37, 4);
    EXPECT_THROW(lm_forward(m, ok_ids, Tensor(), acts, &st), Error);  // state batch 2, ids batch 1
}

TEST(LanguageModel, FiniteDifferencesClassifierWithFeaturesAndDropout) {
    for (MixerKind kind : {MixerKind::hgrn2, MixerKind::hgrn1}) {
        LmDims d = kind == MixerKind::hgrn2 ? small_hgrn2(true, false, true) : small_hgrn1();
        d.input_features = 5, d.num_labels = 4, d.vocab = 0;
        LanguageModel m(d, DType::f64);
        randomize(m, 31);
        Buffer feats(DType::f64, {3, 17, 5}), labels(DType::i64, {3});
        Rng rng(32);
        test::fill_normal(feats, rng, 1.0);
        for (int i = 0; i < 3; ++i) labels.ptr<int64_t>()[i] = i + 1;
        check_batch_gradients(m, {Tensor(), feats.view(), labels.view()}, {0.2, 77}, 33);
    }
}

TEST(LanguageModel, FiniteDifferencesLmWithDropout) {
    LanguageModel m(small_hgrn2(false, true, true), DType::f64);
    randomize(m, 41);
    const Buffer ids = random_ids(2, 9, 37, 42);
    Buffer targets(DType::i64, {2, 9});
    lm_next_token_targets(ids, targets);
    check_batch_gradients(m, {ids.view(), Tensor(), targets.view()}, {0.3, 5}, 43);
    // Dropout changes the loss, and the same seed gives the same loss.
    LmActs a;
    const double off = lm_forward(m, {ids.view(), Tensor(), targets.view()}, a);
    const double on1 = lm_forward(m, {ids.view(), Tensor(), targets.view()}, a, nullptr, {0.3, 5});
    const double on2 = lm_forward(m, {ids.view(), Tensor(), targets.view()}, a, nullptr, {0.3, 5});
    EXPECT_NE(off, on1);
    EXPECT_EQ(on1, on2);
}

TEST(LanguageModel, CountedRowsOnlyGivesTheSameLossAndGradients) {
    LanguageModel m(small_hgrn2(false, true, true), DType::f64);
    randomize(m, 51);
    const Buffer ids = random_ids(2, 12, 37, 52);
    Buffer targets(DType::i64, {2, 12});
    for (int64_t i = 0; i < 24; ++i) targets.ptr<int64_t>()[i] = i % 5 == 2 ? (i * 7) % 37 : -100;
    const LmBatch batch{ids.view(), Tensor(), targets.view()};
    LmActs a, b;
    const double l1 = lm_forward(m, batch, a);
    m.grads.zero_();
    lm_backward(m, batch, a);
    ParamStore g1 = m.grads.same_layout(DType::f64);
    copy(m.grads.flat(), g1.flat());
    const double l2 = lm_forward(m, batch, b, nullptr, {0.0, 0, true});
    EXPECT_EQ(b.logits.shape()[0], 5);  // rows 2, 7, 12, 17, 22 only
    m.grads.zero_();
    lm_backward(m, batch, b);
    EXPECT_NEAR(l2, l1, 1e-13);
    HGRN_EXPECT_CLOSE("gradients", m.grads.flat(), g1.flat(), 1e-12);
}
