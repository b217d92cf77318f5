// matmul_cpu.cpp — fp32 linear layer on the CPU through OpenBLAS sgemm (row-major):
//     y  = x · Wᵀ      sgemm(NoTrans, Trans)    (M, K) x (N, K)ᵀ → (M, N), beta 0 or 1 (accumulate)
//     dx = dy · W      sgemm(NoTrans, NoTrans)  (M, N) x (N, K)  → (M, K), beta 0 or 1 (accumulate_dx)
//     dw += dyᵀ · x    sgemm(Trans, NoTrans)    (M, N)ᵀ x (M, K) → (N, K), beta 1
// fp32 inputs, fp32 accumulation inside OpenBLAS. Empty dimensions are handled here, not passed to BLAS
// (a zero leading dimension is an argument error there).
#include <cblas.h>

#include <cstring>
#include <limits>

#include "ops/matmul/matmul_backends.h"

namespace hgrn {
namespace {

// C (rows, cols) = op(A) · op(B) + beta · C, with the inner dimension `inner`; C is zeroed or kept when
// inner == 0. lda / ldb are the row lengths of A and B as stored.
void gemm(bool trans_a, bool trans_b, int64_t rows, int64_t cols, int64_t inner, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C) {
    if (rows == 0 || cols == 0) return;
    if (inner == 0) {
        if (beta == 0.0f) std::memset(C, 0, size_t(rows * cols) * sizeof(float));
        return;
    }
    constexpr int64_t kMaxBlas = std::numeric_limits<int>::max();  // CBLAS takes int sizes
    HGRN_CHECK(rows <= kMaxBlas && cols <= kMaxBlas && inner <= kMaxBlas, "matmul: a dimension of (", rows, ", ", cols,
               ", ", inner, ") exceeds the BLAS int range");
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(rows),
                int(cols), int(inner), 1.0f, A, int(lda), B, int(ldb), beta, C, int(cols));
}

}  // namespace

void matmul_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& y, bool accumulate, const MatmulDims& d) {
    // y (M, N) = x (M, K) · w (N, K)ᵀ
    gemm(false, true, d.M, d.N, d.K, x.ptr<float>(), d.K, w.ptr<float>(), d.K, accumulate ? 1.0f : 0.0f,
         y.ptr<float>());
}

void matmul_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, const Tensor& dx, const Tensor& dw,
                         bool accumulate_dx, const MatmulDims& d) {
    if (!dw.empty())  // dw (N, K) += dy (M, N)ᵀ · x (M, K)
        gemm(true, false, d.N, d.K, d.M, dy.ptr<float>(), d.N, x.ptr<float>(), d.K, 1.0f, dw.ptr<float>());
    if (!dx.empty())  // dx (M, K) = dy (M, N) · w (N, K)
        gemm(false, false, d.M, d.K, d.N, dy.ptr<float>(), d.N, w.ptr<float>(), d.K, accumulate_dx ? 1.0f : 0.0f,
             dx.ptr<float>());
}

}  // namespace hgrn
