// gla_cuda_stub.cpp — the CUDA entry points of gla_backends.h in a build without CUDA: each throws.
#include "core/check.h"
#include "gla/gla_backends.h"

namespace hgrn {

#define HGRN_GLA_NO_CUDA HGRN_FAIL("GLA: tensors are on the GPU but this build of hgrn2 has no CUDA support")
void gla_chunk_forward_cuda(const GlaInputs&, const GlaDims&, float, const GlaOutputs&) { HGRN_GLA_NO_CUDA; }
void gla_chunk_backward_cuda(const GlaInputs&, const GlaDims&, float, const GlaGradOutputs&, const GlaGrads&) {
    HGRN_GLA_NO_CUDA;
}
void gla_recurrent_forward_cuda(const GlaInputs&, const GlaDims&, float, const GlaOutputs&) { HGRN_GLA_NO_CUDA; }
void gla_step_cuda(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                   const GlaDims&, float) {
    HGRN_GLA_NO_CUDA;
}

}  // namespace hgrn
