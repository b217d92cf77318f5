// dtype_test.cpp — bf16 / f16 conversions (rounding, specials) and the generic converter.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/check.h"
#include "core/dtype.h"

using namespace hgrn;

TEST(DType, Bf16RoundsToNearestEven) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
    // 1 + 2^-8 is exactly half-way between 1 and 1 + 2^-7: ties to even (1.0).
    EXPECT_EQ(f32_to_bf16(1.0f + 0x1.0p-8f), 0x3f80);
    // 1 + 3 * 2^-8 is half-way between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6, mantissa 2).
    EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1.0p-8f), 0x3f82);
    EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_EQ(bf16_to_f32(f32_to_bf16(-INFINITY)), -INFINITY);
}

TEST(DType, F16RoundTripAndSpecials) {
    for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 0x1.0p-24f, 0x1.0p-14f, 1234.0f}) EXPECT_EQ(f16_to_f32(f32_to_f16(v)), v) << v;
    EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(f16_to_f32(f32_to_f16(1234.5f)), 1234.0f);  // spacing 1 there: tie to even
    EXPECT_EQ(f16_to_f32(f32_to_f16(1235.5f)), 1236.0f);
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds up to infinity
    EXPECT_EQ(f32_to_f16(-1e9f), 0xfc00);
    EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
    EXPECT_EQ(f32_to_f16(1.0f + 0x1.0p-11f), 0x3c00);  // tie to even
    EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1.0p-11f), 0x3c02);
}

TEST(DType, ConvertAndNames) {
    const double src[3] = {1.5, -2.25, 1e-3};
    float f[3];
    convert(src, DType::f64, f, DType::f32, 3);
    EXPECT_EQ(f[1], -2.25f);
    int64_t ids[2] = {7, -1};
    int32_t ids32[2];
    convert(ids, DType::i64, ids32, DType::i32, 2);
    EXPECT_EQ(ids32[0], 7);
    EXPECT_THROW(convert(ids, DType::i64, f, DType::f32, 2), Error);
    EXPECT_EQ(dtype_from_name("BF16"), DType::bf16);
    EXPECT_EQ(dtype_size(DType::f16), 2u);
    EXPECT_THROW(dtype_from_name("q4_0"), Error);
}
