// rmsnorm_test.cpp — RMSNorm: the float64 reference backward against finite differences (with and without w,
// two eps), the fp32 path against the reference, dx overwrite / accumulate and dw accumulation, rstd in a
// (B, T) shape, and argument errors.
#include "ops/rmsnorm/rmsnorm.h"

#include <cmath>

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240502;

void check_fd(bool with_w, double eps) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + (with_w ? " with w" : " no w") + " eps " + std::to_string(eps));
    Rng rng(kSeed);
    const int64_t B = 2, T = 3, D = 7;
    Buffer x = randn({B, T, D}, rng), w = randn({D}, rng), R = randn({B, T, D}, rng);
    Buffer y(DType::f64, {B, T, D}), rstd(DType::f64, {B * T}), dx(DType::f64, {B, T, D}), dw(DType::f64, {D});
    const Tensor wt = with_w ? w.view() : Tensor();
    const auto loss = [&] {
        rmsnorm_forward(x, wt, eps, y, rstd);
        return dot(y, R);
    };
    loss();
    rmsnorm_backward(x, wt, rstd, R, dx, with_w ? dw.view() : Tensor());
    expect_grad_matches_fd("dx", dx, x, loss);
    if (with_w) expect_grad_matches_fd("dw", dw, w, loss);
}

TEST(Rmsnorm, RefBackwardMatchesFiniteDifferences) {
    check_fd(true, 1e-5);
    check_fd(false, 1e-5);
    check_fd(true, 0.5);  // a large eps, so the eps term of the gradient is visible
}

TEST(Rmsnorm, ForwardMatchesDefinition) {
    Buffer x(DType::f64, {1, 2}), w(DType::f64, {2}), y(DType::f64, {1, 2}), rstd(DType::f64, {1});
    x.ptr<double>()[0] = 3;
    x.ptr<double>()[1] = 4;
    w.ptr<double>()[0] = 2;
    w.ptr<double>()[1] = -1;
    rmsnorm_forward(x, w, 0.5, y, rstd);
    const double r = 1 / std::sqrt(12.5 + 0.5);  // mean(9, 16) + eps
    EXPECT_DOUBLE_EQ(rstd.ptr<double>()[0], r);
    EXPECT_DOUBLE_EQ(y.ptr<double>()[0], 6 * r);
    EXPECT_DOUBLE_EQ(y.ptr<double>()[1], -4 * r);
}

TEST(Rmsnorm, F32MatchesReference) {
    for (const int64_t D : {1, 7, 64, 1000}) {
        for (const bool with_w : {true, false}) {
            const uint64_t seed = kSeed + uint64_t(D) * 2 + with_w;
            SCOPED_TRACE("seed " + std::to_string(seed) + " D " + std::to_string(D) + (with_w ? " with w" : ""));
            Rng rng(seed);
            const int64_t N = 33;
            Buffer x = randn({N, D}, rng, 3.0), w = randn({D}, rng), dy = randn({N, D}, rng), dw = randn({D}, rng);
            Buffer y(DType::f64, {N, D}), rstd(DType::f64, {N}), dx(DType::f64, {N, D});
            Buffer x32 = as(x, DType::f32), w32 = as(w, DType::f32), dy32 = as(dy, DType::f32),
                   dw32 = as(dw, DType::f32);
            Buffer y32 = nan_buffer(DType::f32, {N, D}), r32 = nan_buffer(DType::f32, {N});
            Buffer dx32 = nan_buffer(DType::f32, {N, D});
            const Tensor wt = with_w ? w.view() : Tensor(), wt32 = with_w ? w32.view() : Tensor();
            rmsnorm_forward(x, wt, 1e-5, y, rstd);
            rmsnorm_forward(x32, wt32, 1e-5, y32, r32);
            rmsnorm_backward(x, wt, rstd, dy, dx, with_w ? dw.view() : Tensor());
            rmsnorm_backward(x32, wt32, r32, dy32, dx32, with_w ? dw32.view() : Tensor());
            HGRN_EXPECT_CLOSE("y", y32.view(), y.view(), kTolF32);
            HGRN_EXPECT_CLOSE("rstd", r32.view(), rstd.view(), kTolF32);
            HGRN_EXPECT_CLOSE("dx", dx32.view(), dx.view(), kTolF32);
            if (with_w) HGRN_EXPECT_CLOSE("dw", dw32.view(), dw.view(), kTolF32);
        }
    }
}

void check_accumulate(DType dt) {
    SCOPED_TRACE(std::string("dtype ") + std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t B = 2, T = 5, D = 70;
    Buffer x = randn({B, T, D}, rng, 1, dt), w = randn({D}, rng, 1, dt), dy = randn({B, T, D}, rng, 1, dt);
    Buffer y(dt, {B, T, D}), rstd(dt, {B, T}), dx(dt, {B, T, D}), dx_acc = randn({B, T, D}, rng, 1, dt), dw(dt, {D});
    const std::vector<double> acc_before = values(dx_acc);
    rmsnorm_forward(x, w, 1e-5, y, rstd);  // rstd as (B, T): N values in the caller's shape
    rmsnorm_backward(x, w, rstd, dy, dx, dw);
    const std::vector<double> dx1 = values(dx), dw1 = values(dw);
    rmsnorm_backward(x, w, rstd, dy, dx_acc, dw, /*accumulate_dx=*/true);
    std::vector<double> want = acc_before, dw2 = dw1;
    for (size_t i = 0; i < want.size(); ++i) want[i] += dx1[i];
    for (double& v : dw2) v *= 2;
    HGRN_EXPECT_CLOSE("dx accumulate", values(dx_acc), want, 1e-6);
    HGRN_EXPECT_CLOSE("dw twice", values(dw), dw2, 1e-6);
    // dx may be dy itself (overwrite): the same values as into a separate buffer.
    Buffer dy_alias = clone(dy);
    rmsnorm_backward(x, w, rstd, dy_alias, dy_alias, Tensor());
    EXPECT_EQ(values(dy_alias), dx1);
}

TEST(Rmsnorm, AccumulateSemanticsRef) { check_accumulate(DType::f64); }
TEST(Rmsnorm, AccumulateSemanticsF32) { check_accumulate(DType::f32); }

TEST(Rmsnorm, BadArgumentsNameTheArgument) {
    Buffer x(DType::f32, {4, 8}), w(DType::f32, {8}), y(DType::f32, {4, 8}), rstd(DType::f32, {4});
    Buffer w_bad(DType::f32, {7}), y_bad(DType::f32, {4, 7}), r_bad(DType::f32, {3}), w64(DType::f64, {8});
    expect_error([&] { rmsnorm_forward(x, w_bad, 1e-5, y, rstd); }, {"rmsnorm", "w", "(8)"});
    expect_error([&] { rmsnorm_forward(x, w, 1e-5, y_bad, rstd); }, {"rmsnorm", "y"});
    expect_error([&] { rmsnorm_forward(x, w, 1e-5, y, r_bad); }, {"rmsnorm", "rstd"});
    expect_error([&] { rmsnorm_forward(x, w64, 1e-5, y, rstd); }, {"rmsnorm", "w", "f64"});
    expect_error([&] { rmsnorm_forward(x, w, -1.0, y, rstd); }, {"rmsnorm", "eps"});
    expect_error([&] { rmsnorm_backward(x, w, Tensor(), y, y, w); }, {"rmsnorm", "rstd", "absent"});
    expect_error([&] { rmsnorm_backward(x, Tensor(), rstd, y, y, w); }, {"rmsnorm", "dw", "w is absent"});
    expect_error([&] { rmsnorm_backward(x, w, rstd, y_bad, y, w); }, {"rmsnorm", "dy"});
}

}  // namespace
