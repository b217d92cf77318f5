// bench_gla.cu — the recurrence kernels on the GPU: GLA on the shapes of ANCHORS.md, and the HGRN1 element-wise
// scan, timed with CUDA events (warm-up, median of many, input sets rotated so that the working set exceeds L2),
// next to the machine's ceilings measured in the same run (cuBLAS bf16 GEMM 8192^3, device-to-device copy).
// Prints markdown tables.
//   bench_gla [--reps N] [--quick] [--shape I] [--no-step] [--fwd-only] [--step-only] [--no-hgrn1] [--hgrn1-only]
//   (--shape: only row I of the chunk table; --step-only: the ceilings and the step table)
// GLA forward: HGRN2 form (k = 1 - exp g on chip), bf16 q/v/o, fp32 g, no h0 / ht. Forward+backward: the same
// plus dq/dv bf16, dg fp32; and again with the forward's chunk states saved for the backward (GlaOutputs::states).
// Step: H = 16, K = V = 128, fp32 state in place, batch 1/16/64/256, one call and per call in a sequence of 24.
// HGRN1 scan: bf16 x/o/dout/dx, fp32 g/dg, both paths (one thread per channel, chunks).
// Bytes are the fewest a fused kernel must move (each input read once, each output written once).
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/cuda_check.cuh"
#include "core/rng.h"
#include "gla/gla.h"
#include "hgrn1_scan/hgrn1_scan_backends.h"

using namespace hgrn;

namespace {

int g_reps = 30;

// Median time in ms of fn(i) over g_reps runs after 3 warm-ups; i rotates over the input sets.
double time_ms(const std::function<void(int)>& fn, int nsets = 1) {
    cudaEvent_t a, b;
    HGRN_CUDA_CHECK(cudaEventCreate(&a));
    HGRN_CUDA_CHECK(cudaEventCreate(&b));
    for (int i = 0; i < 3; ++i) fn(i % nsets);
    HGRN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> ms;
    for (int i = 0; i < g_reps; ++i) {
        HGRN_CUDA_CHECK(cudaEventRecord(a));
        fn(i % nsets);
        HGRN_CUDA_CHECK(cudaEventRecord(b));
        HGRN_CUDA_CHECK(cudaEventSynchronize(b));
        float t = 0;
        HGRN_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
        ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return ms[ms.size() / 2];
}

// The launch floor of one timed call (bench_step).
__global__ void empty_kernel() {}

// Random device data: normal for q/v/dout, log-sigmoid gates for g (as HGRN2 draws them).
__global__ void fill_kernel(void* p, int64_t n, bool bf16, int kind, uint64_t seed) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        uint64_t z = seed * 0x9e3779b97f4a7c15ull + uint64_t(i);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        const float u1 = (float((z >> 40) & 0xffffff) + 0.5f) / 16777216.f, u2 = float(z & 0xffffff) / 16777216.f;
        float x = sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
        if (kind == 1) x = -log1pf(expf(-x));  // logsigmoid: a decay <= 0
        if (bf16) static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(x);
        else static_cast<float*>(p)[i] = x;
    }
}

struct DevT {
    Buffer buf;
    DevT(DType t, Shape s, int kind = 0, uint64_t seed = 1) : buf(t, s, Device::cuda) {
        fill_kernel<<<1024, 256>>>(buf.view().data(), buf.numel(), t == DType::bf16, kind, seed);
        HGRN_LAUNCH_CHECK();
    }
    Tensor view() const { return buf.view(); }
};

struct Ceil {
    double gemm_tflops, copy_gbs;
};

Ceil ceilings() {
    const int n = 8192;
    DevT a(DType::bf16, {n, n}, 0, 1), b(DType::bf16, {n, n}, 0, 2), c(DType::bf16, {n, n}, 0, 3);
    cublasHandle_t h;
    HGRN_CUBLAS_CHECK(cublasCreate(&h));
    const float one = 1, zero = 0;
    const double gms = time_ms([&](int) {
        HGRN_CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.view().data(), CUDA_R_16BF, n,
                                       b.view().data(), CUDA_R_16BF, n, &zero, c.view().data(), CUDA_R_16BF, n,
                                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    });
    cublasDestroy(h);
    const int64_t bytes = int64_t(1) << 30;
    DevT x(DType::f32, {bytes / 4}), y(DType::f32, {bytes / 4});
    const double cms = time_ms([&](int) {
        HGRN_CUDA_CHECK(cudaMemcpyAsync(y.view().data(), x.view().data(), bytes, cudaMemcpyDeviceToDevice));
    });
    return {2.0 * n * n * double(n) / (gms * 1e9), 2.0 * bytes / (cms * 1e6)};
}

struct Shape4 {
    int64_t B, T, H, K;
    double fla_fwd, fla_fwdbwd;  // ms, ANCHORS.md (0 = not measured / crashed)
};

void bench_chunk(const Shape4& s, bool backward_too, const Ceil& ceil) {
    const int64_t B = s.B, T = s.T, H = s.H, K = s.K, V = s.K;
    const Shape qs{B, T, H, K}, vs{B, T, H, V};
    const int nsets = 2;  // each set is >= 100 MB here: two sets exceed the 50 MB L2 many times
    std::vector<DevT> q, v, g, o, dout, dq, dv, dg;
    for (int i = 0; i < nsets; ++i) {
        q.emplace_back(DType::bf16, qs, 0, 10 + i);
        v.emplace_back(DType::bf16, vs, 0, 20 + i);
        g.emplace_back(DType::f32, qs, 1, 30 + i);
        o.emplace_back(DType::bf16, vs, 0, 40 + i);
        if (backward_too) {
            dout.emplace_back(DType::bf16, vs, 0, 50 + i);
            dq.emplace_back(DType::bf16, qs, 0, 60 + i);
            dv.emplace_back(DType::bf16, vs, 0, 70 + i);
            dg.emplace_back(DType::f32, qs, 0, 80 + i);
        }
    }
    auto inputs = [&](int i) {
        GlaInputs in;
        in.q = q[i].view();
        in.v = v[i].view();
        in.g = g[i].view();
        return in;
    };
    const double n = double(B * T * H);
    const double fwd_bytes = n * (K * 2 + K * 4 + V * 2 + V * 2);
    const double fwd_flops = n * (4.0 * K * V + 2.0 * 64 * (K + V) / 2);
    const double fms = time_ms([&](int i) { gla_chunk_forward(inputs(i), {o[i].view(), Tensor()}); }, nsets);
    std::printf("| %ld,%ld,%ld,%ld | fwd | %.3f | %.3f | %.2fx | %.0f | %.1f%% | %.1f | %.1f%% |\n", B, T, H, K, fms,
                s.fla_fwd, s.fla_fwd / fms, fwd_bytes / (fms * 1e6), 100 * fwd_bytes / (fms * 1e6) / ceil.copy_gbs,
                fwd_flops / (fms * 1e9), 100 * fwd_flops / (fms * 1e9) / ceil.gemm_tflops);
    if (!backward_too) return;
    const double bms = time_ms(
        [&](int i) {
            const GlaInputs in = inputs(i);
            gla_chunk_forward(in, {o[i].view(), Tensor()});
            gla_chunk_backward(in, {dout[i].view(), Tensor()},
                               {dq[i].view(), Tensor(), dv[i].view(), dg[i].view(), Tensor()});
        },
        nsets);
    const double bwd_bytes = fwd_bytes + n * (K * 2 + K * 4 + V * 2 + V * 2 + K * 2 + V * 2 + K * 4);
    const double all_flops = 3 * fwd_flops;
    auto row = [&](const char* pass, double ms) {
        std::printf("| %ld,%ld,%ld,%ld | %s | %.3f | %s | %s | %.0f | %.1f%% | %.1f | %.1f%% |\n", B, T, H, K, pass, ms,
                    s.fla_fwdbwd > 0 ? std::to_string(s.fla_fwdbwd).substr(0, 5).c_str() : "—",
                    s.fla_fwdbwd > 0 ? (std::to_string(s.fla_fwdbwd / ms).substr(0, 4) + "x").c_str() : "—",
                    bwd_bytes / (ms * 1e6), 100 * bwd_bytes / (ms * 1e6) / ceil.copy_gbs, all_flops / (ms * 1e9),
                    100 * all_flops / (ms * 1e9) / ceil.gemm_tflops);
    };
    row("fwd+bwd", bms);
    // The same with the forward's chunk states saved for the backward (GlaOutputs::states): more memory
    // (B H N K V floats), no recomputation of the states in the backward.
    std::vector<DevT> states;
    for (int i = 0; i < nsets; ++i) states.emplace_back(DType::f32, gla_states_shape({B, T, H, K, V}), 0, 90 + i);
    const double sms = time_ms(
        [&](int i) {
            GlaInputs in = inputs(i);
            gla_chunk_forward(in, {o[i].view(), Tensor(), states[i].view()});
            in.states = states[i].view();
            gla_chunk_backward(in, {dout[i].view(), Tensor()},
                               {dq[i].view(), Tensor(), dv[i].view(), dg[i].view(), Tensor()});
        },
        nsets);
    row("fwd+bwd, states saved", sms);
    // Each pass alone, for the targets that compare a backward with fla's forward (speed-up column: against
    // fla's forward): the forward writing its states, and the backward with and without them (o, states
    // already in place from the runs above).
    auto alone = [&](const char* pass, double ms) {
        std::printf("| %ld,%ld,%ld,%ld | %s | %.3f | %.3f (fwd) | %.2fx | — | — | — | — |\n", B, T, H, K, pass, ms,
                    s.fla_fwd, s.fla_fwd / ms);
    };
    alone("fwd writing states", time_ms([&](int i) { gla_chunk_forward(inputs(i), {o[i].view(), Tensor(), states[i].view()}); },
                                        nsets));
    alone("bwd alone", time_ms(
                           [&](int i) {
                               gla_chunk_backward(inputs(i), {dout[i].view(), Tensor()},
                                                  {dq[i].view(), Tensor(), dv[i].view(), dg[i].view(), Tensor()});
                           },
                           nsets));
    alone("bwd alone, states saved", time_ms(
                                         [&](int i) {
                                             GlaInputs in = inputs(i);
                                             in.states = states[i].view();
                                             gla_chunk_backward(in, {dout[i].view(), Tensor()},
                                                                {dq[i].view(), Tensor(), dv[i].view(), dg[i].view(), Tensor()});
                                         },
                                         nsets));
}

void bench_step(int64_t B, double fla_ms, const Ceil& ceil) {
    const int64_t H = 16, K = 128, V = 128;
    const double state_bytes = double(B * H * K * V) * 4 * 2;  // read + write
    const int nsets = std::max<int>(1, int(200e6 / state_bytes));  // rotate states beyond L2
    std::vector<DevT> q, v, g, st, o;
    for (int i = 0; i < nsets; ++i) {
        q.emplace_back(DType::bf16, Shape{B, H, K}, 0, 100 + i);
        v.emplace_back(DType::bf16, Shape{B, H, V}, 0, 200 + i);
        g.emplace_back(DType::f32, Shape{B, H, K}, 1, 300 + i);
        st.emplace_back(DType::f32, Shape{B, H, K, V}, 0, 400 + i);
        o.emplace_back(DType::bf16, Shape{B, H, V}, 0, 500 + i);
    }
    auto call = [&](int i) { gla_step(q[i].view(), Tensor(), v[i].view(), g[i].view(), st[i].view(), o[i].view()); };
    const double ms = time_ms(call, nsets);
    // As a decoder calls it: kSeq layer calls issued back to back (each on its own state, as layers are)
    // between one pair of events, per call. The single-call time above also holds the idle GPU's launch latency.
    constexpr int kSeq = 24;
    const double seq = time_ms(
        [&](int i) {
            for (int l = 0; l < kSeq; ++l) call((i * kSeq + l) % nsets);
        },
        nsets) / kSeq;
    std::printf("| step B=%ld | %.1f us | %.1f us | %.1f us | %.2fx | %.0f GB/s | %.1f%% |\n", B, ms * 1e3, seq * 1e3,
                fla_ms * 1e3, fla_ms / ms, state_bytes / (ms * 1e6), 100 * state_bytes / (ms * 1e6) / ceil.copy_gbs);
}

// HGRN1 scan: bf16 x / o / dout / dx, fp32 g / dg, no h0 / ht, both paths (one thread per channel, chunks)
// forced through HGRN_HGRN1_CHUNKED, and which one the automatic choice takes.
void bench_hgrn1(int64_t B, int64_t T, int64_t D, const Ceil& ceil) {
    const Shape s{B, T, D};
    const int nsets = 2;
    std::vector<DevT> x, g, o, dout, dx, dg;
    for (int i = 0; i < nsets; ++i) {
        x.emplace_back(DType::bf16, s, 0, 600 + i);
        g.emplace_back(DType::f32, s, 1, 610 + i);
        o.emplace_back(DType::bf16, s, 0, 620 + i);
        dout.emplace_back(DType::bf16, s, 0, 630 + i);
        dx.emplace_back(DType::bf16, s, 0, 640 + i);
        dg.emplace_back(DType::f32, s, 0, 650 + i);
    }
    const double n = double(B * T * D), fwd_bytes = n * (2 + 4 + 2), bwd_bytes = n * (4 + 2 + 2 + 2 + 4);
    const int64_t auto_len = hgrn1_scan_chunk_length_cuda({B, T, D});  // no override set here
    for (int chunked = 0; chunked < 2; ++chunked) {
        setenv("HGRN_HGRN1_CHUNKED", chunked ? "1" : "0", 1);
        const int64_t len = hgrn1_scan_chunk_length_cuda({B, T, D});  // T: one thread per channel
        const std::string path = len < T ? "chunks of " + std::to_string(len) : "a thread per channel";
        const double fms = time_ms(
            [&](int i) { hgrn1_scan_forward(x[i].view(), g[i].view(), Tensor(), o[i].view(), Tensor()); }, nsets);
        const double bms = time_ms(
            [&](int i) {
                hgrn1_scan_backward(g[i].view(), Tensor(), o[i].view(), dout[i].view(), Tensor(), dx[i].view(),
                                    dg[i].view(), Tensor());
            },
            nsets);
        std::printf("| %ld,%ld,%ld | %s%s | %.3f | %.0f | %.1f%% | %.3f | %.0f | %.1f%% |\n", B, T, D,
                    path.c_str(), len == auto_len ? " (auto)" : "",
                    fms, fwd_bytes / (fms * 1e6), 100 * fwd_bytes / (fms * 1e6) / ceil.copy_gbs, bms,
                    bwd_bytes / (bms * 1e6), 100 * bwd_bytes / (bms * 1e6) / ceil.copy_gbs);
    }
    unsetenv("HGRN_HGRN1_CHUNKED");
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, step = true, backward = true, chunk = true, hgrn1 = true;
    int only = -1;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) g_reps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--quick")) quick = true;
        else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) only = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--no-step")) step = false;
        else if (!std::strcmp(argv[i], "--fwd-only")) backward = false;
        else if (!std::strcmp(argv[i], "--step-only")) chunk = false, hgrn1 = false;
        else if (!std::strcmp(argv[i], "--no-hgrn1")) hgrn1 = false;
        else if (!std::strcmp(argv[i], "--hgrn1-only")) chunk = false, step = false;
        else {
            std::fprintf(stderr, "bench_gla: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    try {
        if (cuda_device_count() == 0) {
            std::printf("bench_gla: no CUDA device\n");
            return 77;
        }
        std::printf("device: %s, reps %d (median)\n\n", cuda_device_name(0).c_str(), g_reps);
        const Ceil c = ceilings();
        std::printf("| ceiling | measured |\n|---|---|\n| bf16 GEMM 8192^3 (cuBLAS) | %.0f TFLOP/s |\n"
                    "| device-to-device copy (read + write) | %.0f GB/s |\n\n", c.gemm_tflops, c.copy_gbs);
        std::printf("| shape B,T,H,K=V | pass | ours ms | fla ms | speed-up | GB/s | %% of copy | TFLOP/s | %% of GEMM |\n"
                    "|---|---|---|---|---|---|---|---|---|\n");
        const Shape4 shapes[] = {{8, 2048, 16, 128, 0.854, 3.76}, {4, 4096, 16, 128, 0.882, 3.81},
                                 {1, 16384, 16, 128, 1.218, 4.51}, {8, 2048, 32, 64, 0.857, 0},
                                 {8, 2048, 8, 256, 1.001, 0}};
        for (int i = 0; i < int(sizeof(shapes) / sizeof(shapes[0])); ++i) {
            if (!chunk || (only >= 0 && i != only)) continue;
            bench_chunk(shapes[i], backward, c);
            if (quick) break;
        }
        if (step) {
            std::printf("\n| step (H=16, K=V=128, fp32 state) | ours, one call | ours, per call in a sequence of 24 | fla "
                        "| speed-up (one call) | effective (one call) | %% of copy |\n|---|---|---|---|---|---|---|\n");
            const std::pair<int64_t, double> steps[] = {{1, 0.104}, {16, 0.081}, {64, 0.103}, {256, 0.198}};
            for (auto [b, fla] : steps) bench_step(b, fla, c);
            // The floor of "one call": an empty kernel's launch timed the same way (events around one launch).
            const double empty = time_ms([](int) {
                empty_kernel<<<1, 32>>>();
                HGRN_LAUNCH_CHECK();
            });
            std::printf("| empty kernel (launch floor) | %.1f us | | | | | |\n", empty * 1e3);
        }
        if (hgrn1) {
            std::printf("\n| HGRN1 scan B,T,D | path | fwd ms | GB/s | %% of copy | bwd ms | GB/s | %% of copy |\n"
                        "|---|---|---|---|---|---|---|---|\n");
            const int64_t shapes1[][3] = {{8, 2048, 1024}, {8, 2048, 2048}, {32, 2048, 2048}, {1, 16384, 2048}};
            for (const auto& sh : shapes1) bench_hgrn1(sh[0], sh[1], sh[2], c);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_gla: %s\n", e.what());
        return 1;
    }
    return 0;
}
