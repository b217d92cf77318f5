// matmul_test.cpp — y = x·Wᵀ: the float64 reference backward against finite differences, the fp32 OpenBLAS
// path against the reference (awkward shapes, 3-D x), the overwrite / accumulate semantics, and argument errors.
#include "ops/matmul/matmul.h"

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240501;

TEST(Matmul, RefBackwardMatchesFiniteDifferences) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    Buffer x = randn({2, 3, 5}, rng), w = randn({4, 5}, rng), R = randn({2, 3, 4}, rng);
    Buffer y(DType::f64, {2, 3, 4}), dx(DType::f64, {2, 3, 5}), dw(DType::f64, {4, 5});
    const auto loss = [&] {
        matmul_forward(x, w, y);
        return dot(y, R);
    };
    matmul_backward(x, w, R, dx, dw);
    expect_grad_matches_fd("dx", dx, x, loss);
    expect_grad_matches_fd("dw", dw, w, loss);
}

TEST(Matmul, ForwardMatchesDirectSum) {
    Buffer x(DType::f64, {1, 2}), w(DType::f64, {3, 2}), y(DType::f64, {1, 3});
    const double xv[] = {2, -1}, wv[] = {1, 0, 0, 1, 3, 4};
    for (int i = 0; i < 2; ++i) x.ptr<double>()[i] = xv[i];
    for (int i = 0; i < 6; ++i) w.ptr<double>()[i] = wv[i];
    matmul_forward(x, w, y);
    EXPECT_EQ(values(y), (std::vector<double>{2, -1, 2}));
}

struct MmShape {
    int64_t M, N, K;
};

TEST(Matmul, F32MatchesReference) {
    for (const MmShape s : {MmShape{1, 1, 1}, MmShape{37, 19, 33}, MmShape{128, 64, 96}, MmShape{5, 300, 7}}) {
        const uint64_t seed = kSeed + uint64_t(s.M * 1000 + s.N * 10 + s.K);
        SCOPED_TRACE("seed " + std::to_string(seed) + " M,N,K = " + std::to_string(s.M) + "," + std::to_string(s.N) +
                     "," + std::to_string(s.K));
        Rng rng(seed);
        Buffer x = randn({s.M, s.K}, rng), w = randn({s.N, s.K}, rng), dy = randn({s.M, s.N}, rng);
        Buffer y(DType::f64, {s.M, s.N}), dx(DType::f64, {s.M, s.K}), dw = randn({s.N, s.K}, rng);
        Buffer x32 = as(x, DType::f32), w32 = as(w, DType::f32), dy32 = as(dy, DType::f32), dw32 = as(dw, DType::f32);
        Buffer y32 = nan_buffer(DType::f32, {s.M, s.N}), dx32 = nan_buffer(DType::f32, {s.M, s.K});
        matmul_forward(x, w, y);
        matmul_forward(x32, w32, y32);
        matmul_backward(x, w, dy, dx, dw);
        matmul_backward(x32, w32, dy32, dx32, dw32);
        HGRN_EXPECT_CLOSE("y", y32.view(), y.view(), kTolF32);
        HGRN_EXPECT_CLOSE("dx", dx32.view(), dx.view(), kTolF32);
        HGRN_EXPECT_CLOSE("dw", dw32.view(), dw.view(), kTolF32);
    }
}

// y += with accumulate, dx += with accumulate_dx, dw += always; absent dx / dw are skipped.
void check_accumulate(DType dt) {
    SCOPED_TRACE(std::string("dtype ") + std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    Buffer x = randn({6, 8}, rng, 1, dt), w = randn({5, 8}, rng, 1, dt), dy = randn({6, 5}, rng, 1, dt);
    Buffer y(dt, {6, 5}), y2 = randn({6, 5}, rng, 1, dt), dx(dt, {6, 8}), dx2(dt, {6, 8}), dw(dt, {5, 8});
    const std::vector<double> y2_before = values(y2);
    matmul_forward(x, w, y);
    matmul_forward(x, w, y2, /*accumulate=*/true);
    std::vector<double> expect = values(y);
    for (size_t i = 0; i < expect.size(); ++i) expect[i] += y2_before[i];
    HGRN_EXPECT_CLOSE("y accumulate", values(y2), expect, kTolF32);

    matmul_backward(x, w, dy, dx, dw);
    const std::vector<double> dw1 = values(dw), dx1 = values(dx);
    matmul_backward(x, w, dy, dx, dw);  // dx overwritten, dw doubled
    EXPECT_EQ(values(dx), dx1);
    std::vector<double> dw_twice = dw1;
    for (double& v : dw_twice) v *= 2;
    HGRN_EXPECT_CLOSE("dw twice", values(dw), dw_twice, 1e-6);

    fill(dx2, 1.0);
    matmul_backward(x, w, dy, dx2, Tensor(), /*accumulate_dx=*/true);
    std::vector<double> dx_plus = dx1;
    for (double& v : dx_plus) v += 1;
    HGRN_EXPECT_CLOSE("dx accumulate", values(dx2), dx_plus, 1e-6);
    matmul_backward(x, w, dy, Tensor(), dw);  // dw only: a third copy
    for (size_t i = 0; i < dw1.size(); ++i) dw_twice[i] += dw1[i];
    HGRN_EXPECT_CLOSE("dw thrice", values(dw), dw_twice, 1e-6);
}

TEST(Matmul, AccumulateSemanticsRef) { check_accumulate(DType::f64); }
TEST(Matmul, AccumulateSemanticsF32) { check_accumulate(DType::f32); }

TEST(Matmul, BadArgumentsNameTheArgument) {
    Buffer x(DType::f32, {4, 3}), w(DType::f32, {5, 3}), y(DType::f32, {4, 5}), dy(DType::f32, {4, 5});
    Buffer w_bad(DType::f32, {5, 2}), y_bad(DType::f32, {3, 5}), w64(DType::f64, {5, 3}), dw_bad(DType::f32, {3, 5});
    Buffer dx_bad(DType::f32, {4, 4}), xi(DType::i64, {4, 3}), w1(DType::f32, {15});
    expect_error([&] { matmul_forward(x, w_bad, y); }, {"matmul", "x (4, 3)", "w (5, 2)", "K"});
    expect_error([&] { matmul_forward(x, w, y_bad); }, {"matmul", "y", "rows"});
    expect_error([&] { matmul_forward(x, w64, y); }, {"matmul", "w", "f64"});
    expect_error([&] { matmul_forward(x, w1, y); }, {"matmul", "w", "(N, K)"});
    expect_error([&] { matmul_forward(x, Tensor(), y); }, {"matmul", "w", "absent"});
    expect_error([&] { matmul_forward(xi, w, y); }, {"matmul", "i64"});
    expect_error([&] { matmul_backward(x, w, dy, Tensor(), dw_bad); }, {"matmul", "dw"});
    expect_error([&] { matmul_backward(x, w, dy, dx_bad, Tensor()); }, {"matmul", "dx"});
    expect_error([&] { matmul_backward(x, w, y_bad, Tensor(), Tensor()); }, {"matmul", "dy"});
}

}  // namespace
