// hgrn1_scan_cpu.cpp — fp32 CPU path of the HGRN1 scan (hgrn1_scan.h), judged against hgrn1_scan_ref.cpp.
//     forward:  h_t = exp(g_t) ⊙ h_{t-1} + x_t,  o_t = h_t,  ht = h_{T-1}
//     backward: dh += do_t;  dx_t = dh;  dg_t = dh ⊙ exp(g_t) ⊙ h_{t-1};  dh ← exp(g_t) ⊙ dh;  dh0 = dh
// Layouts: x, g, o, dout, dx, dg (B, T, D); h0, ht, dht, dh0 (B, D); contiguous, fp32, fp32 accumulation.
// The scan is sequential over T and independent over (b, c). Work items are (b, block of kBlock channels):
// each keeps its kBlock running states in a small local array and walks T, the inner loop over the block's
// contiguous channels vectorised (omp simd, with a vectorisable exp below). Items run in parallel under
// OpenMP; every element is computed by the same instructions whatever the thread count, so results do not
// depend on it. The initial state is read into the local array before any output is written, so o may alias
// h0 (hgrn1_scan_step: T = 1, o == state == h0). Each element of dx, dg, o is written after its own inputs at
// the same index are read, so in-place use (dx == dout, dg == g) would also be safe, though the API does not
// promise it.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>

#include "core/vmath.h"
#include "hgrn1_scan/hgrn1_scan_backends.h"

namespace hgrn {
namespace {

constexpr int64_t kBlock = 64;                  // channels per work item: 256 bytes of each row, 4 cache lines
constexpr int64_t kParallelMinElems = 1 << 15;  // below this many (b, t, c) elements, one thread is faster

int64_t num_blocks(const Hgrn1ScanDims& d) { return (d.D + kBlock - 1) / kBlock; }

// One work item of the forward: batch row b, channels [c0, c0 + w).
void forward_block(const float* X, const float* G, const float* H0, float* O, float* HT, int64_t b, int64_t c0,
                   int64_t w, const Hgrn1ScanDims& d) {
    float h[kBlock];
    for (int64_t j = 0; j < w; ++j) h[j] = H0 ? H0[b * d.D + c0 + j] : 0.0f;  // before o is written: o may be h0
    for (int64_t t = 0; t < d.T; ++t) {
        const int64_t row = (b * d.T + t) * d.D + c0;
        const float* x = X + row;
        const float* g = G + row;
        float* o = O + row;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
            h[j] = exp_f32(g[j]) * h[j] + x[j];
            o[j] = h[j];
        }
    }
    if (HT)
        for (int64_t j = 0; j < w; ++j) HT[b * d.D + c0 + j] = h[j];
}

// One work item of the backward: the forward's loop reversed, with h_{t-1} read from o (or h0 at t = 0).
void backward_block(const float* G, const float* H0, const float* O, const float* DO, const float* DHT, float* DX,
                    float* DG, float* DH0, int64_t b, int64_t c0, int64_t w, const Hgrn1ScanDims& d) {
    float dh[kBlock], zeros[kBlock] = {};
    for (int64_t j = 0; j < w; ++j) dh[j] = DHT ? DHT[b * d.D + c0 + j] : 0.0f;
    for (int64_t t = d.T - 1; t >= 0; --t) {
        const int64_t row = (b * d.T + t) * d.D + c0;
        const float* g = G + row;
        const float* dout = DO + row;
        const float* prev = t > 0 ? O + row - d.D : (H0 ? H0 + b * d.D + c0 : zeros);
        float* dx = DX + row;
        float* dg = DG + row;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
            const float e = exp_f32(g[j]);
            const float p = prev[j];
            dh[j] += dout[j];
            dx[j] = dh[j];
            dg[j] = dh[j] * e * p;
            dh[j] *= e;
        }
    }
    if (DH0)
        for (int64_t j = 0; j < w; ++j) DH0[b * d.D + c0 + j] = dh[j];
}

}  // namespace

void hgrn1_scan_forward_cpu(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                            const Hgrn1ScanDims& d) {
    const float *X = x.ptr<float>(), *G = g.ptr<float>(), *H0 = h0.empty() ? nullptr : h0.ptr<float>();
    float *O = o.ptr<float>(), *HT = ht.empty() ? nullptr : ht.ptr<float>();
    const int64_t nb = num_blocks(d), items = d.B * nb;
#pragma omp parallel for schedule(static) if (d.B * d.T * d.D >= kParallelMinElems && items > 1)
    for (int64_t i = 0; i < items; ++i) {
        const int64_t b = i / nb, c0 = (i % nb) * kBlock;
        forward_block(X, G, H0, O, HT, b, c0, std::min(kBlock, d.D - c0), d);
    }
}

void hgrn1_scan_backward_cpu(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout, const Tensor& dht,
                             const Tensor& dx, const Tensor& dg, const Tensor& dh0, const Hgrn1ScanDims& d) {
    const float *G = g.ptr<float>(), *O = o.ptr<float>(), *DO = dout.ptr<float>();
    const float *H0 = h0.empty() ? nullptr : h0.ptr<float>(), *DHT = dht.empty() ? nullptr : dht.ptr<float>();
    float *DX = dx.ptr<float>(), *DG = dg.ptr<float>(), *DH0 = dh0.empty() ? nullptr : dh0.ptr<float>();
    const int64_t nb = num_blocks(d), items = d.B * nb;
#pragma omp parallel for schedule(static) if (d.B * d.T * d.D >= kParallelMinElems && items > 1)
    for (int64_t i = 0; i < items; ++i) {
        const int64_t b = i / nb, c0 = (i % nb) * kBlock;
        backward_block(G, H0, O, DO, DHT, DX, DG, DH0, b, c0, std::min(kBlock, d.D - c0), d);
    }
}

}  // namespace hgrn
