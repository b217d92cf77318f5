// tensor_test.cpp — views, buffers, copies, errors that name what was wrong, and the RNG's determinism.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "core/tensor.h"

using namespace hgrn;

TEST(Tensor, ShapesStridesAndSlices) {
    Buffer b(DType::f32, {2, 3, 4});
    Tensor t = b.view();
    EXPECT_EQ(t.numel(), 24);
    EXPECT_EQ(t.stride(0), 12);
    EXPECT_EQ(t.stride(-1), 1);
    EXPECT_TRUE(t.is_contiguous());
    for (int i = 0; i < 24; ++i) b.ptr<float>()[i] = float(i);
    Tensor s = t.slice0(1, 2);
    EXPECT_EQ(s.size(0), 1);
    EXPECT_EQ(s.ptr<float>()[0], 12.0f);
    EXPECT_EQ(t.reshape({6, 4}).size(0), 6);
    EXPECT_THROW(t.reshape({5, 5}), Error);
    EXPECT_THROW(t.ptr<double>(), Error);
    EXPECT_THROW(t.slice0(1, 3), Error);
}

TEST(Tensor, CopyConvertsAndChecksShapes) {
    Buffer a(DType::f32, {4}), b(DType::f64, {4}), c(DType::bf16, {4}), wrong(DType::f64, {5});
    fill(a, 0.75);
    copy(a, b);
    EXPECT_EQ(b.ptr<double>()[3], 0.75);
    copy(b, c);
    EXPECT_EQ(bf16_to_f32(c.view().reshape({4}).ptr<bf16>()[2].bits), 0.75f);
    EXPECT_THROW(copy(a, wrong), Error);
}

TEST(Tensor, CheckShapeNamesTheArgument) {
    Buffer a(DType::f32, {2, 3});
    try {
        check_shape(a, "dq", {2, 4});
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("dq"), std::string::npos) << m;
        EXPECT_NE(m.find("(2, 4)"), std::string::npos) << m;
        EXPECT_NE(m.find("tensor.cpp:"), std::string::npos) << m;
    }
    EXPECT_THROW(check_shape(Tensor(), "h0", {1}), Error);
}

TEST(Rng, DeterministicAndDistributed) {
    Rng a(42), b(42), c(43);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
    EXPECT_NE(a.next_u64(), c.next_u64());
    Rng r(7);
    double sum = 0, sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double x = r.normal();
        sum += x;
        sq += x * x;
    }
    EXPECT_NEAR(sum / n, 0.0, 0.01);
    EXPECT_NEAR(sq / n, 1.0, 0.02);
    for (int i = 0; i < 1000; ++i) {
        const double u = r.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
    }
}
