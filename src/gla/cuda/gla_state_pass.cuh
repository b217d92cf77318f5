// gla_state_pass.cuh — the chunk-state pass shared by the split forward and the backward (gla_state_pass.cu):
// the states H_n before each chunk (forward over the chunks) and / or the state gradients D_n after each chunk
// (backward over the chunks), fp32, written to buffers the caller owns; ht / dh0 at the end.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "gla/cuda/gla_cuda_internal.cuh"

namespace hgrn::gla_cuda {

struct StateArgs {
    const __nv_bfloat16 *q, *k, *v, *dout;  // k null: fused 1 - exp(g)
    const float *g, *h0, *dht;              // h0, dht may be null
    float *hbuf, *dbuf, *dh0;               // dh0 may be null
    float* ht;                              // final state (H direction; may be null)
    int T, H, K, V, N;
    float scale;
    int dir0;  // direction of blockIdx.z = 0: 0 (H, then D at z = 1) or 1 (D only: the H_n were saved)
    // Segments (few heads, long T; see run_state_pass): blockIdx.z = direction * S + segment, each segment NS
    // chunks in its direction's order, started from zero (segment 0 from h0 / dht); its end state goes to ebuf
    // (ndir, B H, S, K, V), its total decay 2^Lambda_s (Lambda_s: the sum of its chunks' Gammas, log2) to lbuf
    // (ndir, B H, S, K), and each chunk's decay from the segment's start (the product of the 2^Gamma of the
    // segment's earlier steps) to pbuf (ndir, B H, N, K); written by the blocks of column tile 0. S = 1: none.
    int S = 1, NS = 0;
    float *ebuf = nullptr, *pbuf = nullptr, *lbuf = nullptr;
    int B_H = 0;  // B H (the grid's y)
};

// Runs the pass for ndir directions starting at a.dir0 (H = 0, D = 1): one launch of 32-row state tiles, each
// walking its chunks in order; for long sequences with few heads (the split forward's H pass) in segments,
// then the segment starts and a correction of every stored state. Scratch from cuda_scratch_alloc
// (core/cuda_scratch.cuh).
// lazy (may be null): when the pass is segmented, the correction of the stored states is left to their reader
// (SegFixup, gla_cuda_internal.cuh; the reader frees lazy->scratch) instead of a pass that rewrites them.
void run_state_pass(StateArgs a, int ndir, cudaStream_t stream, SegFixup* lazy = nullptr);

}  // namespace hgrn::gla_cuda
