// hgrn1_scan.h — the HGRN1 recurrence: an element-wise gated linear scan (SPEC.md §3).
//     h_t = exp(g_t) ⊙ h_{t-1} + x_t,   o_t = h_t,   h_{-1} = h0 (or 0),   ht = h_{T-1}
// g is the log forget gate (<= 0). Backward, with dh = dht (or 0) after the last token, for t = T-1 .. 0:
//     dh += do_t;  dx_t = dh;  dg_t = dh ⊙ exp(g_t) ⊙ h_{t-1};  dh ← exp(g_t) ⊙ dh;   finally dh0 = dh.
// Layouts: x, g, o, dx, dg, dout: (B, T, D); h0, ht, dh0, dht: (B, D). Contiguous.
// Dispatch: f64 → reference (hgrn1_scan_ref.cpp), f32 on the CPU → hgrn1_scan_cpu.cpp, GPU → CUDA kernels.
#pragma once

#include "core/tensor.h"

namespace hgrn {

struct Hgrn1ScanDims {
    int64_t B = 0, T = 0, D = 0;
};

// o (B, T, D) required; ht optional (absent → not written); h0 optional (absent → zeros).
void hgrn1_scan_forward(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht);

// o is the forward's output (it holds every h_t, so nothing is recomputed). dht optional; dh0 optional.
void hgrn1_scan_backward(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout, const Tensor& dht,
                         const Tensor& dx, const Tensor& dg, const Tensor& dh0);

// One token for a batch: x, g (B, D); state (B, D) updated in place (it is also the output).
void hgrn1_scan_step(const Tensor& x, const Tensor& g, const Tensor& state);

}  // namespace hgrn
