// bench_train_cpu.cpp — CPU training throughput of an HGRN2 language model of about 10 M parameters:
// tokens/s of a full training step (forward, backward, AdamW) and the achieved GFLOP/s, counted as
// 6 · parameters · tokens (the matmul work) plus the chunkwise recurrence (forward 4d² + 2Cd per token-head,
// backward twice that), next to OpenBLAS sgemm (2048³) measured in the same run with the same threads.
// Usage: bench_train_cpu [--steps N] [--batch B] [--seq T]. Prints a markdown table.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "core/threads.h"
#include "model/lm.h"
#include "train/optimizer.h"

using namespace hgrn;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double sgemm_gflops(int n, int reps) {
    std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n);
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n);
        t.push_back(now() - t0);
    }
    std::sort(t.begin(), t.end());
    return 2.0 * n * double(n) * n / t[t.size() / 2] / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 10, B = 8, T = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--batch")) B = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--seq")) T = std::atoi(argv[i + 1]);
    }
    LmDims d;
    d.kind = MixerKind::hgrn2;
    d.vocab = 4096, d.D = 320, d.L = 6, d.H = 5, d.K = 64, d.V = 64, d.mlp_size = 1024, d.tied = true;
    LanguageModel m(d, DType::f32);
    lm_init(m, 1, 0.02);
    AdamW opt(m.params, {});
    Rng rng(2);
    Buffer ids(DType::i64, {B, T}), targets(DType::i64, {B, T});
    for (int64_t i = 0; i < int64_t(B) * T; ++i) ids.ptr<int64_t>()[i] = int64_t(rng.below(uint64_t(d.vocab)));
    lm_next_token_targets(ids, targets);
    LmActs acts;
    auto step = [&] {
        m.grads.zero_();
        lm_forward(m, ids, targets, acts);
        lm_backward(m, ids, targets, acts);
        clip_grad_norm(m.grads, 1.0);
        opt.step(m.params, m.grads, 1e-3);
    };
    const double gemm_before = sgemm_gflops(2048, 5);
    step();  // warm-up: allocations happen here
    std::vector<double> t;
    for (int s = 0; s < steps; ++s) {
        const double t0 = now();
        step();
        t.push_back(now() - t0);
    }
    const double gemm_after = sgemm_gflops(2048, 5);
    std::sort(t.begin(), t.end());
    const double sec = t[t.size() / 2], tokens = double(B) * T;
    const double N = double(m.params.count());
    const double rec_fwd = double(d.L) * d.H * (4.0 * d.K * d.V + 2.0 * 64 * d.K);  // per token
    const double flops = 6.0 * N * tokens + 3.0 * rec_fwd * tokens;
    const double gemm = std::max(gemm_before, gemm_after);
    std::printf("| model | params | B x T | step (median of %d) | tokens/s | GFLOP/s | sgemm 2048^3 GFLOP/s | ratio |\n",
                steps);
    std::printf("|---|---|---|---|---|---|---|---|\n");
    std::printf("| HGRN2 D=%lld L=%lld H=%lld K=V=%lld I=%lld vocab %lld tied | %.2f M | %d x %d | %.1f ms | %.0f | %.1f | %.1f (before %.1f, after %.1f) | %.0f%% |\n",
                (long long)d.D, (long long)d.L, (long long)d.H, (long long)d.K, (long long)d.mlp_size,
                (long long)d.vocab, N / 1e6, B, T, sec * 1e3, tokens / sec, flops / sec / 1e9, gemm, gemm_before,
                gemm_after, 100.0 * flops / sec / 1e9 / gemm);
    std::printf("threads %d; range of step times %.1f .. %.1f ms\n", num_threads(), t.front() * 1e3, t.back() * 1e3);
    return 0;
}
