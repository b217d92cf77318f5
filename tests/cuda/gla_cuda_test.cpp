// gla_cuda_test.cpp — the GLA CUDA kernels (src/gla/cuda) against the float64 reference, through the public
// API (gla.h): device tensors dispatch to the CUDA backend, f64 host tensors to the reference.
//   * chunk forward / backward and recurrent forward: o, ht, dq, dk, dv, dg, dh0 on awkward shapes
//     (T in {1, 2, 63, 64, 65, 127, 1025}, B, H > 1, head dims 16..256 incl. 48, 96 and K != V), with and
//     without h0 / dht, the fused HGRN2 key (k absent) and an explicit k, gates weak to strong (log f near
//     -30 per step);
//   * bf16 storage judged by relative RMS <= 5e-3 against float64 AND <= 2x a naive same-precision
//     computation (fp32 recurrence on the same rounded inputs, outputs rounded like ours); fp32 storage by
//     relative RMS against float64;
//   * outputs poisoned with NaN before each run, so an unwritten element fails;
//   * the one-token step for a batch against the reference step.
// Tests named *Small* are the compute-sanitizer subset (scripts/gpu_tests.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <sstream>

#include "common/random.h"
#include "cuda/cuda_test_util.h"
#include "gla/gla.h"

namespace hgrn {
namespace {

using test::Dev;
using test::Vec;

struct Case {
    int64_t B, T, H, K, V;
    DType io = DType::bf16;  // dtype of q, k, v, o, dout and their gradients on the GPU
    bool fused = true;       // k absent: k = 1 - exp(g)
    bool h0 = true, dht = true;
    double strength = 1.0;
    uint64_t seed = 7;
    bool ht = true;  // ask for the final state (without it the forward may keep the state less exactly)
    bool states = false;  // the forward writes the chunk states; the backward is given them
};

std::string name(const Case& c) {
    std::ostringstream os;
    os << "B" << c.B << " T" << c.T << " H" << c.H << " K" << c.K << " V" << c.V << " " << dtype_name(c.io)
       << (c.fused ? " fused" : " k") << (c.h0 ? " h0" : "") << (c.dht ? " dht" : "") << " gate*" << c.strength
       << " seed " << c.seed << (c.ht ? "" : " no-ht") << (c.states ? " states" : "");
    return os.str();
}

struct Data {
    Vec q, k, v, g, h0, dout, dht;  // values exactly representable in their GPU dtype
};
struct Result {
    Vec o, ht, dq, dk, dv, dg, dh0;
    Vec states;  // (B, H, N, K, V): the state before each chunk of 64 tokens
};

Data make_data(const Case& c) {
    Rng rng(c.seed);
    const int64_t nqk = c.B * c.T * c.H * c.K, nv = c.B * c.T * c.H * c.V, ns = c.B * c.H * c.K * c.V;
    Data d;
    auto normal = [&](int64_t n, DType t, double sd = 1.0) {
        Vec x(static_cast<size_t>(n));
        test::fill_normal(test::host_view(x, {n}), rng, sd);
        return test::round_to(x, t);
    };
    d.q = normal(nqk, c.io);
    if (!c.fused) d.k = normal(nqk, c.io);
    d.v = normal(nv, c.io);
    d.g.resize(size_t(nqk));
    test::fill_log_gate(test::host_view(d.g, {nqk}), rng, c.strength);
    d.g = test::round_to(d.g, DType::f32);
    if (c.h0) d.h0 = normal(ns, DType::f32);
    d.dout = normal(nv, c.io);
    if (c.dht) d.dht = normal(ns, DType::f32);
    return d;
}

// The float64 reference through the public API (k absent in the fused form, as on the GPU).
Result reference(const Case& c, Data d, bool backward) {
    const Shape qs{c.B, c.T, c.H, c.K}, vs{c.B, c.T, c.H, c.V}, ss{c.B, c.H, c.K, c.V};
    Result r;
    r.o.resize(size_t(vs.numel()));
    r.ht.resize(size_t(ss.numel()));
    GlaInputs in;
    in.q = test::host_view(d.q, qs);
    if (!c.fused) in.k = test::host_view(d.k, qs);
    in.v = test::host_view(d.v, vs);
    in.g = test::host_view(d.g, qs);
    if (c.h0) in.h0 = test::host_view(d.h0, ss);
    gla_recurrent_forward(in, {test::host_view(r.o, vs), test::host_view(r.ht, ss)});
    if (c.states) {  // through the f64 chunkwise forward, which writes them
        const Shape hs = gla_states_shape({c.B, c.T, c.H, c.K, c.V});
        Vec o2(r.o.size());
        r.states.resize(size_t(hs.numel()));
        gla_chunk_forward(in, {test::host_view(o2, vs), Tensor(), test::host_view(r.states, hs)});
    }
    if (!backward) return r;
    r.dq.resize(size_t(qs.numel()));
    r.dv.resize(size_t(vs.numel()));
    r.dg.resize(size_t(qs.numel()));
    r.dh0.resize(size_t(ss.numel()));
    GlaGrads gr{test::host_view(r.dq, qs), Tensor(), test::host_view(r.dv, vs), test::host_view(r.dg, qs),
                test::host_view(r.dh0, ss)};
    if (!c.fused) {
        r.dk.resize(size_t(qs.numel()));
        gr.dk = test::host_view(r.dk, qs);
    }
    GlaGradOutputs go{test::host_view(d.dout, vs), c.dht ? test::host_view(d.dht, ss) : Tensor()};
    gla_recurrent_backward(in, go, gr);
    return r;
}

// Naive same-precision computation: the recurrence in fp32 on the same rounded inputs (fp32 state), with
// the outputs rounded to the dtypes the GPU stores them in.
Result naive_f32(const Case& c, const Data& d) {
    const int64_t B = c.B, T = c.T, H = c.H, K = c.K, V = c.V;
    const float s = float(1.0 / std::sqrt(double(K)));
    Result r;
    r.o.assign(size_t(B * T * H * V), 0);
    r.ht.assign(size_t(B * H * K * V), 0);
    r.dq.assign(size_t(B * T * H * K), 0);
    r.dk = r.dq;
    r.dg = r.dq;
    r.dv = r.o;
    r.dh0 = r.ht;
    r.states.assign(size_t(B * H * ((T + kGlaChunk - 1) / kGlaChunk) * K * V), 0);
    std::vector<float> S(static_cast<size_t>(K * V)), kk(static_cast<size_t>(K)), ff(static_cast<size_t>(K));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t st = (b * H + h) * K * V;
            auto qk = [&](int64_t t) { return ((b * T + t) * H + h) * K; };
            auto vo = [&](int64_t t) { return ((b * T + t) * H + h) * V; };
            auto key = [&](int64_t t) {
                for (int64_t j = 0; j < K; ++j) {
                    const float g = float(d.g[size_t(qk(t) + j)]);
                    ff[size_t(j)] = std::exp(g);
                    kk[size_t(j)] = c.fused ? -std::expm1(g) : float(d.k[size_t(qk(t) + j)]);
                }
            };
            for (int64_t i = 0; i < K * V; ++i) S[size_t(i)] = c.h0 ? float(d.h0[size_t(st + i)]) : 0.f;
            const int64_t N = (T + kGlaChunk - 1) / kGlaChunk;
            for (int64_t t = 0; t < T; ++t) {
                if (t % kGlaChunk == 0)
                    for (int64_t i = 0; i < K * V; ++i) r.states[size_t(((b * H + h) * N + t / kGlaChunk) * K * V + i)] = S[size_t(i)];
                key(t);
                for (int64_t j = 0; j < K; ++j)
                    for (int64_t e = 0; e < V; ++e)
                        S[size_t(j * V + e)] = ff[size_t(j)] * S[size_t(j * V + e)] +
                                               kk[size_t(j)] * float(d.v[size_t(vo(t) + e)]);
                for (int64_t e = 0; e < V; ++e) {
                    float a = 0;
                    for (int64_t j = 0; j < K; ++j) a += S[size_t(j * V + e)] * float(d.q[size_t(qk(t) + j)]);
                    r.o[size_t(vo(t) + e)] = a * s;
                }
                for (int64_t j = 0; j < K; ++j) {
                    float a = 0;
                    for (int64_t e = 0; e < V; ++e) a += S[size_t(j * V + e)] * float(d.dout[size_t(vo(t) + e)]);
                    r.dq[size_t(qk(t) + j)] = a * s;
                }
            }
            std::vector<float> term(size_t(K), 0.f);
            for (int64_t j = 0; j < K; ++j)
                for (int64_t e = 0; e < V; ++e) {
                    const float dh = c.dht ? float(d.dht[size_t(st + j * V + e)]) : 0.f;
                    r.ht[size_t(st + j * V + e)] = S[size_t(j * V + e)];
                    term[size_t(j)] += S[size_t(j * V + e)] * dh;
                    S[size_t(j * V + e)] = dh;  // S now holds dS
                }
            for (int64_t t = T - 1; t >= 0; --t) {
                key(t);
                for (int64_t j = 0; j < K; ++j)
                    for (int64_t e = 0; e < V; ++e)
                        S[size_t(j * V + e)] += s * float(d.q[size_t(qk(t) + j)]) * float(d.dout[size_t(vo(t) + e)]);
                for (int64_t j = 0; j < K; ++j) {
                    float a = 0;
                    for (int64_t e = 0; e < V; ++e) a += S[size_t(j * V + e)] * float(d.v[size_t(vo(t) + e)]);
                    r.dk[size_t(qk(t) + j)] = a;
                }
                for (int64_t e = 0; e < V; ++e) {
                    float a = 0;
                    for (int64_t j = 0; j < K; ++j) a += S[size_t(j * V + e)] * kk[size_t(j)];
                    r.dv[size_t(vo(t) + e)] = a;
                }
                for (int64_t j = 0; j < K; ++j)
                    for (int64_t e = 0; e < V; ++e) S[size_t(j * V + e)] *= ff[size_t(j)];
            }
            for (int64_t i = 0; i < K * V; ++i) r.dh0[size_t(st + i)] = S[size_t(i)];
            for (int64_t j = 0; j < K; ++j) {
                float acc = 0;
                for (int64_t t = T - 1; t >= 0; --t) {
                    const size_t i = size_t(qk(t) + j);
                    const float g = float(d.g[i]);
                    const float kv = c.fused ? -std::expm1(g) : float(d.k[i]);
                    acc += float(d.q[i]) * float(r.dq[i]) - kv * float(r.dk[i]);
                    float dg = acc + term[size_t(j)];
                    if (c.fused) dg -= std::exp(g) * float(r.dk[i]);
                    r.dg[i] = dg;
                }
            }
        }
    r.o = test::round_to(r.o, c.io);
    r.dq = test::round_to(r.dq, c.io);
    r.dk = test::round_to(r.dk, c.io);
    r.dv = test::round_to(r.dv, c.io);
    return r;
}

enum class Path { chunk, recurrent };

void run_case(const Case& c, Path path, bool backward) {
    SCOPED_TRACE(name(c));
    const Data d = make_data(c);
    const Result ref = reference(c, d, backward);
    const Result nv = naive_f32(c, d);
    const Shape qs{c.B, c.T, c.H, c.K}, vs{c.B, c.T, c.H, c.V}, ss{c.B, c.H, c.K, c.V};
    Dev q(d.q, c.io, qs), v(d.v, c.io, vs), g(d.g, DType::f32, qs);
    Dev k = c.fused ? Dev() : Dev(d.k, c.io, qs);
    Dev h0 = c.h0 ? Dev(d.h0, DType::f32, ss) : Dev();
    GlaInputs in;
    in.q = q.view();
    in.k = k.view();
    in.v = v.view();
    in.g = g.view();
    in.h0 = h0.view();
    Dev o(c.io, vs), ht(DType::f32, ss);
    o.poison();
    ht.poison();
    const Tensor htv = c.ht ? ht.view() : Tensor();
    Dev states = c.states ? Dev(DType::f32, gla_states_shape({c.B, c.T, c.H, c.K, c.V})) : Dev();
    if (c.states) states.poison();
    if (path == Path::chunk) gla_chunk_forward(in, {o.view(), htv, states.view()});
    else gla_recurrent_forward(in, {o.view(), htv});
    cuda_synchronize();
    const bool b16 = c.io == DType::bf16;
    test::judge("o", o.download(), ref.o, nv.o, b16);
    if (c.ht) test::judge("ht", ht.download(), ref.ht, nv.ht, b16);
    if (c.states) test::judge("states", states.download(), ref.states, nv.states, b16);
    in.states = states.view();  // the backward below reuses them (empty: recomputes)
    if (!backward) return;
    Dev dout(d.dout, c.io, vs);
    Dev dht = c.dht ? Dev(d.dht, DType::f32, ss) : Dev();
    Dev dq(c.io, qs), dv(c.io, vs), dg(DType::f32, qs), dh0(DType::f32, ss);
    Dev dk = c.fused ? Dev() : Dev(c.io, qs);
    for (Dev* x : {&dq, &dv, &dg, &dh0}) x->poison();
    if (!c.fused) dk.poison();
    gla_chunk_backward(in, {dout.view(), dht.view()}, {dq.view(), dk.view(), dv.view(), dg.view(), dh0.view()});
    cuda_synchronize();
    test::judge("dq", dq.download(), ref.dq, nv.dq, b16);
    if (!c.fused) test::judge("dk", dk.download(), ref.dk, nv.dk, b16);
    test::judge("dv", dv.download(), ref.dv, nv.dv, b16);
    test::judge("dg", dg.download(), ref.dg, nv.dg, b16);
    test::judge("dh0", dh0.download(), ref.dh0, nv.dh0, b16);
}

TEST(GlaCudaSmall, ChunkForwardBackwardTinyShapes) {
    for (int64_t T : {1, 2, 17, 65})
        for (bool fused : {true, false})
            run_case({2, T, 2, 16, 24, DType::bf16, fused, T != 2, T != 17, 1.0, uint64_t(T)}, Path::chunk, true);
    run_case({1, 70, 1, 64, 64, DType::bf16, true, true, true, 1.0, 3}, Path::chunk, true);
    run_case({1, 33, 1, 48, 96, DType::f32, false, true, true, 1.0, 4}, Path::chunk, true);
}

// The tensor-core chunk backward (bf16, K in {64, 128}, V % 64 == 0) on small shapes: partial chunks, several
// V tiles, explicit and fused k, with and without states, and a strong-gate (exact-path) chunk.
TEST(GlaCudaSmall, ChunkBackwardTensorCore) {
    run_case({2, 65, 2, 64, 64, DType::bf16, true, true, true, 1.0, 21}, Path::chunk, true);
    run_case({1, 70, 2, 64, 128, DType::bf16, false, false, true, 1.0, 22}, Path::chunk, true);
    run_case({2, 33, 1, 128, 64, DType::bf16, false, true, false, 1.0, 23}, Path::chunk, true);
    run_case({1, 129, 1, 128, 128, DType::bf16, true, false, false, 1.0, 24}, Path::chunk, true);
    run_case({1, 40, 2, 64, 64, DType::bf16, false, true, true, 30.0, 25}, Path::chunk, true);
    // the state pass's several-blocks-per-SM instance (large grids; these small ones take the one-block one)
    ::setenv("HGRN_GLA_STATE_ONE_BLOCK", "0", 1);
    run_case({2, 65, 2, 64, 128, DType::bf16, true, true, true, 1.0, 26}, Path::chunk, true);
    run_case({1, 70, 2, 128, 128, DType::bf16, false, true, true, 1.0, 27}, Path::chunk, true);
    ::unsetenv("HGRN_GLA_STATE_ONE_BLOCK");
}

// K = 256 on the tensor-core paths (the K = 128 kernels on two 128-column halves, o and dv summed from fp32
// partials): K = V, V < K, explicit and fused k, states on and off, a strong-gate (exact-path) chunk.
TEST(GlaCudaSmall, ChunkK256TensorCore) {
    run_case({1, 70, 2, 256, 256, DType::bf16, true, true, true, 1.0, 31}, Path::chunk, true);
    run_case({2, 33, 1, 256, 64, DType::bf16, false, true, false, 1.0, 32}, Path::chunk, true);
    run_case({1, 40, 1, 256, 128, DType::bf16, false, false, true, 30.0, 33}, Path::chunk, true);
}

// Runs f with HGRN_GLA_FWD_BV set to bv (the forward's block width, 64 or 128 V columns) and the sequential
// forward forced (HGRN_GLA_FWD_SPLIT=0: small batches would otherwise take the split path at long T).
template <class F>
void with_fwd_block_width(int bv, const F& f) {
    ::setenv("HGRN_GLA_FWD_BV", std::to_string(bv).c_str(), 1);
    ::setenv("HGRN_GLA_FWD_SPLIT", "0", 1);
    f();
    ::unsetenv("HGRN_GLA_FWD_BV");
    ::unsetenv("HGRN_GLA_FWD_SPLIT");
}

// The forward's two block widths (64 V columns / 8 warps, 128 / 16 warps) on K = 64, 128 and 256, with and
// without the final state (without it the state update takes one TF32 product instead of two), and q~ H
// both on wgmma (sm_90a, the default there) and on mma.sync (HGRN_GLA_FWD_WGMMA=0: the path of other GPUs).
TEST(GlaCudaSmall, ChunkForwardBlockWidths) {
    for (const char* wgmma : {"1", "0"})
        for (int bv : {64, 128})
            with_fwd_block_width(bv, [&] {
                ::setenv("HGRN_GLA_FWD_WGMMA", wgmma, 1);
                SCOPED_TRACE(testing::Message() << "block width " << bv << ", wgmma " << wgmma);
                for (bool ht : {true, false}) {
                    run_case({2, 130, 2, 128, 128, DType::bf16, true, true, true, 1.0, 41, ht}, Path::chunk, false);
                    run_case({1, 70, 1, 128, 256, DType::bf16, false, false, true, 1.0, 42, ht}, Path::chunk, false);
                    run_case({1, 65, 2, 256, 128, DType::bf16, true, true, true, 1.0, 43, ht}, Path::chunk, false);
                    run_case({1, 40, 1, 128, 128, DType::bf16, true, true, true, 30.0, 44, ht}, Path::chunk, false);
                    run_case({1, 100, 2, 64, 64, DType::bf16, true, true, true, 1.0, 45, ht}, Path::chunk, false);
                }
                ::unsetenv("HGRN_GLA_FWD_WGMMA");
            });
}

// The forward's chunk states (GlaOutputs::states), judged like ht, then handed to the backward, which skips
// recomputing them: every gradient judged as without. Sequential forward (both block widths, K = 256 as the
// cluster pair) and the split forward (T = 1025 with few blocks).
TEST(GlaCudaSmall, ChunkSavedStates) {
    Case c{2, 130, 2, 128, 128, DType::bf16, true, true, true, 1.0, 61};
    c.states = true;
    run_case(c, Path::chunk, true);
    c = {1, 70, 2, 256, 128, DType::bf16, false, false, true, 1.0, 62};
    c.states = true;
    run_case(c, Path::chunk, true);
}

// Non-finite inputs: the tensor-core backward rounds its TF32 operands without cvt.rna's NaN guard and instead
// writes NaN to every gradient of a chunk whose inputs or states hold inf / NaN. Wherever the float64 reference
// is non-finite, ours must be too (ours may be non-finite in more elements). One bad element at a time, in the
// middle chunk of three, in each input; fused (g alone) and explicit k; also with the forward's saved states.
TEST(GlaCudaSmall, NonFiniteInputsPropagate) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    struct Bad {
        const char* what;
        double value;
        bool fused, states;
    };
    const Bad cases[] = {{"q", nan, true, false}, {"k", nan, false, false}, {"v", nan, true, false},
                         {"v", inf, false, false}, {"g", nan, true, false}, {"dout", nan, true, false},
                         {"dout", -inf, false, true}, {"q", nan, false, true}};
    for (const Bad& bad : cases) {
        Case c{1, 150, 2, 128, 128, DType::bf16, bad.fused, true, true, 1.0, 51};
        c.states = bad.states;
        SCOPED_TRACE(testing::Message() << bad.what << " = " << bad.value << ", " << name(c));
        Data d = make_data(c);
        const std::string w = bad.what;
        Vec& x = w == "q" ? d.q : w == "k" ? d.k : w == "v" ? d.v : w == "g" ? d.g : d.dout;
        const int64_t width = (w == "v" || w == "dout") ? c.V : c.K;
        x[size_t(((0 * c.T + 80) * c.H + 1) * width + 5)] = bad.value;  // t = 80 (chunk 1), head 1, column 5
        const Result ref = reference(c, d, true);
        const Shape qs{c.B, c.T, c.H, c.K}, vs{c.B, c.T, c.H, c.V}, ss{c.B, c.H, c.K, c.V};
        Dev q(d.q, c.io, qs), v(d.v, c.io, vs), g(d.g, DType::f32, qs), h0(d.h0, DType::f32, ss);
        Dev k = c.fused ? Dev() : Dev(d.k, c.io, qs);
        GlaInputs in;
        in.q = q.view(), in.k = k.view(), in.v = v.view(), in.g = g.view(), in.h0 = h0.view();
        Dev o(c.io, vs), ht(DType::f32, ss);
        Dev states = c.states ? Dev(DType::f32, gla_states_shape({c.B, c.T, c.H, c.K, c.V})) : Dev();
        Dev dout(d.dout, c.io, vs), dht(d.dht, DType::f32, ss);
        Dev dq(c.io, qs), dv(c.io, vs), dg(DType::f32, qs), dh0(DType::f32, ss);
        Dev dk = c.fused ? Dev() : Dev(c.io, qs);
        // Outputs start finite (zero), so that an element the kernels leave unwritten cannot pass for a NaN.
        for (Dev* x : {&o, &ht, &dq, &dk, &dv, &dg, &dh0})
            if (!x->view().empty()) cuda_memset(x->view().data(), 0, x->view().nbytes());
        gla_chunk_forward(in, {o.view(), ht.view(), states.view()});
        in.states = states.view();
        gla_chunk_backward(in, {dout.view(), dht.view()}, {dq.view(), dk.view(), dv.view(), dg.view(), dh0.view()});
        cuda_synchronize();
        int64_t ref_bad = 0;
        const auto check = [&](const char* what, const Vec& got, const Vec& want) {
            int64_t missing = 0;
            for (size_t i = 0; i < want.size(); ++i) {
                if (std::isfinite(want[i])) continue;
                ++ref_bad;
                if (std::isfinite(got[i])) ++missing;
            }
            EXPECT_EQ(missing, 0) << what << ": finite where the float64 reference is not";
        };
        check("o", o.download(), ref.o);
        check("ht", ht.download(), ref.ht);
        check("dq", dq.download(), ref.dq);
        if (!c.fused) check("dk", dk.download(), ref.dk);
        check("dv", dv.download(), ref.dv);
        check("dg", dg.download(), ref.dg);
        check("dh0", dh0.download(), ref.dh0);
        EXPECT_GT(ref_bad, 0) << "the reference has no non-finite output: the case tests nothing";
    }
}

TEST(GlaCuda, ChunkSavedStatesShapes) {
    for (int bv : {64, 128})
        with_fwd_block_width(bv, [&] {
            for (int64_t K : {64, 128, 256})
                for (int64_t T : {1, 64, 65, 200}) {
                    Case c{2, T, 2, K, K == 64 ? 64 : 128, DType::bf16, T % 2 == 0, T != 64, true, 1.0, uint64_t(70 + K + T)};
                    c.states = true;
                    c.ht = T % 3 != 0;
                    run_case(c, Path::chunk, true);
                }
        });
    for (int64_t K : {64, 128, 256}) {  // T = 1025 with B = H = 2: the split forward writes them
        Case c{2, 1025, 2, K, 64, DType::bf16, true, true, false, 1.0, uint64_t(90 + K)};
        c.states = true;
        run_case(c, Path::chunk, true);
    }
    Case strong{2, 150, 2, 128, 64, DType::bf16, false, true, true, 30.0, 99};  // exact (wide) chunks
    strong.states = true;
    run_case(strong, Path::chunk, true);
}

// The state passes split into segments (few heads, long T: each segment from zero, then the true segment
// starts and a correction of the stored states, by a pass that rewrites them or, lazily, by the kernel that
// reads them): forced segment counts, including one chunk a segment and a count that does not divide the
// chunks; forward (split path, with ht; its output kernel 64 and 128 columns wide), backward, with and without
// saved states, explicit and fused k.
TEST(GlaCuda, StatePassSegments) {
    for (int segs : {3, 4, 17}) {
        ::setenv("HGRN_GLA_STATE_SEGMENTS", std::to_string(segs).c_str(), 1);
        SCOPED_TRACE(testing::Message() << "segments " << segs);
        for (int64_t K : {64, 128, 256})
            for (bool saved : {false, true}) {
                Case c{2, 1025, 2, K, 64, DType::bf16, K != 128, true, true, 1.0, uint64_t(110 + K + segs)};
                c.states = saved;
                run_case(c, Path::chunk, true);
            }
        Case wide{1, 1025, 2, 128, 256, DType::bf16, true, true, true, 1.0, uint64_t(120 + segs)};
        run_case(wide, Path::chunk, true);
        for (bool saved : {false, true}) {
            Case strong{1, 700, 2, 128, 128, DType::bf16, !saved, true, true, 10.0, uint64_t(130 + segs)};
            strong.states = saved;
            run_case(strong, Path::chunk, true);
        }
    }
    ::unsetenv("HGRN_GLA_STATE_SEGMENTS");
}

// The split forward (forced) with gates strong enough for exact (wide) chunks, and weak ones: its output
// kernel forms the scores into registers and stores them over q^ / k^ (K = 128, two blocks per SM), for the
// factored and the exact scores alike; K = 64 / 256 alongside (V = 256 at K = 128: four 64-column tiles; else
// 64). The small shapes also run under the sanitizers (scripts/gpu_tests.sh).
void split_forward_gates(int64_t B, int64_t T, int64_t H, bool h0) {
    ::setenv("HGRN_GLA_FWD_SPLIT", "1", 1);
    for (double st : {0.1, 10.0, 30.0})
        for (int64_t K : {64, 128, 256}) {
            const int64_t V = K == 128 ? 256 : 64;
            run_case({B, T, H, K, V, DType::bf16, K != 64, h0, h0, st, uint64_t(160 + K + st + T)}, Path::chunk,
                     false);
        }
    ::unsetenv("HGRN_GLA_FWD_SPLIT");
}
TEST(GlaCudaSmall, SplitForwardGates) { split_forward_gates(2, 130, 1, false); }
TEST(GlaCuda, SplitForwardGates) { split_forward_gates(1, 300, 2, true); }

// Both state-pass tile widths (32 x 64 and 32 x 128 columns; the automatic choice takes 128 only for many
// heads, which these small shapes do not have) and both register budgets (one block per SM, as these small
// grids get by default, and several, as large grids get), both directions, saved states, K = 64 / 128 / 256.
TEST(GlaCuda, StatePassTileWidths) {
    for (int tile : {64, 128})
    for (int one : {0, 1}) {
        ::setenv("HGRN_GLA_STATE_TILE", std::to_string(tile).c_str(), 1);
        ::setenv("HGRN_GLA_STATE_ONE_BLOCK", std::to_string(one).c_str(), 1);
        SCOPED_TRACE(testing::Message() << "state tile columns " << tile << ", one block per SM " << one);
        for (int64_t K : {64, 128, 256})
            for (bool saved : {false, true}) {
                Case c{2, 200, 2, K, 128, DType::bf16, saved, true, true, 1.0, uint64_t(140 + K + saved)};
                c.states = saved;
                run_case(c, Path::chunk, true);
            }
        Case c{2, 1025, 2, 128, 256, DType::bf16, true, true, true, 3.0, 150};  // split forward, strong gates
        c.states = true;
        run_case(c, Path::chunk, true);
    }
    ::unsetenv("HGRN_GLA_STATE_TILE");
    ::unsetenv("HGRN_GLA_STATE_ONE_BLOCK");
}

TEST(GlaCuda, ChunkSavedStatesBadArguments) {
    const Shape qs{1, 70, 1, 48}, vs{1, 70, 1, 48};
    Dev q(DType::bf16, qs), v(DType::bf16, vs), g(DType::f32, qs), o(DType::bf16, vs);
    GlaInputs in;
    in.q = q.view();
    in.v = v.view();
    in.g = g.view();
    Dev wrong(DType::f32, {1, 1, 1, 48, 48});  // N must be 2 for T = 70
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor(), wrong.view()}), Error);
    Dev bf(DType::bf16, {1, 1, 2, 48, 48});  // f32 only on the GPU
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor(), bf.view()}), Error);
    Dev ok(DType::f32, {1, 1, 2, 48, 48});  // K = 48: not the tensor-core path, so no states
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor(), ok.view()}), Error);
}

// Long sequences without the final state (one TF32 product per state update), both block widths: the
// state's error must not grow over 16 chunks.
TEST(GlaCuda, ChunkForwardNoFinalStateLong) {
    for (int bv : {64, 128})
        with_fwd_block_width(bv, [&] {
            for (double st : {0.1, 1.0})
                run_case({2, 1025, 2, 128, 128, DType::bf16, true, true, true, st, uint64_t(50 + bv + st * 10), false},
                         Path::chunk, false);
        });
}

void step_case(int64_t B, int64_t H, int64_t K, int64_t V, bool with_k = false);

TEST(GlaCudaSmall, RecurrentForwardAndStep) {
    run_case({2, 9, 3, 32, 40, DType::bf16, true, true, false, 1.0, 5}, Path::recurrent, false);
    // Step: batch of 3 sequences, one token, state in place, against the f64 reference step; the general
    // path (64 x 48) and the vectorised step kernel in 16-column slices (64 x 64, 128 x 128).
    for (auto [K, V] : {std::pair<int64_t, int64_t>{64, 48}, {64, 64}, {128, 128}}) step_case(3, 2, K, V);
    // The step kernel reads q, k, g, v per thread when its grid of slices is at most one block per SM, else
    // through shared memory (as over whole states): each with k given and k = 1 - exp(g).
    step_case(1, 16, 128, 128);        // the benchmark's batch 1: 128 slices (one per SM)
    step_case(1, 16, 128, 128, true);
    step_case(15, 16, 128, 128);       // 1920 slices
    step_case(30, 8, 64, 64, true);    // 960 slices
    step_case(64, 4, 128, 128);        // B x H >= 256: the step kernel over whole states
    step_case(64, 4, 64, 64, true);
}

void step_case(int64_t B, int64_t H, int64_t K, int64_t V, bool with_k) {
    SCOPED_TRACE(testing::Message() << "step B" << B << " H" << H << " K" << K << " V" << V << " k " << with_k);
    Rng rng(11 + K + V);
    Vec q(size_t(B * H * K)), k(size_t(B * H * K)), v(size_t(B * H * V)), g(size_t(B * H * K)),
        s(size_t(B * H * K * V));
    test::fill_normal(test::host_view(q, {B, H, K}), rng);
    test::fill_normal(test::host_view(k, {B, H, K}), rng);
    test::fill_normal(test::host_view(v, {B, H, V}), rng);
    test::fill_log_gate(test::host_view(g, {B, H, K}), rng, 1.0);
    test::fill_normal(test::host_view(s, {B, H, K, V}), rng);
    q = test::round_to(q, DType::bf16);
    k = test::round_to(k, DType::bf16);
    v = test::round_to(v, DType::bf16);
    g = test::round_to(g, DType::f32);
    s = test::round_to(s, DType::f32);
    Dev dq(q, DType::bf16, {B, H, K}), dk(k, DType::bf16, {B, H, K}), dv(v, DType::bf16, {B, H, V});
    Dev dg(g, DType::f32, {B, H, K}), ds(s, DType::f32, {B, H, K, V}), dout(DType::bf16, {B, H, V});
    dout.poison();
    gla_step(dq.view(), with_k ? dk.view() : Tensor(), dv.view(), dg.view(), ds.view(), dout.view());
    cuda_synchronize();
    Vec ro(size_t(B * H * V)), rs = s;
    gla_step(test::host_view(q, {B, H, K}), with_k ? test::host_view(k, {B, H, K}) : Tensor(),
             test::host_view(v, {B, H, V}), test::host_view(g, {B, H, K}), test::host_view(rs, {B, H, K, V}),
             test::host_view(ro, {B, H, V}));
    const auto eo = test::compare(dout.download(), ro), es = test::compare(ds.download(), rs);
    EXPECT_EQ(eo.nonfinite, 0) << eo.str();
    EXPECT_LE(eo.rel_rms, test::kTolBf16RmsGpu) << eo.str();
    EXPECT_LE(es.rel_rms, test::kTolF32RmsGpu) << es.str();
}

TEST(GlaCuda, AwkwardLengths) {
    for (int64_t T : {1, 2, 63, 64, 65, 127, 1025})
        run_case({2, T, 2, 64, 64, DType::bf16, true, true, true, 1.0, uint64_t(100 + T)}, Path::chunk, true);
}

// The tensor-core backward on the awkward lengths, both tiled K, fused and explicit k, states on and off.
TEST(GlaCuda, BackwardTensorCoreAwkward) {
    for (int64_t K : {64, 128, 256})
        for (int64_t T : {1, 2, 63, 64, 65, 127, 1025}) {
            const bool fused = (T + K / 64) % 2 == 0;
            run_case({2, T, 2, K, K == 64 ? 128 : 64, DType::bf16, fused, T % 3 != 0, T % 2 == 1, 1.0,
                      uint64_t(300 + K + T)},
                     Path::chunk, true);
        }
}

TEST(GlaCuda, BackwardTensorCoreStrongGates) {
    for (double st : {3.0, 10.0, 30.0})
        for (bool fused : {true, false})
            for (int64_t K : {128, 256})
                run_case({2, 150, 2, K, 64 * (K / 128), DType::bf16, fused, true, true, st, uint64_t(st * 7 + fused + K)},
                         Path::chunk, true);
}

TEST(GlaCuda, HeadDims) {
    const int64_t kv[][2] = {{16, 16}, {48, 48}, {96, 96}, {48, 96}, {96, 48}, {128, 128}, {256, 256},
                             {64, 200}, {33, 17}, {128, 64}, {64, 256}, {320, 64}};
    for (auto& p : kv)
        run_case({2, 130, 2, p[0], p[1], DType::bf16, true, true, true, 1.0, uint64_t(p[0] * 1000 + p[1])},
                 Path::chunk, true);
}

TEST(GlaCuda, TiledHeadDimsLong) {
    for (int64_t K : {64, 128, 256})
        for (int64_t T : {63, 64, 65, 200, 1025})
            run_case({2, T, 2, K, K, DType::bf16, true, T % 2 == 1, T != 64, 1.0, uint64_t(K + T)}, Path::chunk,
                     false);
    run_case({2, 300, 3, 128, 128, DType::bf16, false, true, true, 1.0, 77}, Path::chunk, false);
}

TEST(GlaCuda, GateStrengths) {
    for (double s : {0.1, 1.0, 10.0, 30.0})
        for (int64_t K : {64, 128})
            run_case({2, 200, 2, K, K, DType::bf16, true, true, true, s, uint64_t(s * 10 + K)}, Path::chunk, true);
}

TEST(GlaCuda, OptionalStates) {
    for (bool h0 : {false, true})
        for (bool dht : {false, true})
            run_case({3, 100, 2, 128, 128, DType::bf16, false, h0, dht, 1.0, uint64_t(h0 * 2 + dht)}, Path::chunk,
                     true);
}

TEST(GlaCuda, Float32Inputs) {
    run_case({2, 129, 2, 64, 64, DType::f32, false, true, true, 1.0, 9}, Path::chunk, true);
    run_case({2, 129, 2, 128, 128, DType::f32, true, true, true, 1.0, 10}, Path::chunk, true);
    run_case({2, 65, 2, 96, 48, DType::f32, true, true, false, 1.0, 12}, Path::recurrent, false);
}

TEST(GlaCuda, BadArgumentsThrow) {
    const Shape qs{1, 4, 1, 8};
    Dev q(DType::bf16, qs), v(DType::bf16, qs), g(DType::bf16, qs), o(DType::bf16, qs);
    GlaInputs in;
    in.q = q.view();
    in.v = v.view();
    in.g = g.view();  // g must be f32 on the GPU
    EXPECT_THROW(gla_chunk_forward(in, {o.view(), Tensor()}), Error);
}

}  // namespace
}  // namespace hgrn
