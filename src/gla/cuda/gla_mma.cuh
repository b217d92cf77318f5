// gla_mma.cuh — warp-level tensor-core products for the chunkwise kernels (sm_80 and later): TF32 mma.sync
// m16n8k8 with the split-TF32 variants that give fp32 accuracy where an output is fp32 (dg, dh0), bf16 m16n8k16
// with bf16 hi + lo (+ lo2) splits of fp32 values, and ldmatrix fragment loads.
// Fragment layout (PTX ISA, m16n8k8 .tf32): lane = 4 gr + tg;
//   A (16 x 8): a0 = A[gr][tg], a1 = A[gr + 8][tg], a2 = A[gr][tg + 4], a3 = A[gr + 8][tg + 4]
//   B (8 x 8):  b0 = B[tg][gr], b1 = B[tg + 4][gr]
//   C (16 x 8): c0 = C[gr][2 tg], c1 = C[gr][2 tg + 1], c2 = C[gr + 8][2 tg], c3 = C[gr + 8][2 tg + 1]
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace hgrn::gla_cuda {

// The shared-state-space address of p (for ldmatrix, cp.async, wgmma descriptors).
__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

}  // namespace hgrn::gla_cuda

namespace hgrn::gla_cuda::mma {

// x rounded to TF32 (to nearest, ties away from zero), as an mma operand. inf and NaN stay inf and NaN.
__device__ __forceinline__ uint32_t tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}
// The same rounding in one integer add: x's bits plus half a TF32 ulp (bit 12); the tensor cores read only the
// upper 19 bits of a TF32 operand, so the sum is the rounded operand. nvcc's cvt.rna adds a guard for inf / NaN
// (three instructions where this takes one). Exact for finite x and inf, but a NaN whose upper mantissa bits are
// all set (0x7fffffff, what arithmetic on a NaN gives) wraps to -0: a kernel using it must detect non-finite
// inputs itself (gla_cuda_common.cuh, nonfinite_*) and poison what they reach.
__device__ __forceinline__ uint32_t tf32_fast(float x) { return __float_as_uint(x) + 0x1000u; }
// Its rounded value as an fp32 number (low 13 bits cleared): for the residual x - tf32_fast_value(x) of a split.
__device__ __forceinline__ float tf32_fast_value(float x) { return __uint_as_float(tf32_fast(x) & 0xffffe000u); }
// (Register-only, so not volatile: the compiler may interleave independent products; the order of the products
// into one accumulator is fixed by their data dependence.)
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The same with the A fragment as four registers.
__device__ __forceinline__ void mma(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                    uint32_t b1) {
    const uint32_t a[4] = {a0, a1, a2, a3};
    mma(c, a, b0, b1);
}

// D += A B on bf16 operands (m16n8k16, fp32 accumulation). Fragments (PTX ISA): a0 = A[gr][2tg, 2tg+1],
// a1 = A[gr+8][2tg, 2tg+1], a2 = A[gr][2tg+8, 2tg+9], a3 = A[gr+8][2tg+8, 2tg+9]; b0 = B[2tg, 2tg+1][gr],
// b1 = B[2tg+8, 2tg+9][gr] (the lower column / row in the low half); C as in the TF32 form.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// Four 8 x 8 matrices of 16-bit elements (here: 8 x 4 of 32-bit words) from shared memory, lanes 8 m..8 m + 7
// giving the row addresses of matrix m; lane i receives word i % 4 of row i / 4 of each.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
// The same, each matrix transposed: lane i receives elements (2 (i % 4), i / 4) and (2 (i % 4) + 1, i / 4) of
// each (the B fragment of m16n8k16 from a row-major k x n matrix).
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
// A 16 x 8 block of a row-major fp32 matrix in shared memory (rows r0..r0 + 15, columns k..k + 7; rows 16-byte
// aligned) as the raw bits of an m16n8k8 TF32 fragment, in one ldmatrix (the b16 matrices read as 8 x 4 words):
// r[0] = M[r0 + gr][k + tg], r[1] = M[r0 + 8 + gr][k + tg], r[2] = M[r0 + gr][k + 4 + tg],
// r[3] = M[r0 + 8 + gr][k + 4 + tg]. As an A fragment that is a0..a3; for B stored as rows of columns
// (M[n][k] = B[k][n]) it is b0, b1 of the n-tiles n0 = r0 (r[0], r[2]) and r0 + 8 (r[1], r[3]).
__device__ __forceinline__ void ldsm_f32_16x8(uint32_t (&r)[4], const float* M, int ld, int r0, int k) {
    const int lane = threadIdx.x & 31;
    ldsm_x4(r, smem_u32(M + (r0 + (lane & 7) + 8 * ((lane >> 3) & 1)) * ld + k + 4 * (lane >> 4)));
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
}
// x0, x1 as bf16 pairs hi + lo (+ lo2): 16 (24) significant bits, against TF32's 11 (split TF32's 22).
__device__ __forceinline__ void split_bf16(float x0, float x1, uint32_t& hi, uint32_t& lo) {
    hi = pack_bf16(x0, x1);
    lo = pack_bf16(x0 - __uint_as_float(hi << 16), x1 - __uint_as_float(hi & 0xffff0000u));
}
__device__ __forceinline__ void split_bf16(float x0, float x1, uint32_t& hi, uint32_t& lo, uint32_t& lo2) {
    hi = pack_bf16(x0, x1);
    const float r0 = x0 - __uint_as_float(hi << 16), r1 = x1 - __uint_as_float(hi & 0xffff0000u);
    lo = pack_bf16(r0, r1);
    lo2 = pack_bf16(r0 - __uint_as_float(lo << 16), r1 - __uint_as_float(lo & 0xffff0000u));
}

// Precision of one product: one TF32 product of rounded operands (~1e-3 relative), or split products where
// x = hi + lo (both TF32) so that the result keeps about fp32 accuracy:
enum Prec {
    kTF32 = 1,    // operands rounded to TF32
    kSplit3 = 3,  // both split: Ahi Bhi + Ahi Blo + Alo Bhi
};

// One warp: acc[n] (the 16 x 8 tile n) += sum over k in [k0, k1) of A(r, k) B(k, 8 n + c) fs(8 n + c), r < 16,
// c < 8. fa(r, k), fb(k, c) and the column scale fs(c) return fp32 values (from shared memory); fs is read
// once per call, not per k. k0 and k1 are multiples of 8. Operands rounded by tf32_fast: the caller sees to
// non-finite inputs.
template <int P, int NT, class FA, class FB, class FS>
__device__ __forceinline__ void warp_mma(float (&acc)[NT][4], int k0, int k1, const FA& fa, const FB& fb,
                                         const FS& fs) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
    float sc[NT];
#pragma unroll
    for (int n = 0; n < NT; ++n) sc[n] = fs(8 * n + gr);
#pragma unroll 1
    for (int k = k0; k < k1; k += 8) {
        const float x[4] = {fa(gr, k + tg), fa(gr + 8, k + tg), fa(gr, k + tg + 4), fa(gr + 8, k + tg + 4)};
        uint32_t ah[4], al[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            ah[e] = tf32_fast(x[e]);
            al[e] = P == kSplit3 ? tf32_fast(x[e] - tf32_fast_value(x[e])) : 0u;
        }
        uint32_t bh[NT][2], bl[NT][2];
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const float y0 = fb(k + tg, 8 * n + gr) * sc[n], y1 = fb(k + tg + 4, 8 * n + gr) * sc[n];
            bh[n][0] = tf32_fast(y0);
            bh[n][1] = tf32_fast(y1);
            bl[n][0] = P == kSplit3 ? tf32_fast(y0 - tf32_fast_value(y0)) : 0u;
            bl[n][1] = P == kSplit3 ? tf32_fast(y1 - tf32_fast_value(y1)) : 0u;
        }
        // Per accumulator: small terms first (hi lo, lo hi, then hi hi); the tiles interleaved, so that
        // consecutive products are independent.
        if (P == kSplit3) {
#pragma unroll
            for (int n = 0; n < NT; ++n) mma(acc[n], ah, bl[n][0], bl[n][1]);
#pragma unroll
            for (int n = 0; n < NT; ++n) mma(acc[n], al, bh[n][0], bh[n][1]);
        }
#pragma unroll
        for (int n = 0; n < NT; ++n) mma(acc[n], ah, bh[n][0], bh[n][1]);
    }
}
template <int P, int NT, class FA, class FB>
__device__ __forceinline__ void warp_mma(float (&acc)[NT][4], int k0, int k1, const FA& fa, const FB& fb) {
    warp_mma<P>(acc, k0, k1, fa, fb, [](int) { return 1.f; });  // x * 1.f: folded away
}

// The A fragment of an m16n8k16 bf16 product from a row-major bf16 matrix in shared memory (rows r0..r0 + 15,
// columns k..k + 15; lda in elements, rows 16-byte aligned): one ldmatrix (lane l addresses row (l & 7) +
// 8 ((l >> 3) & 1), columns k + 8 (l >> 4)).
__device__ __forceinline__ void load_a_bf16(uint32_t (&a)[4], const __nv_bfloat16* A, int lda, int r0, int k) {
    const int lane = threadIdx.x & 31;
    const __nv_bfloat16* p = A + (r0 + (lane & 7) + 8 * ((lane >> 3) & 1)) * lda + k + 8 * (lane >> 4);
    ldsm_x4(a, smem_u32(p));
}

// One warp: acc[n] (rows r0.., columns n0 + 8 n..) += sum over k in [k0, k1) of A[r][k] Bn[n0 + 8 n + c][k],
// both bf16 (exact: one m16n8k16 product per 16 k), row-major in shared memory; Bn holds B transposed (a row
// per column of the product). k0, k1 multiples of 16.
template <int NT>
__device__ __forceinline__ void warp_mma_bf16_abt(float (&acc)[NT][4], int k0, int k1, const __nv_bfloat16* A, int lda,
                                                  int r0, const __nv_bfloat16* Bn, int ldb, int n0) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
#pragma unroll 2
    for (int k = k0; k < k1; k += 16) {
        uint32_t a[4];
        load_a_bf16(a, A, lda, r0, k);
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const __nv_bfloat16* b = Bn + (n0 + 8 * n + gr) * ldb + k + 2 * tg;
            mma_bf16(acc[n], a, *reinterpret_cast<const uint32_t*>(b), *reinterpret_cast<const uint32_t*>(b + 8));
        }
    }
}

// One warp, two full-height strips over the same rows of two fp32 matrices: for X in {q, k},
// accX[m][n] (rows 16 m.., columns 8 n..) += sum over k in [k0, k1) of AX[16 m + r][k] BX[n0 + 8 n + c][k], with
// AX bf16 (exact) and BX fp32 split into bf16 hi + lo + lo2 (the fp32 value exactly), all row-major in shared
// memory; and rs[n] += sum over this lane's k of Bq[n0 + 8 n + gr][k] Bk[n0 + 8 n + gr][k] (fp32: the lanes
// tg = 0..3 of a row hold disjoint k, summed by the caller). Each B element is read and split once per warp, so
// a block whose warps own disjoint row strips splits every element once. Three m16n8k16 products per 16 k,
// where split TF32 (22 bits) takes four m16n8k8 products.
template <int M, int NT>
__device__ __forceinline__ void warp_mma_strip2_bf16(float (&accq)[M][NT][4], float (&acck)[M][NT][4], float (&rs)[NT],
                                                     int k0, int k1, const __nv_bfloat16* Aq, const __nv_bfloat16* Ak,
                                                     int lda, const float* Bq, const float* Bk, int ldb, int n0) {
    const int lane = threadIdx.x & 31, gr = lane >> 2, tg = lane & 3;
#pragma unroll 1
    for (int k = k0; k < k1; k += 16) {
        uint32_t bq[NT][3][2], bk[NT][3][2];
#pragma unroll
        for (int n = 0; n < NT; ++n) {
            const int o = (n0 + 8 * n + gr) * ldb + k + 2 * tg;
            const float2 q0 = *reinterpret_cast<const float2*>(Bq + o), q1 = *reinterpret_cast<const float2*>(Bq + o + 8);
            const float2 k0v = *reinterpret_cast<const float2*>(Bk + o), k1v = *reinterpret_cast<const float2*>(Bk + o + 8);
            rs[n] = fmaf(q0.x, k0v.x, fmaf(q0.y, k0v.y, fmaf(q1.x, k1v.x, fmaf(q1.y, k1v.y, rs[n]))));
            split_bf16(q0.x, q0.y, bq[n][0][0], bq[n][1][0], bq[n][2][0]);
            split_bf16(q1.x, q1.y, bq[n][0][1], bq[n][1][1], bq[n][2][1]);
            split_bf16(k0v.x, k0v.y, bk[n][0][0], bk[n][1][0], bk[n][2][0]);
            split_bf16(k1v.x, k1v.y, bk[n][0][1], bk[n][1][1], bk[n][2][1]);
        }
        // Two row strips at a time: per accumulator the small terms first (lo2, lo, then hi), the 4 NT
        // accumulators interleaved so that consecutive products are independent.
        static_assert(M % 2 == 0, "row strips in pairs");
#pragma unroll
        for (int m = 0; m < M; m += 2) {
            uint32_t aq[2][4], ak[2][4];
#pragma unroll
            for (int i = 0; i < 2; ++i) {
                load_a_bf16(aq[i], Aq, lda, 16 * (m + i), k);
                load_a_bf16(ak[i], Ak, lda, 16 * (m + i), k);
            }
#pragma unroll
            for (int part = 2; part >= 0; --part)
#pragma unroll
                for (int i = 0; i < 2; ++i)
#pragma unroll
                    for (int n = 0; n < NT; ++n) {
                        mma_bf16(accq[m + i][n], aq[i], bq[n][part][0], bq[n][part][1]);
                        mma_bf16(acck[m + i][n], ak[i], bk[n][part][0], bk[n][part][1]);
                    }
        }
    }
}

}  // namespace hgrn::gla_cuda::mma
