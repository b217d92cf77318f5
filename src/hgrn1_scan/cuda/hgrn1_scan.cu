// hgrn1_scan.cu — the HGRN1 element-wise scan on the GPU (hgrn1_scan.h):
//     forward  h_t = exp(g_t) h_{t-1} + x_t, o_t = h_t;
//     backward dh += do_t; dx_t = dh; dg_t = dh exp(g_t) h_{t-1}; dh <- exp(g_t) dh; dh0 = dh.
// A thread walks the tokens of one channel with kUnroll tokens loaded ahead (coalesced across channels). One
// thread per channel leaves most of the GPU idle at the usual B D (8 x 2048 = 16 K threads), so T is cut into
// chunks of kChunk tokens (the recurrence is linear in its state): (1) each (chunk, channel) scans from a zero
// state and keeps its end value and the chunk's total log decay; (2) one thread per channel carries the true
// state across the chunk summaries; (3) each (chunk, channel) scans again from its true start and writes the
// outputs. The backward does the same in reverse. x, o, dout, dx, g, dg: f32 or bf16 each; h0, ht, dht, dh0: f32 (or bf16).
// State and arithmetic in fp32. o may alias h0 (the one-token step, which never takes the chunked path).
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdlib>

#include "core/cuda_check.cuh"
#include "core/cuda_scratch.cuh"
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

constexpr int kChunk = 64;

// Tokens [t0, t1) of one channel (element offset base of token 0, stride D between tokens), forward from h.
// o / s: store every h_t in o (if given); accumulate the log decay into *s (if given). Returns the last h.
__device__ __forceinline__ float walk_fwd(P x, P g, P o, int64_t base, int64_t D, int t0, int t1, float h, float* s) {
    float gs = 0.f;
    for (int ta = t0; ta < t1; ta += kUnroll) {
        float xv[kUnroll], gv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const bool ok = ta + u < t1;
            xv[u] = ok ? ld(x, base + int64_t(ta + u) * D) : 0.f;
            gv[u] = ok ? ld(g, base + int64_t(ta + u) * D) : 0.f;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (ta + u < t1) {
                h = fmaf(expf(gv[u]), h, xv[u]);
                if (o.p) st(o, base + int64_t(ta + u) * D, h);
                gs += gv[u];
            }
        }
    }
    if (s) *s = gs;
    return h;
}

// Tokens t1 - 1 down to t0 of one channel, backward from dh (the value after token t1). dx / dg written when
// given (h_{t-1} from o, or hinit at t = 0); the log decay summed into *s when given. Returns dh after t0.
__device__ __forceinline__ float walk_bwd(P g, P o, P dout, P dx, P dg, int64_t base, int64_t D, int t0, int t1,
                                          float dh, float hinit, float* s) {
    float gs = 0.f;
    for (int tb = t1 - 1; tb >= t0; tb -= kUnroll) {
        float gv[kUnroll], dov[kUnroll], hp[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = tb - u;
            const bool ok = t >= t0;
            gv[u] = ok ? ld(g, base + int64_t(t) * D) : 0.f;
            dov[u] = ok ? ld(dout, base + int64_t(t) * D) : 0.f;
            hp[u] = (dg.p && ok) ? (t > 0 ? ld(o, base + int64_t(t - 1) * D) : hinit) : 0.f;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = tb - u;
            if (t >= t0) {
                const float f = expf(gv[u]);
                dh += dov[u];
                if (dx.p) st(dx, base + int64_t(t) * D, dh);
                if (dg.p) st(dg, base + int64_t(t) * D, dh * f * hp[u]);
                dh *= f;
                gs += gv[u];
            }
        }
    }
    if (s) *s = gs;
    return dh;
}

// One thread per channel, all of T (few chunks, or many channels).
__global__ void hgrn1_fwd_kernel(P x, P g, P h0, P o, P ht, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D;
    const float h = walk_fwd(x, g, o, b * T * D + c, D, 0, T, h0.p ? ld(h0, id) : 0.f, nullptr);
    if (ht.p) st(ht, id, h);
}

__global__ void hgrn1_bwd_kernel(P g, P h0, P o, P dout, P dht, P dx, P dg, P dh0, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D;
    const float dh = walk_bwd(g, o, dout, dx, dg, b * T * D + c, D, 0, T, dht.p ? ld(dht, id) : 0.f,
                              h0.p ? ld(h0, id) : 0.f, nullptr);
    if (dh0.p) st(dh0, id, dh);
}

// Chunked, passes 1 and 3: thread id = (b, chunk k, channel c), summaries laid out (B, nch, D).
// Pass 1 (start == nullptr): scan from zero, keep the end value e and the log decay lg of the chunk.
// Pass 3: scan from start[id] and write the outputs.
__global__ void hgrn1_fwd_chunks_kernel(P x, P g, P o, const float* start, float* e, float* lg, int B, int T, int D,
                                        int nch) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * nch * D) return;
    const int64_t c = id % D, k = (id / D) % nch, b = id / (int64_t(D) * nch);
    const int t0 = int(k) * kChunk, t1 = min(T, t0 + kChunk);
    const int64_t base = b * T * D + c;
    if (start) {
        walk_fwd(x, g, o, base, D, t0, t1, start[id], nullptr);
    } else {
        float s;
        e[id] = walk_fwd(x, g, P{}, base, D, t0, t1, 0.f, &s);
        lg[id] = s;
    }
}

__global__ void hgrn1_bwd_chunks_kernel(P g, P h0, P o, P dout, P dx, P dg, const float* start, float* e, float* lg,
                                        int B, int T, int D, int nch) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * nch * D) return;
    const int64_t c = id % D, k = (id / D) % nch, b = id / (int64_t(D) * nch);
    const int t0 = int(k) * kChunk, t1 = min(T, t0 + kChunk);
    const int64_t base = b * T * D + c;
    if (start) {
        const float hinit = (t0 == 0 && h0.p) ? ld(h0, b * D + c) : 0.f;
        walk_bwd(g, o, dout, dx, dg, base, D, t0, t1, start[id], hinit, nullptr);
    } else {
        float s;
        e[id] = walk_bwd(g, o, dout, P{}, P{}, base, D, t0, t1, 0.f, 0.f, &s);
        lg[id] = s;
    }
}

// Pass 2: one thread per (b, channel) carries the state across the chunks (forward: k = 0 up, from h0;
// backward: k = nch - 1 down, from dht), storing each chunk's start; the last value is ht (dh0).
__global__ void hgrn1_carry_kernel(const float* e, const float* lg, P init, float* start, P fin, int B, int D, int nch,
                                   bool reverse) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D;
    float h = init.p ? ld(init, id) : 0.f;
    for (int i = 0; i < nch; ++i) {
        const int64_t j = (b * nch + (reverse ? nch - 1 - i : i)) * D + c;
        start[j] = h;
        h = fmaf(expf(lg[j]), h, e[j]);
    }
    if (fin.p) st(fin, id, h);
}

unsigned blocks_for(int64_t n) { return unsigned((n + 127) / 128); }

void check_dims(const Hgrn1ScanDims& d) {
    HGRN_CHECK(d.T < (int64_t(1) << 31) && d.D < (int64_t(1) << 31) && d.B * d.D < (int64_t(1) << 38),
               "HGRN1 scan (CUDA): sizes out of range");
}

// Chunks whenever there are two or more: measured on the H100 (bf16 x / o, fp32 g; fwd / bwd ms, one thread per
// channel -> chunks): 8 x 2048 x 1024 0.570 / 1.859 -> 0.125 / 0.234; 8 x 2048 x 2048 0.559 / 1.880 -> 0.216 /
// 0.434; 32 x 2048 x 2048 1.168 / 2.112 -> 0.717 / 1.444; 1 x 16384 x 2048 4.175 / 14.508 -> 0.291 / 0.508.
// (Wider inputs than 65 K channels were not measured.) HGRN_HGRN1_CHUNKED=0 / 1 forces either (tests, benchmarks).
int chunks_for(const Hgrn1ScanDims& d) {
    const int nch = int((d.T + kChunk - 1) / kChunk);
    bool chunked = nch >= 2;
    if (const char* e = std::getenv("HGRN_HGRN1_CHUNKED")) chunked = nch >= 2 && std::atoi(e) != 0;
    return chunked ? nch : 1;
}

}  // namespace

void hgrn1_scan_forward_cuda(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                             const Hgrn1ScanDims& d) {
    check_dims(d);
    const P px = arg(x, "x"), pg = arg(g, "g"), ph0 = arg(h0, "h0"), po = arg(o, "o"), pht = arg(ht, "ht");
    const int nch = chunks_for(d);
    if (nch == 1) {
        hgrn1_fwd_kernel<<<blocks_for(d.B * d.D), 128>>>(px, pg, ph0, po, pht, int(d.B), int(d.T), int(d.D));
        HGRN_LAUNCH_CHECK();
        return;
    }
    const int64_t n = d.B * nch * d.D;
    float* scratch = cuda_scratch_alloc<float>(size_t(3 * n), nullptr);
    float *e = scratch, *lg = scratch + n, *start = scratch + 2 * n;
    hgrn1_fwd_chunks_kernel<<<blocks_for(n), 128>>>(px, pg, P{}, nullptr, e, lg, int(d.B), int(d.T), int(d.D), nch);
    HGRN_LAUNCH_CHECK();
    hgrn1_carry_kernel<<<blocks_for(d.B * d.D), 128>>>(e, lg, ph0, start, pht, int(d.B), int(d.D), nch, false);
    HGRN_LAUNCH_CHECK();
    hgrn1_fwd_chunks_kernel<<<blocks_for(n), 128>>>(px, pg, po, start, nullptr, nullptr, int(d.B), int(d.T), int(d.D),
                                                     nch);
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, nullptr));
}

void hgrn1_scan_backward_cuda(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                              const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                              const Hgrn1ScanDims& d) {
    check_dims(d);
    const P pg = arg(g, "g"), ph0 = arg(h0, "h0"), po = arg(o, "o"), pdo = arg(dout, "dout"), pdht = arg(dht, "dht");
    const P pdx = arg(dx, "dx"), pdg = arg(dg, "dg"), pdh0 = arg(dh0, "dh0");
    const int nch = chunks_for(d);
    if (nch == 1) {
        hgrn1_bwd_kernel<<<blocks_for(d.B * d.D), 128>>>(pg, ph0, po, pdo, pdht, pdx, pdg, pdh0, int(d.B), int(d.T),
                                                          int(d.D));
        HGRN_LAUNCH_CHECK();
        return;
    }
    const int64_t n = d.B * nch * d.D;
    float* scratch = cuda_scratch_alloc<float>(size_t(3 * n), nullptr);
    float *e = scratch, *lg = scratch + n, *start = scratch + 2 * n;
    hgrn1_bwd_chunks_kernel<<<blocks_for(n), 128>>>(pg, ph0, po, pdo, P{}, P{}, nullptr, e, lg, int(d.B), int(d.T),
                                                     int(d.D), nch);
    HGRN_LAUNCH_CHECK();
    hgrn1_carry_kernel<<<blocks_for(d.B * d.D), 128>>>(e, lg, pdht, start, pdh0, int(d.B), int(d.D), nch, true);
    HGRN_LAUNCH_CHECK();
    hgrn1_bwd_chunks_kernel<<<blocks_for(n), 128>>>(pg, ph0, po, pdo, pdx, pdg, start, nullptr, nullptr, int(d.B),
                                                     int(d.T), int(d.D), nch);
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, nullptr));
}

}  // namespace hgrn
