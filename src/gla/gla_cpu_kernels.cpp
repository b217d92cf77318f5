// gla_cpu_kernels.cpp — the register-tiled GEMM, the blocked transpose, the scratch arena and the denormal
// guard of the fp32 CPU GLA path (see gla_cpu_kernels.h). fp32 throughout, fp32 accumulation.
#include "gla/gla_cpu_kernels.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace hgrn::gla_cpu {
namespace {

constexpr int kTileRows = 6;  // rows of C per register tile (6 x 4 accumulators + 4 B vectors fit 32 zmm)
constexpr int kTileVecs = 4;  // Vec16 columns of C per register tile (64 floats)

// One register tile: MR rows x NV vectors of C, summed over p in [p0, p1).
template <int MR, int NV>
void gemm_tile(int p0, int p1, const float* a, ptrdiff_t ars, ptrdiff_t acs, const float* b, ptrdiff_t ldb, float* c,
               ptrdiff_t ldc, const GemmOpts& o, const float* col_scale) {
    Vec16 acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int x = 0; x < NV; ++x) {
            if (!o.accumulate) {
                acc[i][x] = Vec16{};
                continue;
            }
            acc[i][x] = load((o.c_in ? o.c_in : c) + i * ldc + x * kLanes);
            if (o.row_scale) acc[i][x] *= o.row_scale[i];
            if (col_scale) acc[i][x] *= load(col_scale + x * kLanes);
        }
    for (int p = p0; p < p1; ++p) {
        Vec16 bv[NV];
#pragma GCC unroll 4
        for (int x = 0; x < NV; ++x) {
            bv[x] = load(b + p * ldb + x * kLanes);
#if defined(__AVX512F__)
            asm("" : "+v"(bv[x]));  // keep B in registers: GCC would re-read it from memory for every row
#endif
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            const float av = a[i * ars + p * acs];
#pragma GCC unroll 4
            for (int x = 0; x < NV; ++x) acc[i][x] += av * bv[x];
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int x = 0; x < NV; ++x) store(c + i * ldc + x * kLanes, acc[i][x]);
}

using TileFn = void (*)(int, int, const float*, ptrdiff_t, ptrdiff_t, const float*, ptrdiff_t, float*, ptrdiff_t,
                        const GemmOpts&, const float*);

template <int MR>
constexpr TileFn tile_for(int nv) {
    switch (nv) {
        case 1:
            return gemm_tile<MR, 1>;
        case 2:
            return gemm_tile<MR, 2>;
        case 3:
            return gemm_tile<MR, 3>;
        default:
            return gemm_tile<MR, 4>;
    }
}

TileFn pick_tile(int mr, int nv) {
    switch (mr) {
        case 1:
            return tile_for<1>(nv);
        case 2:
            return tile_for<2>(nv);
        case 3:
            return tile_for<3>(nv);
        case 4:
            return tile_for<4>(nv);
        case 5:
            return tile_for<5>(nv);
        default:
            return tile_for<6>(nv);
    }
}

// Register transpose of one 16 x 16 block: at level B, rows i and i + B swap their off-diagonal B-wide halves.
template <int B, size_t... J>
inline Vec16 mix_lo(Vec16 lo, Vec16 hi, std::index_sequence<J...>) {
    return __builtin_shufflevector(lo, hi, ((J & B) ? int(16 + J - B) : int(J))...);
}
template <int B, size_t... J>
inline Vec16 mix_hi(Vec16 lo, Vec16 hi, std::index_sequence<J...>) {
    return __builtin_shufflevector(lo, hi, ((J & B) ? int(16 + J) : int(J + B))...);
}
template <int B>
inline void transpose_level(Vec16* r) {
    for (int i = 0; i < kLanes; ++i)
        if (!(i & B)) {
            const Vec16 lo = r[i], hi = r[i + B];
            r[i] = mix_lo<B>(lo, hi, std::make_index_sequence<kLanes>{});
            r[i + B] = mix_hi<B>(lo, hi, std::make_index_sequence<kLanes>{});
        }
}

void transpose_16x16(const float* src, ptrdiff_t lds, float* dst, ptrdiff_t ldd) {
    Vec16 r[kLanes];
    for (int i = 0; i < kLanes; ++i) r[i] = load(src + i * lds);
    transpose_level<8>(r);
    transpose_level<4>(r);
    transpose_level<2>(r);
    transpose_level<1>(r);
    for (int i = 0; i < kLanes; ++i) store(dst + i * ldd, r[i]);
}

}  // namespace

void gemm(int M, int N, int P, MatA a, MatB b, MatC c, const GemmOpts& o) {
    for (int n0 = 0; n0 < N; n0 += kTileVecs * kLanes) {
        const int nv = std::min(kTileVecs, (N - n0) / kLanes);
        const float* cs = o.col_scale ? o.col_scale + n0 : nullptr;
        for (int i0 = 0; i0 < M; i0 += kTileRows) {
            const int mr = std::min(kTileRows, M - i0);
            int p0 = 0, p1 = P;
            if (o.tri == Tri::p_le_i) p1 = std::min(P, i0 + mr);
            if (o.tri == Tri::p_ge_i) p0 = std::min(P, i0);
            int nvt = nv;
            if (o.tri == Tri::n_le_i) {  // only the vectors that hold some column n <= i
                if (n0 > i0 + mr - 1) continue;
                nvt = std::min(nv, (i0 + mr - n0 + kLanes - 1) / kLanes);
            }
            GemmOpts ot = o;
            if (o.row_scale) ot.row_scale = o.row_scale + i0;
            if (o.c_in) ot.c_in = o.c_in + i0 * c.ld + n0;
            pick_tile(mr, nvt)(p0, p1, a.p + i0 * a.rs, a.rs, a.cs, b.p + n0, b.ld, c.p + i0 * c.ld + n0, c.ld, ot, cs);
        }
    }
}

void transpose(const float* src, ptrdiff_t lds, float* dst, ptrdiff_t ldd, int rows, int cols) {
    for (int r0 = 0; r0 < rows; r0 += kLanes)
        for (int c0 = 0; c0 < cols; c0 += kLanes) transpose_16x16(src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
}

float* Arena::floats(int64_t n) {
    float* p = base_ ? base_ + used_ : nullptr;
    used_ += round_up(n, kLanes);
    HGRN_CHECK(!base_ || used_ <= size_, "GLA CPU scratch overflow: ", used_, " > ", size_, " floats");
    return p;
}

double* Arena::doubles(int64_t n) { return reinterpret_cast<double*>(floats(2 * n)); }

namespace {
struct ScratchCache {
    float* p = nullptr;
    int64_t n = 0;
    bool busy = false;
    ~ScratchCache() { std::free(p); }
};
thread_local ScratchCache scratch_cache;
}  // namespace

Scratch::Scratch(int64_t floats) : n_(std::max<int64_t>(floats, kLanes)) {
    ScratchCache& c = scratch_cache;
    if (!c.busy && c.n >= n_) {
        p_ = c.p, cached_ = true, c.busy = true;
        return;
    }
    p_ = static_cast<float*>(std::aligned_alloc(64, size_t(round_up(n_, kLanes)) * sizeof(float)));
    HGRN_CHECK(p_, "GLA CPU: out of memory allocating ", n_ * 4, " bytes of scratch");
}

Scratch::~Scratch() {
    ScratchCache& c = scratch_cache;
    if (cached_) {
        c.busy = false;
        return;
    }
    if (!c.busy && n_ * int64_t(sizeof(float)) <= kScratchKeepBytes && n_ > c.n) {
        std::free(c.p);
        c.p = p_, c.n = n_;
        return;
    }
    std::free(p_);
}

#if defined(__SSE__)
FlushDenormals::FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
FlushDenormals::~FlushDenormals() { _mm_setcsr(saved_); }
#else
FlushDenormals::FlushDenormals() {}
FlushDenormals::~FlushDenormals() {}
#endif

}  // namespace hgrn::gla_cpu
