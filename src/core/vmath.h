// vmath.h — element-wise math that GCC vectorises inside plain loops (std::exp does not without -ffast-math).
// exp_f32: Cephes' expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so n ln2 is exact), a degree-6
// polynomial for e^r (about 1-2 ulp on [-87, 88]), times 2^n built in the exponent bits. x < -87 flushes to 0
// (the true value is below 1.7e-38, so no denormal is produced), x > 88 gives +inf, NaN stays NaN.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace hgrn {

inline float exp_f32(float x) {
    constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer held in the low bits
    const float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float t = xc * kLog2e + kRound;
    const float n = t - kRound;
    const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRound);
    const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * (r * r) + r + 1.0f;
    const float y = er * std::bit_cast<float>((ni + 127) << 23);
    return x < -87.0f ? 0.0f : (x > 88.0f ? std::numeric_limits<float>::infinity() : y);
}

}  // namespace hgrn
