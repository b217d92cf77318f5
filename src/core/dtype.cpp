// dtype.cpp — dtype names, sizes and the f16 / generic conversions (bf16 ones are inline in dtype.h).
#include "core/dtype.h"

#include <cmath>

#include "core/check.h"

namespace hgrn {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::f64: return 8;
        case DType::f32: return 4;
        case DType::bf16: return 2;
        case DType::f16: return 2;
        case DType::i64: return 8;
        case DType::i32: return 4;
    }
    HGRN_FAIL("unknown dtype ", int(t));
}

std::string_view dtype_name(DType t) {
    switch (t) {
        case DType::f64: return "f64";
        case DType::f32: return "f32";
        case DType::bf16: return "bf16";
        case DType::f16: return "f16";
        case DType::i64: return "i64";
        case DType::i32: return "i32";
    }
    return "?";
}

DType dtype_from_name(std::string_view n) {
    if (n == "f64" || n == "F64" || n == "float64" || n == "double") return DType::f64;
    if (n == "f32" || n == "F32" || n == "float32" || n == "float") return DType::f32;
    if (n == "bf16" || n == "BF16" || n == "bfloat16") return DType::bf16;
    if (n == "f16" || n == "F16" || n == "float16" || n == "half") return DType::f16;
    if (n == "i64" || n == "I64" || n == "int64") return DType::i64;
    if (n == "i32" || n == "I32" || n == "int32") return DType::i32;
    HGRN_FAIL("unknown dtype '", n, "' (expected f64, f32, bf16, f16, i64 or i32)");
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, u;
    if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else {  // subnormal: value = mant * 2^-24
            float f = std::ldexp(float(mant), -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

uint16_t f32_to_f16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
    const uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return sign | 0x7e00u;  // NaN
    if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                         // below the smallest normal: subnormal or zero
        float a;
        std::memcpy(&a, &abs, 4);
        return sign | uint16_t(std::nearbyint(a * 16777216.0f));  // a / 2^-24, ties to even
    }
    uint32_t r = abs + 0xfffu + ((abs >> 13) & 1u);  // round mantissa to 10 bits, ties to even
    return sign | uint16_t((r - 0x38000000u) >> 13);
}

namespace {
double load(const void* p, DType t, size_t i) {
    switch (t) {
        case DType::f64: return static_cast<const double*>(p)[i];
        case DType::f32: return static_cast<const float*>(p)[i];
        case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
        case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
        default: HGRN_FAIL("convert: ", dtype_name(t), " is not a floating dtype");
    }
}
void store(void* p, DType t, size_t i, double v) {
    switch (t) {
        case DType::f64: static_cast<double*>(p)[i] = v; break;
        case DType::f32: static_cast<float*>(p)[i] = float(v); break;
        case DType::bf16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(float(v)); break;
        case DType::f16: static_cast<uint16_t*>(p)[i] = f32_to_f16(float(v)); break;
        default: HGRN_FAIL("convert: ", dtype_name(t), " is not a floating dtype");
    }
}
bool is_int(DType t) { return t == DType::i64 || t == DType::i32; }
}  // namespace

void convert(const void* src, DType st, void* dst, DType dt, size_t n) {
    if (st == dt) {
        std::memcpy(dst, src, n * dtype_size(st));
        return;
    }
    HGRN_CHECK(is_int(st) == is_int(dt), "convert: cannot convert ", dtype_name(st), " to ", dtype_name(dt));
    if (is_int(st)) {
        for (size_t i = 0; i < n; ++i) {
            int64_t v = st == DType::i64 ? static_cast<const int64_t*>(src)[i] : static_cast<const int32_t*>(src)[i];
            if (dt == DType::i64) static_cast<int64_t*>(dst)[i] = v;
            else static_cast<int32_t*>(dst)[i] = int32_t(v);
        }
        return;
    }
    if (st == DType::f32 && dt == DType::bf16) {  // the hot conversion, kept exact to f32 rounding
        for (size_t i = 0; i < n; ++i)
            static_cast<uint16_t*>(dst)[i] = f32_to_bf16(static_cast<const float*>(src)[i]);
        return;
    }
    for (size_t i = 0; i < n; ++i) store(dst, dt, i, load(src, st, i));
}

}  // namespace hgrn
