// gla_chunk_fwd.cu — placeholder until the tensor-core chunk forward lands.
#include "gla/cuda/gla_cuda_common.cuh"
#include "gla/cuda/gla_cuda_internal.cuh"

namespace hgrn::gla_cuda {
bool chunk_forward_tc(const GlaInputs&, const GlaDims&, float, const GlaOutputs&, cudaStream_t) { return false; }
}  // namespace hgrn::gla_cuda
