// dtype.h — element types and conversions.
// f64, f32, bf16 (1-8-7, round-to-nearest-even from f32), f16 (IEEE binary16), and integer ids (i32, i64).
// bf16 and f16 are stored as uint16_t bit patterns on the CPU; arithmetic is always done in f32 or f64.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace hgrn {

enum class DType : uint8_t { f64, f32, bf16, f16, i64, i32 };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
DType dtype_from_name(std::string_view name);  // "f32", "F32", "float32", "bf16", ... ; throws on unknown

struct bf16 {
    uint16_t bits = 0;
};
struct f16 {
    uint16_t bits = 0;
};

inline float bf16_to_f32(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline uint16_t f32_to_bf16(float f) {  // round to nearest even; NaN stays NaN
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round to nearest even, overflow to inf

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<double>() { return DType::f64; }
template <>
constexpr DType dtype_of<float>() { return DType::f32; }
template <>
constexpr DType dtype_of<bf16>() { return DType::bf16; }
template <>
constexpr DType dtype_of<f16>() { return DType::f16; }
template <>
constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <>
constexpr DType dtype_of<int32_t>() { return DType::i32; }

// Converts n elements between any two floating dtypes (or between the integer ones) on the CPU.
void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n);

}  // namespace hgrn
