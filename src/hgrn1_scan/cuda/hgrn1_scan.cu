// hgrn1_scan.cu — the HGRN1 element-wise scan on the GPU (hgrn1_scan.h):
//     forward  h_t = exp(g_t) h_{t-1} + x_t, o_t = h_t;
//     backward dh += do_t; dx_t = dh; dg_t = dh exp(g_t) h_{t-1}; dh <- exp(g_t) dh; dh0 = dh.
// A thread walks the tokens of one channel with kUnroll tokens loaded ahead (coalesced across channels). One
// thread per channel leaves most of the GPU idle at the usual B D (8 x 2048 = 16 K threads), so T is cut into
// chunks of 64 tokens or more (at most 64 chunks; the recurrence is linear in its state; a thread takes two
// channels where D is even): (1) each (chunk, channel) scans from a zero state and keeps its end value and the
// chunk's total log decay; (2) one thread per channel carries the true state across the chunk summaries; (3) each
// (chunk, channel) scans again from its true start and writes the outputs. The backward does the same in reverse.
// x, o, dout, dx, g, dg: f32 or bf16 each; h0, ht, dht, dh0: f32 (or bf16). State and arithmetic in fp32.
// o may alias h0 (the one-token step, which never takes the chunked path).
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>

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

// VEC consecutive channels (VEC = 1 or 2; element i even and the pointer 8-byte aligned when VEC = 2).
template <int VEC>
__device__ __forceinline__ void ldv(P x, int64_t i, float (&v)[VEC]) {
    if constexpr (VEC == 1) {
        v[0] = ld(x, i);
    } else {
        const float2 f = x.bf16 ? __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(
                                      static_cast<const __nv_bfloat16*>(x.p) + i))
                                : *reinterpret_cast<const float2*>(static_cast<const float*>(x.p) + i);
        v[0] = f.x, v[1] = f.y;
    }
}
template <int VEC>
__device__ __forceinline__ void stv(P x, int64_t i, const float (&v)[VEC]) {
    if constexpr (VEC == 1) {
        st(x, i, v[0]);
    } else if (x.bf16) {
        *reinterpret_cast<__nv_bfloat162*>(const_cast<__nv_bfloat16*>(static_cast<const __nv_bfloat16*>(x.p)) + i) =
            __floats2bfloat162_rn(v[0], v[1]);
    } else {
        *reinterpret_cast<float2*>(const_cast<float*>(static_cast<const float*>(x.p)) + i) = make_float2(v[0], v[1]);
    }
}

P arg(const Tensor& t, const char* name) {
    if (t.empty()) return {};
    HGRN_CHECK(t.device() == Device::cuda, "HGRN1 scan (CUDA): ", name, " must be on the GPU, got ", t.describe());
    HGRN_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::bf16, "HGRN1 scan (CUDA): ", name,
               " must be f32 or bf16, got ", t.describe());
    return {t.data(), t.dtype() == DType::bf16};
}

constexpr int kChunk = 64;   // chunk length, or a multiple of it for long sequences
constexpr int kMaxChunks = 64;  // ... so that the carry pass walks at most this many chunks

// Tokens [t0, t1) of VEC consecutive channels (element offset base of token 0, stride D between tokens),
// forward from h. o: store every h_t (if given); s: the chunk's log decay per channel (if given). h: in / out.
template <int VEC>
__device__ __forceinline__ void walk_fwd(P x, P g, P o, int64_t base, int64_t D, int t0, int t1, float (&h)[VEC],
                                         float (*s)[VEC]) {
    float gs[VEC] = {};
    for (int ta = t0; ta < t1; ta += kUnroll) {
        float xv[kUnroll][VEC], gv[kUnroll][VEC];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (ta + u < t1) {
                ldv<VEC>(x, base + int64_t(ta + u) * D, xv[u]);
                ldv<VEC>(g, base + int64_t(ta + u) * D, gv[u]);
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            if (ta + u < t1) {
#pragma unroll
                for (int v = 0; v < VEC; ++v) h[v] = fmaf(expf(gv[u][v]), h[v], xv[u][v]), gs[v] += gv[u][v];
                if (o.p) stv<VEC>(o, base + int64_t(ta + u) * D, h);
            }
        }
    }
    if (s)
#pragma unroll
        for (int v = 0; v < VEC; ++v) (*s)[v] = gs[v];
}

// Tokens t1 - 1 down to t0 of VEC consecutive channels, backward from dh (the value after token t1). dx / dg
// written when given (h_{t-1} from o, or hinit at t = 0); the log decay into s when given. dh: in / out.
template <int VEC>
__device__ __forceinline__ void walk_bwd(P g, P o, P dout, P dx, P dg, int64_t base, int64_t D, int t0, int t1,
                                         float (&dh)[VEC], const float (&hinit)[VEC], float (*s)[VEC]) {
    float gs[VEC] = {};
    for (int tb = t1 - 1; tb >= t0; tb -= kUnroll) {
        float gv[kUnroll][VEC], dov[kUnroll][VEC], hp[kUnroll][VEC];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = tb - u;
            if (t >= t0) {
                ldv<VEC>(g, base + int64_t(t) * D, gv[u]);
                ldv<VEC>(dout, base + int64_t(t) * D, dov[u]);
                if (dg.p) {
                    if (t > 0) ldv<VEC>(o, base + int64_t(t - 1) * D, hp[u]);
                    else
#pragma unroll
                        for (int v = 0; v < VEC; ++v) hp[u][v] = hinit[v];
                }
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int t = tb - u;
            if (t >= t0) {
                float f[VEC], gd[VEC];
#pragma unroll
                for (int v = 0; v < VEC; ++v) {
                    f[v] = expf(gv[u][v]);
                    dh[v] += dov[u][v];
                    gd[v] = dg.p ? dh[v] * f[v] * hp[u][v] : 0.f;
                }
                if (dx.p) stv<VEC>(dx, base + int64_t(t) * D, dh);
                if (dg.p) stv<VEC>(dg, base + int64_t(t) * D, gd);
#pragma unroll
                for (int v = 0; v < VEC; ++v) dh[v] *= f[v], gs[v] += gv[u][v];
            }
        }
    }
    if (s)
#pragma unroll
        for (int v = 0; v < VEC; ++v) (*s)[v] = gs[v];
}

// One thread per channel, all of T (few chunks, or many channels).
__global__ void hgrn1_fwd_kernel(P x, P g, P h0, P o, P ht, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D;
    float h[1] = {h0.p ? ld(h0, id) : 0.f};
    walk_fwd<1>(x, g, o, b * T * D + c, D, 0, T, h, nullptr);
    if (ht.p) st(ht, id, h[0]);
}

__global__ void hgrn1_bwd_kernel(P g, P h0, P o, P dout, P dht, P dx, P dg, P dh0, int B, int T, int D) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= int64_t(B) * D) return;
    const int64_t b = id / D, c = id % D;
    float dh[1] = {dht.p ? ld(dht, id) : 0.f};
    const float hinit[1] = {h0.p ? ld(h0, id) : 0.f};
    walk_bwd<1>(g, o, dout, dx, dg, b * T * D + c, D, 0, T, dh, hinit, nullptr);
    if (dh0.p) st(dh0, id, dh[0]);
}

// Chunked, passes 1 and 3: thread = (b, chunk k, VEC channels from c), summaries laid out (B, nch, D).
// Pass 1 (start == nullptr): scan from zero, keep the end value e and the log decay lg of the chunk.
// Pass 3: scan from start and write the outputs.
template <int VEC>
__global__ void hgrn1_fwd_chunks_kernel(P x, P g, P o, const float* start, float* e, float* lg, int B, int T, int D,
                                        int nch, int L) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, DV = D / VEC;
    if (id >= int64_t(B) * nch * DV) return;
    const int64_t c = (id % DV) * VEC, k = (id / DV) % nch, b = id / (DV * nch), sid = (b * nch + k) * D + c;
    const int t0 = int(k) * L, t1 = min(T, t0 + L);
    const int64_t base = b * T * D + c;
    float h[VEC];
    if (start) {
#pragma unroll
        for (int v = 0; v < VEC; ++v) h[v] = start[sid + v];
        walk_fwd<VEC>(x, g, o, base, D, t0, t1, h, nullptr);
    } else {
        float s[VEC];
#pragma unroll
        for (int v = 0; v < VEC; ++v) h[v] = 0.f;
        walk_fwd<VEC>(x, g, P{}, base, D, t0, t1, h, &s);
#pragma unroll
        for (int v = 0; v < VEC; ++v) e[sid + v] = h[v], lg[sid + v] = s[v];
    }
}

template <int VEC>
__global__ void hgrn1_bwd_chunks_kernel(P g, P h0, P o, P dout, P dx, P dg, const float* start, float* e, float* lg,
                                        int B, int T, int D, int nch, int L) {
    const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, DV = D / VEC;
    if (id >= int64_t(B) * nch * DV) return;
    const int64_t c = (id % DV) * VEC, k = (id / DV) % nch, b = id / (DV * nch), sid = (b * nch + k) * D + c;
    const int t0 = int(k) * L, t1 = min(T, t0 + L);
    const int64_t base = b * T * D + c;
    float dh[VEC], hinit[VEC];
    if (start) {
#pragma unroll
        for (int v = 0; v < VEC; ++v) {
            dh[v] = start[sid + v];
            hinit[v] = (t0 == 0 && h0.p) ? ld(h0, b * D + c + v) : 0.f;
        }
        walk_bwd<VEC>(g, o, dout, dx, dg, base, D, t0, t1, dh, hinit, nullptr);
    } else {
        float s[VEC];
#pragma unroll
        for (int v = 0; v < VEC; ++v) dh[v] = 0.f, hinit[v] = 0.f;
        walk_bwd<VEC>(g, o, dout, P{}, P{}, base, D, t0, t1, dh, hinit, &s);
#pragma unroll
        for (int v = 0; v < VEC; ++v) e[sid + v] = dh[v], lg[sid + v] = s[v];
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

// Two channels a thread (8-byte / 4-byte vector loads) when D is even and every tensor pointer allows it.
bool channel_pairs(const Hgrn1ScanDims& d, std::initializer_list<P> ts) {
    if (d.D % 2 != 0) return false;
    for (const P& t : ts)
        if (t.p && reinterpret_cast<uintptr_t>(t.p) % 8 != 0) return false;
    return true;
}

}  // namespace

// Chunks whenever there are two or more: measured on the H100 (bf16 x / o, fp32 g; fwd / bwd ms, one thread per
// channel -> chunks with channel pairs): 8 x 2048 x 1024 0.364 / 1.891 -> 0.122 / 0.240; 8 x 2048 x 2048 0.370 /
// 1.919 -> 0.204 / 0.382; 32 x 2048 x 2048 0.810 / 2.149 -> 0.669 / 1.348; 1 x 16384 x 2048 2.677 / 14.86 ->
// 0.271 / 0.463 with 64-token chunks, 0.209 / 0.456 with 256 (64 chunks). (Wider inputs than 65 K channels were
// not measured.) HGRN_HGRN1_CHUNKED=0 / 1 forces either path (tests, benchmarks). Returns the chunk length
// (T: one pass).
int hgrn1_scan_chunk_length_cuda(const Hgrn1ScanDims& d) {
    const int64_t n64 = (d.T + kChunk - 1) / kChunk;
    bool chunked = n64 >= 2;
    if (const char* e = std::getenv("HGRN_HGRN1_CHUNKED")) chunked = n64 >= 2 && std::atoi(e) != 0;
    if (!chunked) return int(d.T);
    return int(kChunk * ((n64 + kMaxChunks - 1) / kMaxChunks));
}

void hgrn1_scan_forward_cuda(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                             const Hgrn1ScanDims& d) {
    check_dims(d);
    const P px = arg(x, "x"), pg = arg(g, "g"), ph0 = arg(h0, "h0"), po = arg(o, "o"), pht = arg(ht, "ht");
    const int L = hgrn1_scan_chunk_length_cuda(d), nch = int((d.T + L - 1) / L);
    if (nch == 1) {
        hgrn1_fwd_kernel<<<blocks_for(d.B * d.D), 128>>>(px, pg, ph0, po, pht, int(d.B), int(d.T), int(d.D));
        HGRN_LAUNCH_CHECK();
        return;
    }
    const int64_t n = d.B * nch * d.D;
    float* scratch = cuda_scratch_alloc<float>(size_t(3 * n), nullptr);
    float *e = scratch, *lg = scratch + n, *start = scratch + 2 * n;
    const bool pairs = channel_pairs(d, {px, pg, po});
    const unsigned nb = blocks_for(pairs ? n / 2 : n);
    const int B = int(d.B), T = int(d.T), D = int(d.D);
    if (pairs) hgrn1_fwd_chunks_kernel<2><<<nb, 128>>>(px, pg, P{}, nullptr, e, lg, B, T, D, nch, L);
    else hgrn1_fwd_chunks_kernel<1><<<nb, 128>>>(px, pg, P{}, nullptr, e, lg, B, T, D, nch, L);
    HGRN_LAUNCH_CHECK();
    hgrn1_carry_kernel<<<blocks_for(d.B * d.D), 128>>>(e, lg, ph0, start, pht, B, D, nch, false);
    HGRN_LAUNCH_CHECK();
    if (pairs) hgrn1_fwd_chunks_kernel<2><<<nb, 128>>>(px, pg, po, start, nullptr, nullptr, B, T, D, nch, L);
    else hgrn1_fwd_chunks_kernel<1><<<nb, 128>>>(px, pg, po, start, nullptr, nullptr, B, T, D, nch, L);
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, nullptr));
}

void hgrn1_scan_backward_cuda(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                              const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                              const Hgrn1ScanDims& d) {
    check_dims(d);
    const P pg = arg(g, "g"), ph0 = arg(h0, "h0"), po = arg(o, "o"), pdo = arg(dout, "dout"), pdht = arg(dht, "dht");
    const P pdx = arg(dx, "dx"), pdg = arg(dg, "dg"), pdh0 = arg(dh0, "dh0");
    const int L = hgrn1_scan_chunk_length_cuda(d), nch = int((d.T + L - 1) / L);
    if (nch == 1) {
        hgrn1_bwd_kernel<<<blocks_for(d.B * d.D), 128>>>(pg, ph0, po, pdo, pdht, pdx, pdg, pdh0, int(d.B), int(d.T),
                                                          int(d.D));
        HGRN_LAUNCH_CHECK();
        return;
    }
    const int64_t n = d.B * nch * d.D;
    float* scratch = cuda_scratch_alloc<float>(size_t(3 * n), nullptr);
    float *e = scratch, *lg = scratch + n, *start = scratch + 2 * n;
    const bool pairs = channel_pairs(d, {pg, po, pdo, pdx, pdg});
    const unsigned nb = blocks_for(pairs ? n / 2 : n);
    const int B = int(d.B), T = int(d.T), D = int(d.D);
    if (pairs) hgrn1_bwd_chunks_kernel<2><<<nb, 128>>>(pg, ph0, po, pdo, P{}, P{}, nullptr, e, lg, B, T, D, nch, L);
    else hgrn1_bwd_chunks_kernel<1><<<nb, 128>>>(pg, ph0, po, pdo, P{}, P{}, nullptr, e, lg, B, T, D, nch, L);
    HGRN_LAUNCH_CHECK();
    hgrn1_carry_kernel<<<blocks_for(d.B * d.D), 128>>>(e, lg, pdht, start, pdh0, B, D, nch, true);
    HGRN_LAUNCH_CHECK();
    if (pairs)
        hgrn1_bwd_chunks_kernel<2><<<nb, 128>>>(pg, ph0, po, pdo, pdx, pdg, start, nullptr, nullptr, B, T, D, nch, L);
    else
        hgrn1_bwd_chunks_kernel<1><<<nb, 128>>>(pg, ph0, po, pdo, pdx, pdg, start, nullptr, nullptr, B, T, D, nch, L);
    HGRN_LAUNCH_CHECK();
    HGRN_CUDA_CHECK(cudaFreeAsync(scratch, nullptr));
}

}  // namespace hgrn
