// embedding_cpu.cpp — fp32 token embedding on the CPU:
//     y[n, :] = table[ids[n], :]            dtable[ids[n], :] += dy[n, :]
// ids (N) i64 in [0, V) (checked by the dispatcher); table, dtable (V, D); y, dy (N, D).
// Forward: rows split over OpenMP threads. Backward: the same id may repeat, so threads split the D channels
// into blocks and each walks all N ids in order: no races, and the sums' order does not depend on the
// thread count (identical to the reference's order).
#include <algorithm>
#include <cstring>

#include "ops/embedding/embedding_backends.h"

namespace hgrn {
namespace {
// Below this many element operations a parallel region costs more than it saves (decode steps, tests).
constexpr int64_t kParallelMin = int64_t(1) << 15;
constexpr int64_t kChannelBlock = 64;  // channels per task of the backward
}  // namespace

void embedding_forward_cpu(const Tensor& ids, const Tensor& table, const Tensor& y, const EmbeddingDims& d) {
    const int64_t* I = ids.ptr<int64_t>();
    const float* Tb = table.ptr<float>();
    float* Y = y.ptr<float>();
#pragma omp parallel for schedule(static) if (d.N * d.D >= kParallelMin)
    for (int64_t n = 0; n < d.N; ++n) std::memcpy(Y + n * d.D, Tb + I[n] * d.D, size_t(d.D) * sizeof(float));
}

void embedding_backward_cpu(const Tensor& ids, const Tensor& dy, const Tensor& dtable, const EmbeddingDims& d) {
    const int64_t* I = ids.ptr<int64_t>();
    const float* DY = dy.ptr<float>();
    float* DT = dtable.ptr<float>();
    const int64_t blocks = (d.D + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (d.N * d.D >= kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t i0 = blk * kChannelBlock, len = std::min(kChannelBlock, d.D - i0);
        for (int64_t n = 0; n < d.N; ++n) {
            float* dst = DT + I[n] * d.D + i0;
            const float* src = DY + n * d.D + i0;
#pragma omp simd
            for (int64_t i = 0; i < len; ++i) dst[i] += src[i];
        }
    }
}

}  // namespace hgrn
