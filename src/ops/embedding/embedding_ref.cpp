// embedding_ref.cpp — float64 reference of the token embedding:
//     y[n, :] = table[ids[n], :]            dtable[ids[n], :] += dy[n, :]   (in order n = 0, 1, ...)
// ids (N) i64 in [0, V) (checked by the dispatcher); table, dtable (V, D); y, dy (N, D).
#include "ops/embedding/embedding_backends.h"

namespace hgrn {

void embedding_forward_ref(const Tensor& ids, const Tensor& table, const Tensor& y, const EmbeddingDims& d) {
    const int64_t* I = ids.ptr<int64_t>();
    const double* Tb = table.ptr<double>();
    double* Y = y.ptr<double>();
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t i = 0; i < d.D; ++i) Y[n * d.D + i] = Tb[I[n] * d.D + i];
}

void embedding_backward_ref(const Tensor& ids, const Tensor& dy, const Tensor& dtable, const EmbeddingDims& d) {
    const int64_t* I = ids.ptr<int64_t>();
    const double* DY = dy.ptr<double>();
    double* DT = dtable.ptr<double>();
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t i = 0; i < d.D; ++i) DT[I[n] * d.D + i] += DY[n * d.D + i];
}

}  // namespace hgrn
