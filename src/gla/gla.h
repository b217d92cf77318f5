// gla.h — gated linear attention (GLA), the recurrence inside HGRN2. Public API of src/gla.
//
// Per sequence b and head h, with S_0 = h0 (or 0) a K x V state:
//     S_t = Diag(exp(g_t)) S_{t-1} + k_t v_t^T        o_t = scale * S_t^T q_t        ht = S_T
// HGRN2 maps onto it as q = swish(output gate), k = 1 - f, v = input, g = log f (SPEC.md §1.5), scale 1/sqrt(K).
//
// Layouts (all contiguous, row-major):
//     q, k, g, dq, dk, dg : (B, T, H, K)        v, o, dv, dout : (B, T, H, V)
//     h0, ht, dh0, dht     : (B, H, K, V)  — the state as S[k][v]. fla stores (B, H, V, K) ("state_v_first");
//                            gla_state_from_fla / gla_state_to_fla convert at the boundary.
//
// Dispatch on the tensors: all f64 on the CPU → the float64 reference (gla_ref*.cpp); all f32 on the CPU → the
// fp32 CPU path (gla_cpu*.cpp); on the GPU → the CUDA kernels (gla_backends.h lists them all). Mixed dtypes
// or devices are an error.
// g must be <= 0 (a decay); no clamping is applied and none is needed (see docs/gla_math.md).
//
// Fused HGRN2 form: leave k absent and the key is computed as k = 1 - exp(g); then dk must be absent too and
// dg receives the extra term -exp(g) * dk.
#pragma once

#include "core/tensor.h"

namespace hgrn {

constexpr int kGlaChunk = 64;  // chunk length C of the chunkwise algorithm

struct GlaDims {
    int64_t B = 0, T = 0, H = 0, K = 0, V = 0;
};

struct GlaInputs {
    Tensor q;                    // (B, T, H, K)
    Tensor k;                    // (B, T, H, K); absent → k = 1 - exp(g)
    Tensor v;                    // (B, T, H, V)
    Tensor g;                    // (B, T, H, K), <= 0
    Tensor h0;                   // (B, H, K, V); absent → zeros
    double scale = 0;            // 0 → 1/sqrt(K)
    int chunk = kGlaChunk;       // chunk length for the chunkwise algorithm (power of two, 16..64 on GPU)
    Tensor states;               // gla_chunk_backward only, optional: the chunk states the forward wrote
                                 // (GlaOutputs::states) for these same inputs; the GPU backward then skips
                                 // recomputing them (the CPU backends recompute regardless)
};

struct GlaOutputs {
    Tensor o;                  // (B, T, H, V)
    Tensor ht;                 // (B, H, K, V); absent → not written
    Tensor states = Tensor();  // gla_chunk_forward only, optional: (B, H, N, K, V), N = ceil(T / kGlaChunk), the
                               // state before each chunk of kGlaChunk tokens (n = 0: h0), fp32-accurate, for a
                               // backward that reuses them (GlaInputs::states). Memory for speed: B H N K V values
                               // (268 MB at B 8, T 2048, H 16, K = V = 128). On the GPU: f32, and only on the
                               // tensor-core path (bf16, K in {64, 128, 256}, V % 64 == 0); the CPU backends
                               // compute them with the recurrence, in the input dtype.
};

struct GlaGradOutputs {
    Tensor dout;  // (B, T, H, V)
    Tensor dht;   // (B, H, K, V); absent → zero
};

struct GlaGrads {
    Tensor dq, dk, dv, dg;  // like q, k, v, g (all overwritten); dk absent in the fused HGRN2 form
    Tensor dh0;             // (B, H, K, V); absent → not written
};

// Validates shapes, dtypes, devices and sizes; returns the dimensions. Every entry point calls it.
GlaDims gla_check(const GlaInputs& in);
double gla_scale(const GlaInputs& in, const GlaDims& d);  // in.scale, or 1/sqrt(K) when 0

Shape gla_states_shape(const GlaDims& d);  // (B, H, ceil(T / kGlaChunk), K, V)
// Chunkwise algorithm (training and prefill).
void gla_chunk_forward(const GlaInputs& in, const GlaOutputs& out);
void gla_chunk_backward(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& grads);

// Recurrent form, token by token (decoding, short sequences).
void gla_recurrent_forward(const GlaInputs& in, const GlaOutputs& out);
void gla_recurrent_backward(const GlaInputs& in, const GlaGradOutputs& gout, const GlaGrads& grads);

// One token for a batch of sequences: q, k, g (B, H, K), v (B, H, V); state (B, H, K, V) updated in place;
// o (B, H, V). k absent → k = 1 - exp(g). scale 0 → 1/sqrt(K).
void gla_step(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& state,
              const Tensor& o, double scale = 0);

// State layout conversion: ours (B, H, K, V) <-> fla's (B, H, V, K). Same dtype, CPU.
void gla_state_to_fla(const Tensor& ours, const Tensor& fla);
void gla_state_from_fla(const Tensor& fla, const Tensor& ours);

}  // namespace hgrn
