// gla_backends.h — the per-backend entry points behind gla.h's dispatcher (internal to src/gla and tests).
//   *_ref  : float64 reference, written straight from the equations (gla_ref.cpp). k must be present.
//   *_cpu  : fp32 CPU path, OpenMP over batch x head (gla_cpu.cpp). k must be present.
//   *_cuda : CUDA kernels (cuda/*.cu; cpu_only/ stubs throw). k may be absent (fused HGRN2 form).
// All take inputs already validated by gla_check(); dims and scale are passed in resolved.
#pragma once

#include "gla/gla.h"

namespace hgrn {

void gla_recurrent_forward_ref(const GlaInputs& in, const GlaDims& d, double scale, const GlaOutputs& out);
void gla_recurrent_backward_ref(const GlaInputs& in, const GlaDims& d, double scale, const GlaGradOutputs& gout,
                                const GlaGrads& grads);
void gla_chunk_forward_ref(const GlaInputs& in, const GlaDims& d, double scale, const GlaOutputs& out);
void gla_chunk_backward_ref(const GlaInputs& in, const GlaDims& d, double scale, const GlaGradOutputs& gout,
                            const GlaGrads& grads);

void gla_recurrent_forward_cpu(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out);
void gla_recurrent_backward_cpu(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                                const GlaGrads& grads);
void gla_chunk_forward_cpu(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out);
void gla_chunk_backward_cpu(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                            const GlaGrads& grads);
// One token (T = 1 view of the same layouts): q, k, g (B, H, K), v (B, H, V), state (B, H, K, V), o (B, H, V).
void gla_step_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
                  const Tensor& o, const GlaDims& d, float scale);

void gla_chunk_forward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out);
void gla_chunk_backward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                             const GlaGrads& grads);
void gla_recurrent_forward_cuda(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out);
void gla_step_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
                   const Tensor& o, const GlaDims& d, float scale);

}  // namespace hgrn
