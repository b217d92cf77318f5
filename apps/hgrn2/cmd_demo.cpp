// cmd_demo.cpp — `hgrn2 demo`: a short tour of the recurrence library on random HGRN2-shaped inputs.
// Runs the chunkwise and recurrent fp32 CPU paths, checks them against the float64 reference, carries the
// state from a chunkwise prefill into token-by-token decoding, runs the backward, and does the same for the
// HGRN1 element-wise scan. Prints errors and timings; exits non-zero if any check fails.
#include <chrono>
#include <cmath>
#include <cstring>
#include <fmt/core.h>

#include "commands.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "gla/gla.h"
#include "hgrn1_scan/hgrn1_scan.h"

namespace hgrn::app {
namespace {

struct DemoOptions {
    int64_t B = 2, T = 1024, H = 4, K = 64;
    uint64_t seed = 1;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// max |a - r| / max |r| over two CPU tensors of any floating dtype.
double rel_err(const Tensor& a, const Tensor& r) {
    Buffer x(DType::f64, a.shape()), y(DType::f64, r.shape());
    copy(a, x);
    copy(r.reshape(a.shape()), y);
    double e = 0, m = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
        const double u = x.ptr<double>()[i], v = y.ptr<double>()[i];
        if (!std::isfinite(u)) return INFINITY;
        e = std::max(e, std::abs(u - v));
        m = std::max(m, std::abs(v));
    }
    return m > 0 ? e / m : e;
}

// HGRN2-shaped random inputs: q = swish(x), g = logsigmoid(x) (so k = 1 - exp(g) is implied), v = x.
struct Inputs {
    Buffer q, v, g, h0;
    Inputs(const DemoOptions& o, DType t, Rng& rng)
        : q(t, {o.B, o.T, o.H, o.K}), v(t, {o.B, o.T, o.H, o.K}), g(t, {o.B, o.T, o.H, o.K}),
          h0(t, {o.B, o.H, o.K, o.K}) {
        auto each = [&](Buffer& b, auto f) {
            Buffer d(DType::f64, b.shape());
            for (int64_t i = 0; i < d.numel(); ++i) d.ptr<double>()[i] = f(rng.normal());
            copy(d, b);
        };
        each(q, [](double x) { return x / (1 + std::exp(-x)); });
        each(v, [](double x) { return x; });
        each(g, [](double x) { return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x)); });
        each(h0, [](double x) { return 0.1 * x; });
    }
    GlaInputs gla() const { return {q.view(), Tensor(), v.view(), g.view(), h0.view()}; }
};

bool report(const char* what, double err, double tol, double secs = -1) {
    const bool ok = err <= tol;
    if (secs >= 0) fmt::print("  {:<46} rel err {:9.2e}  {:8.2f} ms  {}\n", what, err, secs * 1e3, ok ? "ok" : "FAIL");
    else fmt::print("  {:<46} rel err {:9.2e}  {:>11}  {}\n", what, err, "", ok ? "ok" : "FAIL");
    return ok;
}

int run_demo(const DemoOptions& o) {
    fmt::print("hgrn2 demo: GLA recurrence as HGRN2 uses it (k = 1 - exp(g), scale 1/sqrt(K))\n");
    fmt::print("  B={} T={} H={} K=V={}  threads={}  seed={}\n", o.B, o.T, o.H, o.K, num_threads(), o.seed);
    Rng rng(o.seed);
    Inputs x32(o, DType::f32, rng);
    Inputs x64(o, DType::f64, rng);
    copy(x32.q, x64.q), copy(x32.v, x64.v), copy(x32.g, x64.g), copy(x32.h0, x64.h0);
    const Shape vs{o.B, o.T, o.H, o.K}, ss{o.B, o.H, o.K, o.K};
    Buffer o_ref(DType::f64, vs), ht_ref(DType::f64, ss), o_chunk(DType::f32, vs), ht_chunk(DType::f32, ss),
        o_rec(DType::f32, vs), ht_rec(DType::f32, ss);
    bool ok = true;

    auto t0 = std::chrono::steady_clock::now();
    gla_recurrent_forward(x64.gla(), {o_ref, ht_ref});
    fmt::print("  float64 recurrent reference: {:.1f} ms\n", seconds_since(t0) * 1e3);
    t0 = std::chrono::steady_clock::now();
    gla_chunk_forward(x32.gla(), {o_chunk, ht_chunk});
    ok &= report("fp32 chunkwise forward: output", rel_err(o_chunk, o_ref), 1e-4, seconds_since(t0));
    ok &= report("fp32 chunkwise forward: final state", rel_err(ht_chunk, ht_ref), 1e-4);
    t0 = std::chrono::steady_clock::now();
    gla_recurrent_forward(x32.gla(), {o_rec, ht_rec});
    ok &= report("fp32 recurrent forward: output", rel_err(o_rec, o_ref), 1e-4, seconds_since(t0));

    // Prefill all but the last 16 tokens chunkwise, then decode those 16 one token at a time.
    const int64_t P = std::max<int64_t>(o.T - 16, 1);
    Buffer state(DType::f32, ss), o_pre(DType::f32, {o.B, P, o.H, o.K});
    {
        Buffer q(DType::f32, {o.B, P, o.H, o.K}), v(DType::f32, q.shape()), g(DType::f32, q.shape());
        for (int64_t b = 0; b < o.B; ++b) {
            const size_t n = size_t(P * o.H * o.K) * 4, off = size_t(b * o.T * o.H * o.K), offp = size_t(b * P * o.H * o.K);
            std::memcpy(q.ptr<float>() + offp, x32.q.ptr<float>() + off, n);
            std::memcpy(v.ptr<float>() + offp, x32.v.ptr<float>() + off, n);
            std::memcpy(g.ptr<float>() + offp, x32.g.ptr<float>() + off, n);
        }
        gla_chunk_forward({q.view(), Tensor(), v.view(), g.view(), x32.h0.view()}, {o_pre, state});
    }
    Buffer qt(DType::f32, {o.B, o.H, o.K}), vt(DType::f32, qt.shape()), gt(DType::f32, qt.shape()), ot(DType::f32, qt.shape());
    double step_err = 0;
    t0 = std::chrono::steady_clock::now();
    for (int64_t t = P; t < o.T; ++t) {
        for (int64_t b = 0; b < o.B; ++b) {
            const size_t n = size_t(o.H * o.K) * 4, off = size_t((b * o.T + t) * o.H * o.K), offt = size_t(b * o.H * o.K);
            std::memcpy(qt.ptr<float>() + offt, x32.q.ptr<float>() + off, n);
            std::memcpy(vt.ptr<float>() + offt, x32.v.ptr<float>() + off, n);
            std::memcpy(gt.ptr<float>() + offt, x32.g.ptr<float>() + off, n);
        }
        gla_step(qt, Tensor(), vt, gt, state, ot);
        Buffer ref_t(DType::f64, qt.shape());
        for (int64_t b = 0; b < o.B; ++b)
            std::memcpy(ref_t.ptr<double>() + b * o.H * o.K, o_ref.ptr<double>() + (b * o.T + t) * o.H * o.K,
                        size_t(o.H * o.K) * 8);
        step_err = std::max(step_err, rel_err(ot, ref_t));
    }
    const double decode_s = seconds_since(t0);
    ok &= report("chunkwise prefill + 16 decode steps: outputs", step_err, 1e-4, decode_s);
    ok &= report("chunkwise prefill + 16 decode steps: state", rel_err(state, ht_ref), 1e-4);

    // Backward: random dO and dht, fp32 chunkwise against the float64 recurrent reference.
    Buffer do32(DType::f32, vs), dht32(DType::f32, ss), do64(DType::f64, vs), dht64(DType::f64, ss);
    Inputs grad_src(o, DType::f32, rng);
    copy(grad_src.v, do32), copy(grad_src.h0, dht32), copy(do32, do64), copy(dht32, dht64);
    const Shape ks{o.B, o.T, o.H, o.K};
    Buffer dq64(DType::f64, ks), dv64(DType::f64, vs), dg64(DType::f64, ks), dh064(DType::f64, ss);
    Buffer dq32(DType::f32, ks), dv32(DType::f32, vs), dg32(DType::f32, ks), dh032(DType::f32, ss);
    gla_recurrent_backward(x64.gla(), {do64, dht64}, {dq64, Tensor(), dv64, dg64, dh064});
    t0 = std::chrono::steady_clock::now();
    gla_chunk_backward(x32.gla(), {do32, dht32}, {dq32, Tensor(), dv32, dg32, dh032});
    const double bwd_s = seconds_since(t0);
    ok &= report("fp32 chunkwise backward: dq", rel_err(dq32, dq64), 1e-4, bwd_s);
    ok &= report("fp32 chunkwise backward: dv", rel_err(dv32, dv64), 1e-4);
    ok &= report("fp32 chunkwise backward: dg (incl. k = 1 - exp g)", rel_err(dg32, dg64), 1e-3);
    ok &= report("fp32 chunkwise backward: dh0", rel_err(dh032, dh064), 1e-4);

    // HGRN1: element-wise scan over D = H * K channels.
    const int64_t D = o.H * o.K;
    Buffer xs(DType::f32, {o.B, o.T, D}), os(DType::f32, xs.shape()), os64(DType::f64, xs.shape()), xs64(DType::f64, xs.shape()),
        gs64(DType::f64, xs.shape());
    copy(x32.v.view().reshape(xs.shape()), xs);
    copy(xs, xs64);
    copy(x64.g.view().reshape(xs.shape()), gs64);
    t0 = std::chrono::steady_clock::now();
    hgrn1_scan_forward(xs, x32.g.view().reshape(xs.shape()), Tensor(), os, Tensor());
    const double scan_s = seconds_since(t0);
    hgrn1_scan_forward(xs64, gs64, Tensor(), os64, Tensor());
    ok &= report("HGRN1 element-wise scan forward", rel_err(os, os64), 1e-5, scan_s);

    fmt::print("demo {}\n", ok ? "passed: every path agrees with the float64 reference" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace

void add_demo(CLI::App& app, Registry& reg) {
    auto* sub = app.add_subcommand("demo", "Tour of the recurrence library on random inputs (CPU)");
    auto o = std::make_shared<DemoOptions>();
    sub->add_option("--batch", o->B, "batch size B")->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--length", o->T, "sequence length T")->capture_default_str()->check(CLI::Range(17, 1 << 20));
    sub->add_option("--heads", o->H, "heads H")->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--head-dim", o->K, "head dim K = V (HGRN2's expand ratio)")->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--seed", o->seed, "random seed")->capture_default_str();
    reg.emplace_back(sub, [o] { return run_demo(*o); });
}

}  // namespace hgrn::app
