// cross_entropy_test.cpp — mean cross-entropy with ignore index −100: a hand-computed value, the float64
// reference backward against finite differences (with ignored rows), fp32 against the reference with large
// logits (max subtraction), dlogits aliasing logits, the all-ignored case, and argument / target errors.
#include "ops/cross_entropy/cross_entropy.h"

#include <cmath>

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240506;

Buffer targets_of(const std::vector<int64_t>& v) {
    Buffer b(DType::i64, {int64_t(v.size())});
    for (size_t i = 0; i < v.size(); ++i) b.ptr<int64_t>()[i] = v[i];
    return b;
}

TEST(CrossEntropy, HandComputedValue) {
    for (const DType dt : {DType::f64, DType::f32}) {
        SCOPED_TRACE(std::string(dtype_name(dt)));
        Buffer logits(dt, {3, 2});
        const double lv[] = {0.0, std::log(3.0), 5.0, -5.0, 1.0, 2.0};
        convert(lv, DType::f64, logits.view().data(), dt, 6);
        const CrossEntropyResult r = cross_entropy_forward(logits, targets_of({1, kIgnoreIndex, 0}));
        // rows 0 and 2 count: (log 4 − log 3) and (log(e + e²) − 1) = log(1 + e)
        const double want = (std::log(4.0 / 3.0) + std::log1p(std::exp(1.0))) / 2;
        EXPECT_EQ(r.counted, 2);
        EXPECT_NEAR(r.loss, want, dt == DType::f64 ? 1e-15 : 1e-6);
    }
}

TEST(CrossEntropy, RefBackwardMatchesFiniteDifferences) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t V = 7;
    Buffer logits = randn({2, 3, V}, rng, 2.0), dlogits = nan_buffer(DType::f64, {2, 3, V});
    Buffer targets = targets_of({3, kIgnoreIndex, 0, 6, kIgnoreIndex, 2});
    const double dloss = 0.7;
    const auto loss = [&] { return dloss * cross_entropy_forward(logits, targets).loss; };
    cross_entropy_backward(logits, targets, dloss, dlogits);
    expect_grad_matches_fd("dlogits", dlogits, logits, loss);
    for (const int64_t row : {1, 4})
        for (int64_t v = 0; v < V; ++v) EXPECT_EQ(dlogits.ptr<double>()[row * V + v], 0.0) << "ignored row " << row;
}

TEST(CrossEntropy, F32MatchesReferenceWithLargeLogits) {
    for (const double scale : {1.0, 30.0}) {
        const uint64_t seed = kSeed + uint64_t(scale);
        SCOPED_TRACE("seed " + std::to_string(seed) + " scale " + std::to_string(scale));
        Rng rng(seed);
        const int64_t N = 64, V = 1000;
        Buffer logits = randn({N, V}, rng, scale);
        for (int64_t i = 0; i < N * V; ++i) logits.ptr<double>()[i] += 80.0;  // e^80 would overflow fp32 unshifted
        std::vector<int64_t> tv(static_cast<size_t>(N));
        for (auto& t : tv) t = rng.uniform() < 0.2 ? kIgnoreIndex : int64_t(rng.below(uint64_t(V)));
        Buffer targets = targets_of(tv), dl(DType::f64, {N, V}), logits32 = as(logits, DType::f32);
        Buffer dl32 = nan_buffer(DType::f32, {N, V});
        const CrossEntropyResult r = cross_entropy_forward(logits, targets);
        const CrossEntropyResult r32 = cross_entropy_forward(logits32, targets);
        EXPECT_EQ(r32.counted, r.counted);
        // The f32 logits are rounded copies (|x| ≈ 80: ulp 8e-6), so the losses differ by about that much.
        EXPECT_NEAR(r32.loss, r.loss, kTolF32 * std::max(1.0, std::abs(r.loss)));
        cross_entropy_backward(logits, targets, 1.3, dl);
        cross_entropy_backward(logits32, targets, 1.3, dl32);
        HGRN_EXPECT_CLOSE("dlogits", dl32.view(), dl.view(), kTolF32);
        cross_entropy_backward(logits32, targets, 1.3, logits32);  // in place: dlogits is logits
        EXPECT_EQ(values(logits32), values(dl32));
        cross_entropy_backward(logits, targets, 1.3, logits);
        EXPECT_EQ(values(logits), values(dl));
    }
}

TEST(CrossEntropy, AllIgnoredGivesZeroLossAndGradient) {
    for (const DType dt : {DType::f64, DType::f32}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
        Rng rng(kSeed);
        Buffer logits = randn({3, 5}, rng, 1, dt), dl = nan_buffer(dt, {3, 5});
        Buffer targets = targets_of({kIgnoreIndex, kIgnoreIndex, kIgnoreIndex});
        const CrossEntropyResult r = cross_entropy_forward(logits, targets);
        EXPECT_EQ(r.counted, 0);
        EXPECT_EQ(r.loss, 0.0);
        cross_entropy_backward(logits, targets, 1.0, dl);
        for (double v : values(dl)) EXPECT_EQ(v, 0.0);
    }
}

TEST(CrossEntropy, BadTargetsAndArgumentsNameTheProblem) {
    Buffer logits(DType::f32, {3, 7}), dl(DType::f32, {3, 7}), dl_bad(DType::f32, {3, 6});
    for (const int64_t bad : {int64_t(7), int64_t(-1), int64_t(-101)})
        expect_error(
            [&] {
                cross_entropy_forward(logits, targets_of({0, 1, bad}));
            },
            {"cross_entropy", "target " + std::to_string(bad), "position 2", "[0, 7)"});
    expect_error(
        [&] {
            cross_entropy_backward(logits, targets_of({0, 9, 1}), 1.0, dl);
        },
        {"cross_entropy", "target 9", "position 1"});
    expect_error([&] { cross_entropy_forward(logits, targets_of({0, 1})); }, {"cross_entropy", "targets", "3 rows"});
    Buffer t32(DType::i32, {3});
    expect_error([&] { cross_entropy_forward(logits, t32); }, {"cross_entropy", "targets", "i64"});
    expect_error(
        [&] {
            cross_entropy_backward(logits, targets_of({0, 1, 2}), 1.0, dl_bad);
        },
        {"cross_entropy", "dlogits"});
    expect_error(
        [&] {
            cross_entropy_backward(logits, targets_of({0, 1, 2}), std::nan(""), dl);
        },
        {"cross_entropy", "dloss"});
    Buffer l64(DType::f64, {3, 7});
    expect_error(
        [&] {
            cross_entropy_backward(logits, targets_of({0, 1, 2}), 1.0, l64);
        },
        {"cross_entropy", "dlogits", "f64"});
}

}  // namespace
