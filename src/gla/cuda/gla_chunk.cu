// gla_chunk.cu — the chunkwise entry points of the CUDA backend (gla_backends.h).
// Forward: the tensor-core chunk kernel (gla_chunk_fwd.cu) for bf16 q/k/v and head dims it tiles; otherwise
// the general fp32 path (gla_recurrent.cu), which computes the same function token by token.
// Backward: the tensor-core chunk backward (gla_chunk_bwd.cu) for bf16 q/k/v/dout and head dims it tiles;
// otherwise the general fp32 path (token by token, two sweeps; see gla_recurrent.cu).
#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"

namespace hgrn {

int gla_cuda::sm_count() {
    static thread_local int dev_cached = -1, sms = 0;
    int dev = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev != dev_cached) {
        HGRN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        dev_cached = dev;
    }
    return sms;
}

void gla_chunk_forward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out) {
    if (gla_cuda::chunk_forward_tc(in, d, scale, out, nullptr)) return;
    HGRN_CHECK(out.states.empty(), "GLA: chunk states are written on the GPU only by the tensor-core path (bf16 q/k/v/o, "
               "K in {64, 128, 256}, V a multiple of 64, 16-byte aligned); got K = ", d.K, ", V = ", d.V);
    gla_cuda::recurrent_forward(in, d, scale, out, nullptr);
}

void gla_chunk_backward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                             const GlaGrads& grads) {
    if (gla_cuda::chunk_backward_tc(in, d, scale, gout, grads, nullptr)) return;
    gla_cuda::recurrent_backward(in, d, scale, gout, grads, nullptr);
}

}  // namespace hgrn
