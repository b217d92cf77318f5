// projection.cpp — projection + optional causal short conv, forward and backward (see projection.h).
#include "model/projection.h"

#include "model/workspace.h"
#include "ops/matmul/matmul.h"
#include "ops/short_conv/short_conv.h"

namespace hgrn {

Tensor projection_forward(const Tensor& x, const Tensor& w, const Tensor& conv_w, const Tensor& cache, Buffer& pre,
                          Buffer& post, Buffer& cache_copy, bool keep_cache) {
    const Shape sh{x.size(0), x.size(1), w.size(0)};
    const Tensor a = ensure(pre, x.dtype(), sh);
    matmul_forward(x, w, a);
    if (conv_w.empty()) return a;
    const Tensor b = ensure(post, x.dtype(), sh);
    if (keep_cache && !cache.empty()) copy(cache, ensure(cache_copy, cache.dtype(), cache.shape()));
    short_conv_forward(a, conv_w, cache, b, cache);
    return b;
}

void projection_backward(const Tensor& x, const Tensor& w, const Tensor& conv_w, const Tensor& pre,
                         const Tensor& dpost, Buffer& dpre_buf, const Tensor& cache_in, const Tensor& dx,
                         const Tensor& dw, const Tensor& dconv, bool first) {
    Tensor dpre = dpost;
    if (!conv_w.empty()) {
        dpre = ensure(dpre_buf, dpost.dtype(), dpost.shape());
        short_conv_backward(pre, conv_w, cache_in, dpost, dpre, dconv, Tensor());
    }
    matmul_backward(x, w, dpre, dx, dw, /*accumulate_dx=*/!first);
}

}  // namespace hgrn
