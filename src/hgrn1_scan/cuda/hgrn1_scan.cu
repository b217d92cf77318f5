// hgrn1_scan.cu — the HGRN1 element-wise scan on the GPU (hgrn1_scan.h):
//     forward  h_t = exp(g_t) h_{t-1} + x_t, o_t = h_t;
//     backward dh += do_t; dx_t = dh; dg_t = dh exp(g_t) h_{t-1}; dh <- exp(g_t) dh; dh0 = dh.
// One thread per (b, channel), walking T with kUnroll tokens loaded ahead (coalesced across channels).
// x, o, dout, dx, g, dg: f32 or bf16 each; h0, ht, dht, dh0: f32 (or bf16). State and arithmetic in fp32.
// o may alias h0 (the one-token step): each thread reads h0 before it writes o.
#include <cuda_bf16.h>

#include "core/cuda_check.cuh"
#include "hgrn1_scan/hgrn1_scan_backends.h"

namespace hgrn {
namespace {

constexpr int kUnroll = 8;

struct P {
    const void* p = nullptr;
    bool bf16 = false;
};
__device__ __forceinline__ float ld(P x, int64_t i) {
    return x.bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(x.p)[i]) : static_cast<const float*>(x.p)[i];
}
__device__ __forceinline__ void st(P x, int64_t i, float v) {
    if (x.bf16) const_cast<__nv_bfloat16*>(static_cast<const __nv_bfloat16*>(x.p))[i] = __float2bfloat16_rn(v);
    else const_cast<float*>(static_cast<const float*>(x.p))[i] = v;
}

P arg(const Tensor& t, const char* name) {
    if (t.empty()) return {};
    HGRN_CHECK(t.device() == Device::cuda, "HGRN1 scan (CUDA): ", name, " must be on the GPU, got ", t.describe());
    HGRN_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::bf16, "HGRN1 scan (CUDA): ", name,
               " must be f32 or bf16, got ", t.describe());
    return {t.data(), t.dtype() == DType::bf16};
}

__global__ void hgrn1_fwd_kernel(P x, P g, P h0, P o, P ht, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D, base = b * T * D + c;
    float h = h0.p ? ld(h0, id) : 0.f;
    for (int t0 = 0; t0 < T; t0 += kUnroll) {
        float xv[kUnroll], gv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const bool ok = t0 + u < T;
            xv[u] = ok ? ld(x, base + int64_t(t0 + u) * D) : 0.f;
            gv[u] = ok ? ld(g, base + int64_t(t0 + u) * D) : 0.f;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (t0 + u < T) {
                h = fmaf(expf(gv[u]), h, xv[u]);
                st(o, base + int64_t(t0 + u) * D, h);
            }
        }
    }
    if (ht.p) st(ht, id, h);
}

__global__ void hgrn1_bwd_kernel(P g, P h0, P o, P dout, P dht, P dx, P dg, P dh0, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D, base = b * T * D + c;
    float dh = dht.p ? ld(dht, id) : 0.f;
    const float hinit = h0.p ? ld(h0, id) : 0.f;
    for (int t1 = T - 1; t1 >= 0; t1 -= kUnroll) {
        float gv[kUnroll], dov[kUnroll], hp[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = t1 - u;
            const bool ok = t >= 0;
            gv[u] = ok ? ld(g, base + int64_t(t) * D) : 0.f;
            dov[u] = ok ? ld(dout, base + int64_t(t) * D) : 0.f;
            hp[u] = t > 0 ? ld(o, base + int64_t(t - 1) * D) : hinit;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = t1 - u;
            if (t >= 0) {
                const float f = expf(gv[u]);
                dh += dov[u];
                st(dx, base + int64_t(t) * D, dh);
                st(dg, base + int64_t(t) * D, dh * f * hp[u]);
                dh *= f;
            }
        }
    }
    if (dh0.p) st(dh0, id, dh);
}

unsigned blocks_for(int64_t n) { return unsigned((n + 127) / 128); }

void check_dims(const Hgrn1ScanDims& d) {
    HGRN_CHECK(d.T < (int64_t(1) << 31) && d.D < (int64_t(1) << 31) && d.B * d.D < (int64_t(1) << 38),
               "HGRN1 scan (CUDA): sizes out of range");
}

}  // namespace

void hgrn1_scan_forward_cuda(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                             const Hgrn1ScanDims& d) {
    check_dims(d);
    hgrn1_fwd_kernel<<<blocks_for(d.B * d.D), 128>>>(arg(x, "x"), arg(g, "g"), arg(h0, "h0"), arg(o, "o"),
                                                      arg(ht, "ht"), int(d.B), int(d.T), int(d.D));
    HGRN_LAUNCH_CHECK();
}

void hgrn1_scan_backward_cuda(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                              const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                              const Hgrn1ScanDims& d) {
    check_dims(d);
    hgrn1_bwd_kernel<<<blocks_for(d.B * d.D), 128>>>(arg(g, "g"), arg(h0, "h0"), arg(o, "o"), arg(dout, "dout"),
                                                      arg(dht, "dht"), arg(dx, "dx"), arg(dg, "dg"),
                                                      arg(dh0, "dh0"), int(d.B), int(d.T), int(d.D));
    HGRN_LAUNCH_CHECK();
}

}  // namespace hgrn
