// activation_test.cpp — swish and swiglu: float64 reference backward against finite differences, the fp32
// path against the reference, finite exact limits at x = ±100 and ±1000 (no overflow, no NaN), outputs
// overwritten, and argument errors.
#include "ops/activation/activation.h"

#include <cmath>

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240503;

TEST(Activation, RefBackwardMatchesFiniteDifferences) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const Shape s{3, 11};
    Buffer a = randn(s, rng, 3.0), b = randn(s, rng), R = randn(s, rng);
    Buffer y(DType::f64, s), da(DType::f64, s), db(DType::f64, s), dx(DType::f64, s);
    const auto swish_loss = [&] {
        swish_forward(a, y);
        return dot(y, R);
    };
    swish_backward(a, R, dx);
    expect_grad_matches_fd("swish dx", dx, a, swish_loss);
    const auto swiglu_loss = [&] {
        swiglu_forward(a, b, y);
        return dot(y, R);
    };
    swiglu_backward(a, b, R, da, db);
    expect_grad_matches_fd("swiglu da", da, a, swiglu_loss);
    expect_grad_matches_fd("swiglu db", db, b, swiglu_loss);
}

TEST(Activation, F32MatchesReference) {
    for (const double scale : {0.1, 1.0, 10.0}) {
        const uint64_t seed = kSeed + uint64_t(scale * 10);
        SCOPED_TRACE("seed " + std::to_string(seed) + " scale " + std::to_string(scale));
        Rng rng(seed);
        const Shape s{5, 7001};  // three parallel chunks, the last one ragged
        Buffer a = randn(s, rng, scale), b = randn(s, rng), dy = randn(s, rng);
        Buffer y(DType::f64, s), dx(DType::f64, s), da(DType::f64, s), db(DType::f64, s);
        Buffer a32 = as(a, DType::f32), b32 = as(b, DType::f32), dy32 = as(dy, DType::f32);
        Buffer y32 = nan_buffer(DType::f32, s), dx32 = nan_buffer(DType::f32, s);
        Buffer da32 = nan_buffer(DType::f32, s), db32 = nan_buffer(DType::f32, s);
        swish_forward(a, y);
        swish_forward(a32, y32);
        HGRN_EXPECT_CLOSE("swish y", y32.view(), y.view(), kTolF32);
        swish_backward(a, dy, dx);
        swish_backward(a32, dy32, dx32);
        HGRN_EXPECT_CLOSE("swish dx", dx32.view(), dx.view(), kTolF32);
        swiglu_forward(a, b, y);
        fill(y32, std::nan(""));
        swiglu_forward(a32, b32, y32);
        HGRN_EXPECT_CLOSE("swiglu y", y32.view(), y.view(), kTolF32);
        swiglu_backward(a, b, dy, da, db);
        swiglu_backward(a32, b32, dy32, da32, db32);
        HGRN_EXPECT_CLOSE("swiglu da", da32.view(), da.view(), kTolF32);
        HGRN_EXPECT_CLOSE("swiglu db", db32.view(), db.view(), kTolF32);
    }
}

// swish(x) → x for x → +∞ and → 0 for x → −∞ (at −100 it is −100·e^−100 ≈ −4e−42, a denormal in fp32);
// swish' → 1 and 0. No NaN or overflow in any path.
void check_extremes(DType dt) {
    SCOPED_TRACE(std::string("dtype ") + std::string(dtype_name(dt)));
    const std::vector<double> xs = {-1000, -100, 100, 1000};
    Buffer x(dt, {4}), y(dt, {4}), ones(dt, {4}), dx(dt, {4}), da(dt, {4}), db(dt, {4});
    for (int i = 0; i < 4; ++i) {
        const double v = xs[size_t(i)];
        convert(&v, DType::f64, static_cast<char*>(x.view().data()) + i * dtype_size(dt), dt, 1);
    }
    fill(ones, 1.0);
    swish_forward(x, y);
    swish_backward(x, ones, dx);
    swiglu_backward(x, ones, ones, da, db);
    const std::vector<double> yv = values(y), dv = values(dx), dav = values(da), dbv = values(db);
    for (int i = 0; i < 4; ++i) {
        const bool pos = xs[size_t(i)] > 0;
        EXPECT_NEAR(yv[size_t(i)], pos ? xs[size_t(i)] : 0.0, 1e-40) << "x = " << xs[size_t(i)];
        EXPECT_NEAR(dv[size_t(i)], pos ? 1.0 : 0.0, 1e-40) << "x = " << xs[size_t(i)];
        EXPECT_EQ(dav[size_t(i)], dv[size_t(i)]) << "x = " << xs[size_t(i)];
        EXPECT_EQ(dbv[size_t(i)], yv[size_t(i)]) << "x = " << xs[size_t(i)];
    }
}

TEST(Activation, ExtremeInputsGiveExactLimits) {
    check_extremes(DType::f64);
    check_extremes(DType::f32);
}

TEST(Activation, BadArgumentsNameTheArgument) {
    Buffer a(DType::f32, {4, 8}), b(DType::f32, {4, 8}), y(DType::f32, {4, 8}), bad(DType::f32, {8, 4});
    Buffer b64(DType::f64, {4, 8}), bf(DType::bf16, {4, 8});
    expect_error([&] { swish_forward(a, bad); }, {"swish", "y", "(8, 4)"});
    expect_error([&] { swish_backward(a, bad, y); }, {"swish", "dy"});
    expect_error([&] { swiglu_forward(a, b64, y); }, {"swiglu", "b", "f64"});
    expect_error([&] { swiglu_forward(a, Tensor(), y); }, {"swiglu", "b", "absent"});
    expect_error([&] { swiglu_backward(a, b, y, y, bad); }, {"swiglu", "db"});
    expect_error([&] { swish_forward(bf, bf); }, {"swish", "bf16"});
}

}  // namespace
