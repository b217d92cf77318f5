// bench_gla_cpu.cpp — GFLOP/s of the fp32 CPU chunkwise GLA (forward, forward+backward) next to OpenBLAS sgemm
// measured in the same run, plus the one-token decode step next to memcpy bandwidth. Prints markdown tables.
//
// FLOPs (ANCHORS.md): chunkwise forward per token-head 4 d^2 + 2 C d with C = 64 and d = K = V; the backward is
// counted as twice the forward, so forward+backward = 3x the forward count. (The backward as written executes about
// 10 d^2 + 5 C d per token-head, state recomputation included: the counted figure is the model's cost, not the work
// done.) Inputs are HGRN2-style: g = logsigmoid(N(0, 1)), k = 1 - exp(g) passed explicitly, q, v, dout ~ N(0, 1).
//
// Timing: wall clock; per round, one warm-up then the median of --reps runs of each item; --rounds rounds; the table
// shows the best of the per-round medians and the range of the medians (the machine is shared: the range is the
// noise). Phases are separated by 0.3 s pauses so that the spinning worker threads of one library (OpenBLAS keeps
// its threads busy-waiting for a while after a call, OpenMP too) do not steal cores from the next phase.
//
// Usage: bench_gla_cpu [--reps N] [--rounds R] [--T T] [--H H] [--d D]   (defaults 15, 3, 2048, 4, 128; B = 1)
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "gla/gla.h"

using namespace hgrn;

namespace {

double median_seconds(int reps, const std::function<void()>& fn) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    fn();  // warm-up
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// Medians of several rounds: best and worst.
struct Spread {
    double best = 1e30, worst = 0;
    void add(double s) { best = std::min(best, s), worst = std::max(worst, s); }
};

void fill_normal(const Buffer& b, Rng& rng) {
    for (int64_t i = 0; i < b.numel(); ++i) b.ptr<float>()[i] = float(rng.normal());
}

struct Sgemm {
    int n;
    std::vector<float> a, b, c;
    explicit Sgemm(int n_) : n(n_), a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n) {
        Rng rng(1);
        for (auto& x : a) x = float(rng.normal());
        for (auto& x : b) x = float(rng.normal());
    }
    void run() {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(),
                    n);
    }
};

// Chunkwise GLA problem (B = 1) with HGRN2-style inputs and all outputs preallocated.
struct ChunkProblem {
    Buffer q, k, v, g, o, dout, dq, dk, dv, dg;
    GlaInputs in;
    ChunkProblem(int64_t T, int64_t H, int64_t d) {
        const Shape s{1, T, H, d};
        for (Buffer* b : {&q, &k, &v, &g, &o, &dout, &dq, &dk, &dv, &dg}) *b = Buffer(DType::f32, s);
        Rng rng(7);
        fill_normal(q, rng), fill_normal(v, rng), fill_normal(dout, rng), fill_normal(g, rng);
        for (int64_t i = 0; i < g.numel(); ++i) {
            const float x = g.ptr<float>()[i];
            const float ls = x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));  // logsigmoid
            g.ptr<float>()[i] = ls;
            k.ptr<float>()[i] = 1.0f - std::exp(ls);
        }
        in.q = q, in.k = k, in.v = v, in.g = g;
    }
    void forward() { gla_chunk_forward(in, {o, Tensor()}); }
    void forward_backward() {
        forward();
        gla_chunk_backward(in, {dout, Tensor()}, {dq, dk, dv, dg, Tensor()});
    }
    void recurrent_forward() { gla_recurrent_forward(in, {o, Tensor()}); }
};

// One decode step of B sequences, H heads, K = V = d; `inner` steps per timed run amortise the clock.
struct StepProblem {
    Buffer q, k, v, g, o, state;
    int inner;
    StepProblem(int64_t B, int64_t H, int64_t d)
        : q(DType::f32, {B, H, d}),
          k(DType::f32, {B, H, d}),
          v(DType::f32, {B, H, d}),
          g(DType::f32, {B, H, d}),
          o(DType::f32, {B, H, d}),
          state(DType::f32, {B, H, d, d}),
          inner(int(std::max<int64_t>(1, 4096 / (B * H)))) {
        Rng rng(3);
        fill_normal(q, rng), fill_normal(k, rng), fill_normal(v, rng), fill_normal(state, rng);
        for (int64_t i = 0; i < g.numel(); ++i) g.ptr<float>()[i] = -0.01f * float(1 + i % 7);
    }
    void run() {
        for (int i = 0; i < inner; ++i) gla_step(q, k, v, g, state, o);
    }
};

// Memory bandwidth reference: memcpy of 256 MiB split over the OpenMP threads (read + write counted).
double memcpy_seconds(std::vector<char>& a, std::vector<char>& b) {
    return median_seconds(5, [&] {
        const int nth = num_threads();
        const size_t part = a.size() / size_t(nth);
#pragma omp parallel for num_threads(nth)
        for (int i = 0; i < nth; ++i) std::memcpy(b.data() + size_t(i) * part, a.data() + size_t(i) * part, part);
    });
}

struct Args {
    int reps = 15, rounds = 3;
    int64_t T = 2048, H = 4, d = 128;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; i += 2) {
        const std::string k = argv[i];
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + k);
        if (k == "--reps")
            a.reps = std::stoi(argv[i + 1]);
        else if (k == "--rounds")
            a.rounds = std::stoi(argv[i + 1]);
        else if (k == "--T")
            a.T = std::stoll(argv[i + 1]);
        else if (k == "--H")
            a.H = std::stoll(argv[i + 1]);
        else if (k == "--d")
            a.d = std::stoll(argv[i + 1]);
        else
            throw std::runtime_error("unknown flag " + k);
    }
    return a;
}

void print_row(const char* what, double flops, const Spread& t, const Spread& gemm, double gemm_flops) {
    const double g = flops / t.best / 1e9, gs = gemm_flops / gemm.best / 1e9;
    std::printf("| %s | %.2f ms | %.1f | %.0f%% | %.2f .. %.2f ms |\n", what, t.best * 1e3, g, 100 * g / gs,
                t.best * 1e3, t.worst * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    try {
        a = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\nusage: %s [--reps N] [--rounds R] [--T T] [--H H] [--d D]\n", e.what(), argv[0]);
        return 2;
    }
    const int n = 2048;
    Sgemm gemm(n);
    ChunkProblem chunk(a.T, a.H, a.d);
    const int64_t batches[] = {1, 16, 64, 256};  // 256: a 256 MiB state, far beyond the caches
    std::vector<StepProblem> steps;
    for (int64_t B : batches) steps.emplace_back(B, 16, a.d);
    std::vector<char> src(size_t(256) << 20, 1), dst(src.size(), 0);
    Spread t_gemm, t_fwd, t_fb, t_rec, t_copy, t_step[4];
    for (int r = 0; r < a.rounds; ++r) {
        t_fwd.add(median_seconds(a.reps, [&] { chunk.forward(); }));
        t_fb.add(median_seconds(a.reps, [&] { chunk.forward_backward(); }));
        t_rec.add(median_seconds(std::max(3, a.reps / 3), [&] { chunk.recurrent_forward(); }));
        for (int i = 0; i < 4; ++i)
            t_step[i].add(median_seconds(a.reps, [&] { steps[size_t(i)].run(); }) / steps[size_t(i)].inner);
        t_copy.add(memcpy_seconds(src, dst));
        t_gemm.add(median_seconds(std::max(3, a.reps / 3), [&] { gemm.run(); }));
    }
    const double gemm_flops = 2.0 * n * n * n;
    const double fwd_flops = double(a.T) * a.H * (4.0 * a.d * a.d + 2.0 * kGlaChunk * a.d);
    std::printf("threads: %d (OpenMP), OpenBLAS threads: %d; best of %d per-round medians of %d runs\n\n",
                num_threads(), openblas_get_num_threads(), a.rounds, a.reps);
    std::printf("| B=1, T=%lld, H=%lld, K=V=%lld, C=%d, fp32 | time | GFLOP/s | %% of sgemm | medians seen |\n",
                (long long)a.T, (long long)a.H, (long long)a.d, kGlaChunk);
    std::printf("|---|---|---|---|---|\n");
    print_row("OpenBLAS sgemm 2048^3 (same run)", gemm_flops, t_gemm, t_gemm, gemm_flops);
    print_row("chunk forward", fwd_flops, t_fwd, t_gemm, gemm_flops);
    print_row("chunk forward+backward (backward counted 2x forward)", 3 * fwd_flops, t_fb, t_gemm, gemm_flops);
    print_row("recurrent forward (chunk forward's FLOP count)", fwd_flops, t_rec, t_gemm, gemm_flops);
    const double bw = 2.0 * double(src.size()) / t_copy.best / 1e9;  // read + write
    std::printf(
        "\n| one-token step, H=16, K=V=%lld | time per step | state GB/s (read+write) | %% of memcpy "
        "(%.1f GB/s, all threads, same run) | medians seen |\n",
        (long long)a.d, bw);
    std::printf("|---|---|---|---|---|\n");
    for (int i = 0; i < 4; ++i) {
        const double s = t_step[i].best, gbs = 2.0 * batches[i] * 16 * a.d * a.d * 4 / s / 1e9;
        std::printf("| batch %lld | %.1f us | %.1f | %.0f%% | %.1f .. %.1f us |\n", (long long)batches[i], s * 1e6, gbs,
                    100 * gbs / bw, s * 1e6, t_step[i].worst * 1e6);
    }
    return 0;
}
