// bench_gla_cpu.cpp — GFLOP/s of the fp32 CPU chunkwise GLA (forward, forward+backward) next to OpenBLAS sgemm
// measured in the same run, plus the one-token decode step against memcpy bandwidth. Prints a markdown table.
//
// FLOPs (ANCHORS.md): chunkwise forward per token-head 4 d^2 + 2 C d with C = 64 and d = K = V; backward counted as
// twice the forward, so forward+backward = 3x. (The backward as written executes about 10 d^2 + 5 C d per token-head,
// the state recomputation included: the counted figure is the model cost, not the work done.)
// Inputs are HGRN2-style: g = logsigmoid(N(0, 1)), k = 1 - exp(g) (passed explicitly), q, v, dout ~ N(0, 1).
// Timing: one warm-up, then the median of --reps runs (wall clock); run it a few times on a shared machine.
//
// Usage: bench_gla_cpu [--reps N] [--T T] [--H H] [--d D]     (defaults 15, 2048, 4, 128; B = 1)
#include <cblas.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "gla/gla.h"

using namespace hgrn;

namespace {

// Wall-clock and process CPU seconds (all threads) of one run; medians over runs.
struct Time {
    double wall = 0, cpu = 0;
};

double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

Time median_time(int reps, const std::function<void()>& fn) {
    fn();  // warm-up
    std::vector<double> w, c;
    for (int r = 0; r < reps; ++r) {
        const double c0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        w.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        c.push_back(cpu_seconds() - c0);
    }
    std::sort(w.begin(), w.end());
    std::sort(c.begin(), c.end());
    return {w[w.size() / 2], c[c.size() / 2]};
}

void fill_normal(const Buffer& b, Rng& rng) {
    for (int64_t i = 0; i < b.numel(); ++i) b.ptr<float>()[i] = float(rng.normal());
}

Time sgemm_time(int n, int reps) {
    std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
    Rng rng(1);
    for (auto& x : a) x = float(rng.normal());
    for (auto& x : b) x = float(rng.normal());
    return median_time(reps, [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(),
                    n);
    });
}

double memcpy_gbs(int reps) {
    const size_t n = size_t(256) << 20;
    std::vector<char> a(n, 1), b(n, 0);
    const Time t = median_time(reps, [&] { std::memcpy(b.data(), a.data(), n); });
    return 2.0 * double(n) / t.wall / 1e9;  // read + write
}

struct ChunkTimes {
    Time fwd, fwdbwd, rec_fwd;
};

ChunkTimes time_chunk(int64_t T, int64_t H, int64_t d, int reps) {
    const Shape qs{1, T, H, d};
    Buffer q(DType::f32, qs), k(DType::f32, qs), v(DType::f32, qs), g(DType::f32, qs), o(DType::f32, qs),
        dout(DType::f32, qs), dq(DType::f32, qs), dk(DType::f32, qs), dv(DType::f32, qs), dg(DType::f32, qs);
    Rng rng(7);
    fill_normal(q, rng), fill_normal(v, rng), fill_normal(dout, rng), fill_normal(g, rng);
    for (int64_t i = 0; i < g.numel(); ++i) {
        const float x = g.ptr<float>()[i];
        const float ls = x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));  // logsigmoid
        g.ptr<float>()[i] = ls;
        k.ptr<float>()[i] = 1.0f - std::exp(ls);
    }
    GlaInputs in;
    in.q = q, in.k = k, in.v = v, in.g = g;
    const GlaOutputs out{o, Tensor()};
    ChunkTimes r{};
    r.fwd = median_time(reps, [&] { gla_chunk_forward(in, out); });
    r.fwdbwd = median_time(reps, [&] {
        gla_chunk_forward(in, out);
        gla_chunk_backward(in, {dout, Tensor()}, {dq, dk, dv, dg, Tensor()});
    });
    r.rec_fwd = median_time(std::max(3, reps / 3), [&] { gla_recurrent_forward(in, out); });
    return r;
}

// One decode step: B sequences, H heads, K = V = d; per-call wall seconds.
double time_step(int64_t B, int64_t H, int64_t d, int reps) {
    Buffer q(DType::f32, {B, H, d}), k(DType::f32, {B, H, d}), v(DType::f32, {B, H, d}), g(DType::f32, {B, H, d}),
        o(DType::f32, {B, H, d}), state(DType::f32, {B, H, d, d});
    Rng rng(3);
    fill_normal(q, rng), fill_normal(k, rng), fill_normal(v, rng), fill_normal(state, rng);
    for (int64_t i = 0; i < g.numel(); ++i) g.ptr<float>()[i] = -0.01f * float(1 + i % 7);
    const int inner = int(std::max<int64_t>(1, 4096 / (B * H)));  // amortise the clock over many steps
    return median_time(reps,
                       [&] {
                           for (int i = 0; i < inner; ++i) gla_step(q, k, v, g, state, o);
                       })
               .wall /
           inner;
}

// One table row: wall-clock GFLOP/s and its ratio to sgemm, and the same on CPU time (all threads' seconds).
void row(const char* what, double flops, const Time& t, const Time& gemm, double gemm_flops) {
    const double gw = flops / t.wall / 1e9, gc = flops / t.cpu / 1e9;
    const double sw = gemm_flops / gemm.wall / 1e9, sc = gemm_flops / gemm.cpu / 1e9;
    std::printf("| %s | %.2f ms | %.1f | %.0f%% | %.2f ms | %.1f | %.0f%% |\n", what, t.wall * 1e3, gw, 100 * gw / sw,
                t.cpu * 1e3, gc, 100 * gc / sc);
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 15;
    int64_t T = 2048, H = 4, d = 128;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--reps")
            reps = std::stoi(argv[i + 1]);
        else if (a == "--T")
            T = std::stoll(argv[i + 1]);
        else if (a == "--H")
            H = std::stoll(argv[i + 1]);
        else if (a == "--d")
            d = std::stoll(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--T T] [--H H] [--d D]\n", argv[0]);
            return 2;
        }
    }
    const int n = 2048;
    const double gemm_flops = 2.0 * n * n * n;
    const Time gemm = sgemm_time(n, std::max(3, reps / 3));
    const ChunkTimes c = time_chunk(T, H, d, reps);
    const double fwd_flops = double(T) * H * (4.0 * d * d + 2.0 * kGlaChunk * d);
    std::printf("threads: %d (OpenMP), OpenBLAS threads: %d\n\n", num_threads(), openblas_get_num_threads());
    std::printf(
        "B=1, T=%lld, H=%lld, K=V=%lld, C=%d, fp32. GFLOP/s from the median wall time, and from the median CPU "
        "time of all threads (less sensitive to a shared machine)\n\n",
        (long long)T, (long long)H, (long long)d, kGlaChunk);
    std::printf("| what | wall | GFLOP/s | %% of sgemm | CPU time | GFLOP/s per CPU-second | %% of sgemm |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    row("OpenBLAS sgemm 2048^3 (same run)", gemm_flops, gemm, gemm, gemm_flops);
    row("chunk forward", fwd_flops, c.fwd, gemm, gemm_flops);
    row("chunk forward+backward (backward counted as 2x forward)", 3 * fwd_flops, c.fwdbwd, gemm, gemm_flops);
    row("recurrent forward (chunk forward's FLOP count)", fwd_flops, c.rec_fwd, gemm, gemm_flops);
    const double bw = memcpy_gbs(5);
    std::printf(
        "\n| one-token step (H=16, K=V=%lld) | wall per call | state GB/s (read+write) | %% of memcpy %.1f GB/s "
        "(same run) |\n",
        (long long)d, bw);
    std::printf("|---|---|---|---|\n");
    for (int64_t B : {1, 16, 64}) {
        const double s = time_step(B, 16, d, reps);
        const double gbs = 2.0 * B * 16 * d * d * 4 / s / 1e9;
        std::printf("| batch %lld | %.1f us | %.1f | %.0f%% |\n", (long long)B, s * 1e6, gbs, 100 * gbs / bw);
    }
    return 0;
}
