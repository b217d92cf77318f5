// gla_cpu_kernels.h — building blocks of the fp32 CPU GLA path (internal to src/gla, gla_cpu_*.cpp only).
//   Vec16      16 floats in one GCC/Clang vector (one AVX-512 register with -march=native; the compiler splits
//              it into narrower registers elsewhere), loaded and stored unaligned.
//   exp_f32    a branch-free exp that vectorises inside plain loops (Cephes polynomial, ~2 ulp on [-87, 88]).
//   gemm       C (+)= A B for the small products of the chunkwise algorithm (C x K times K x V and the like):
//              register tiles of 6 rows x 64 columns, A read by (strided) scalar broadcasts, B and C rows
//              contiguous with N a multiple of 16. Optional row/column scaling of C on load, and triangular
//              limits so that causal products skip the zero half.
//   transpose  16 x 16 blocks through register shuffles.
//   Arena      one per-thread scratch buffer handed out in 64-byte aligned pieces.
// All fp32 with fp32 accumulation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/vmath.h"

#include "core/tensor.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // 64-byte vectors without AVX-512: everything here is inline

namespace hgrn::gla_cpu {

constexpr int kLanes = 16;  // floats per Vec16; padded head dims are multiples of it
typedef float Vec16 __attribute__((vector_size(64)));
typedef int32_t Int16 __attribute__((vector_size(64)));

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

inline Vec16 load(const float* p) {
    Vec16 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, Vec16 v) { std::memcpy(p, &v, sizeof v); }

using hgrn::exp_f32;  // core/vmath.h

// Element (i, p) of A is p[i * rs + p * cs].
struct MatA {
    const float* p;
    ptrdiff_t rs, cs;
};
// Row r at p + r * ld, contiguous.
struct MatB {
    const float* p;
    ptrdiff_t ld;
};
struct MatC {
    float* p;
    ptrdiff_t ld;
};

// Which part of a triangular product to compute, relative to the output row i:
//   p_le_i : A(i, p) is zero for p > i, so the sum stops at the tile's last row;
//   p_ge_i : A(i, p) is zero for p < i, so the sum starts at the tile's first row;
//   n_le_i : only columns n <= i are wanted; column blocks entirely above the tile are left unwritten and the
//            rest of the tile's upper part comes out arbitrary (the caller masks it).
enum class Tri { none, p_le_i, p_ge_i, n_le_i };

struct GemmOpts {
    bool accumulate = false;  // C = A B (false) or C = C * scales + A B (true)
    Tri tri = Tri::none;
    const float* row_scale = nullptr;  // (M): C(i, :) *= row_scale[i] before accumulating
    const float* col_scale = nullptr;  // (N): C(:, n) *= col_scale[n] before accumulating
    const float* c_in = nullptr;       // accumulate onto this matrix (same layout as C) instead of C itself
};

// C (M x N) (+)= A (M x P) B (P x N); N % 16 == 0; M, P any (P may be 0).
void gemm(int M, int N, int P, MatA a, MatB b, MatC c, const GemmOpts& o = {});

// dst (cols x rows) = src (rows x cols)^T; rows and cols multiples of 16.
void transpose(const float* src, ptrdiff_t lds, float* dst, ptrdiff_t ldd, int rows, int cols);

// Per-thread scratch: one zeroed, 64-byte aligned buffer per call, carved into named pieces.
class Arena {
  public:
    Arena() = default;
    Arena(float* base, int64_t size) : base_(base), size_(size) {}
    float* floats(int64_t n);    // n floats, rounded up to 16
    double* doubles(int64_t n);  // n doubles, rounded up to 8
    int64_t used() const { return used_; }

  private:
    float* base_ = nullptr;
    int64_t size_ = 0, used_ = 0;
};

// Scratch memory for one call, uninitialised, 64-byte aligned. The calling thread keeps its largest block (up to
// kScratchKeepBytes) for the next call, so that a training or decoding loop neither page-faults nor re-zeroes
// fresh pages on every call; bigger blocks are freed when the call ends.
constexpr int64_t kScratchKeepBytes = int64_t(64) << 20;
class Scratch {
  public:
    explicit Scratch(int64_t floats);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    float* data() const { return p_; }

  private:
    float* p_ = nullptr;
    int64_t n_ = 0;
    bool cached_ = false;
};

// Sets flush-to-zero and denormals-are-zero for the calling thread and restores the old mode on exit:
// values below 1.2e-38 are far below the fp32 resolution of any output and denormal arithmetic is slow.
class FlushDenormals {
  public:
    FlushDenormals();
    ~FlushDenormals();
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

  private:
    unsigned saved_ = 0;
};

}  // namespace hgrn::gla_cpu
