// gla_cuda_internal.cuh — entry points shared between the GLA CUDA files (not part of any public API).
//   gla_recurrent.cu : the general path (any K <= 512, any V), token by token in fp32, used for the
//                      recurrent forward, the one-token step, fp32 inputs and head dims without a tiled kernel.
//   gla_chunk_fwd.cu : the chunkwise forward on tensor cores (bf16 storage, TF32 / bf16 MMAs, fp32 state);
//                      its device parts in gla_chunk_fwd_{load,scores,tile}.cuh.
//   gla_state_pass.cu: the chunk states H_n / state gradients D_n (split forward and backward; .cuh: its args).
//   gla_chunk_bwd.cu : the chunkwise backward on tensor cores (the state pass, then per-chunk gradients).
//   gla_chunk.cu     : the gla_backends.h entry points gla_chunk_*_cuda, choosing between them.
#pragma once

#include <cuda_bf16.h>

#include "gla/gla_backends.h"

namespace hgrn::gla_cuda {

constexpr int64_t kRecMaxK = 512;  // largest K of the general path (its state columns live in registers)

// The current device's SM count, queried once per device and thread (the launch choices read it on every
// call, the batch-1 step's among them). Defined in gla_chunk.cu.
int sm_count();

// o and ht (optional) from q, k (optional: fused 1 - exp(g)), v, g, h0 (optional). h0 may alias ht.
void recurrent_forward(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out,
                       cudaStream_t stream);
// All gradients of the recurrence, token by token (fp32): the general backward.
void recurrent_backward(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                        const GlaGrads& grads, cudaStream_t stream);

// One token for a batch (K = V = 64 or 128, state 16-byte aligned): q, k, g (B, H, K) seen as T = 1 inputs.
void launch_step(const GlaInputs& in, const GlaDims& d, float scale, const Tensor& o, const Tensor& state);

// Tensor-core chunkwise forward; returns false (and does nothing) when the shape or dtypes are not covered.
bool chunk_forward_tc(const GlaInputs& in, const GlaDims& d, float scale, const GlaOutputs& out,
                      cudaStream_t stream);

// The correction a segmented state pass (gla_state_pass.cuh) can leave to the kernel that reads its states
// instead of rewriting them: the stored state of chunk n, processed at step it (n in the H direction, N - 1 - n
// in the D direction) of segment s = it / NS, lacks Diag(p_n) X_s for s >= 1, where X_s is the true state at
// the segment's start, x + ((d B H + bh) S + s) K V (K x V, direction slot d of the pass), and p_n the decay
// from that start, p + ((d B H + bh) N + n) K (K values). x null: the stored states are complete.
struct SegFixup {
    const float* x = nullptr;
    const float* p = nullptr;
    int S = 1, NS = 1, BH = 0, N = 0;
    float* scratch = nullptr;  // the pass's scratch behind x and p: freed (cudaFreeAsync) after the reader
};

// Where chunk n (sequence x head bh) of direction slot d needs the correction, its X_s and p_n (rows from 0;
// the reader adds its row offset); false where it needs none (segment 0, or no segments).
__device__ __forceinline__ bool seg_fixup_of(const SegFixup& f, int d, int bh, int n, bool reverse, int K, int V,
                                             const float*& xs, const float*& pn) {
    if (!f.x) return false;
    const int it = reverse ? f.N - 1 - n : n, sg = it / f.NS;
    if (sg == 0) return false;
    const int64_t db = int64_t(d) * f.BH + bh;
    xs = f.x + (db * f.S + sg) * int64_t(K) * V;
    pn = f.p + (db * f.N + n) * int64_t(K);
    return true;
}

// The correction of the ROWS x COLS fp32 state tile elements one thread copies into shared memory, the copy's
// element groups idx = threadIdx.x + i NTH taken as row idx / (COLS / 4), columns 4 (idx % (COLS / 4)) .. + 3:
// load() fetches this thread's values of X_s and p_n (columns c0.. of X_s; issued before the wait for the tile's
// copy, so that their latency overlaps it), apply() adds p_n X_s to the landed elements (tile rows ld apart).
template <int ROWS, int COLS, int NTH>
struct SegTileFix {
    static constexpr int Q4 = COLS / 4, NI = ROWS * Q4 / NTH;
    static_assert(NI * NTH == ROWS * Q4, "whole float4 groups per thread");
    float4 x[NI];
    float p[NI];
    __device__ __forceinline__ void load(const float* xs, const float* pn, int c0, int V) {
#pragma unroll
        for (int i = 0; i < NI; ++i) {
            const int idx = threadIdx.x + i * NTH, j = idx / Q4, c = 4 * (idx % Q4);
            x[i] = __ldg(reinterpret_cast<const float4*>(xs + int64_t(j) * V + c0 + c));
            p[i] = __ldg(pn + j);
        }
    }
    __device__ __forceinline__ void apply(float* tile, int ld) const {
        apply_at(tile, [ld](int j, int c) { return j * ld + c; });
    }
    // The same with element (j, c..c+3) of the tile at tile + off(j, c) (a swizzled tile: 16-byte groups kept).
    template <class Off>
    __device__ __forceinline__ void apply_at(float* tile, const Off& off) const {
#pragma unroll
        for (int i = 0; i < NI; ++i) {
            const int idx = threadIdx.x + i * NTH, j = idx / Q4, c = 4 * (idx % Q4);
            float4* d = reinterpret_cast<float4*>(tile + off(j, c));
            float4 v = *d;
            v.x += p[i] * x[i].x, v.y += p[i] * x[i].y, v.z += p[i] * x[i].z, v.w += p[i] * x[i].w;
            *d = v;
        }
    }
};

// The chunk states H_n (before chunk n, fp32, (B, H, N, K, V)) and the final state ht (may be null) from
// bf16 k (null: fused 1 - exp(g)) and v, fp32 g and h0 (may be null); K in {64, 128, 256}, V % 64 == 0.
// lazy (may be null): a segmented pass leaves the correction of the stored states to the reader (SegFixup);
// otherwise, and whenever the pass is not segmented, hbuf holds the complete states.
void chunk_states_forward(const __nv_bfloat16* k, const __nv_bfloat16* v, const float* g, const float* h0,
                          float* hbuf, float* ht, int B, int T, int H, int K, int V, cudaStream_t stream,
                          SegFixup* lazy = nullptr);

// Tensor-core chunkwise backward; returns false (and does nothing) when the shape or dtypes are not covered.
bool chunk_backward_tc(const GlaInputs& in, const GlaDims& d, float scale, const GlaGradOutputs& gout,
                       const GlaGrads& grads, cudaStream_t stream);

}  // namespace hgrn::gla_cuda
