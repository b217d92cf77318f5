// thread_count_test.cpp — every fp32 CPU op gives bit-identical results with 1 and with 3 OpenMP threads
// (threads.h: parallel loops never split a reduction in a thread-count-dependent order). Sizes are above
// each op's parallel threshold, so the parallel paths run.
#include <functional>

#include "core/threads.h"
#include "op_test_util.h"
#include "ops/activation/activation.h"
#include "ops/cross_entropy/cross_entropy.h"
#include "ops/embedding/embedding.h"
#include "ops/gate/gate.h"
#include "ops/rmsnorm/rmsnorm.h"
#include "ops/short_conv/short_conv.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240508;

// Runs `op` (which writes into `outs`, zeroed first) with 1 and then 3 threads; expects identical outputs.
void expect_same_across_threads(const char* what, const std::function<void()>& op, const std::vector<Tensor>& outs) {
    SCOPED_TRACE(what);
    const int keep = num_threads();
    std::vector<std::vector<double>> first;
    for (const int n : {1, 3}) {
        set_num_threads(n);
        for (const Tensor& t : outs) fill(t, 0.0);
        op();
        std::vector<std::vector<double>> got;
        for (const Tensor& t : outs) got.push_back(values(t));
        if (first.empty())
            first = got;
        else
            for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], first[i]) << "output " << i;
    }
    set_num_threads(keep);
}

TEST(ThreadCount, F32ElementwiseNormAndGateAreBitIdenticalWith1And3Threads) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const DType f = DType::f32;
    const int64_t N = 300, D = 130;
    Buffer x = randn({N, D}, rng, 2, f), b = randn({N, D}, rng, 1, f), dy = randn({N, D}, rng, 1, f);
    Buffer dy2 = randn({N, D}, rng, 1, f), w = randn({D}, rng, 1, f), gamma(f, {D});
    fill_uniform(gamma, rng, 0.0, 0.9);
    Buffer y(f, {N, D}), y2(f, {N, D}), dx(f, {N, D}), dx2(f, {N, D}), dw(f, {D}), rstd(f, {N});
    expect_same_across_threads("rmsnorm",
                               [&] {
                                   rmsnorm_forward(x, w, 1e-5, y, rstd);
                                   rmsnorm_backward(x, w, rstd, dy, dx, dw);
                               },
                               {y, dx, dw, rstd});
    expect_same_across_threads("swiglu",
                               [&] {
                                   swiglu_forward(x, b, y);
                                   swiglu_backward(x, b, dy, dx, dx2);
                               },
                               {y, dx, dx2});
    expect_same_across_threads("forget gate",
                               [&] {
                                   forget_gate_forward(x, gamma, y, y2);
                                   forget_gate_backward(x, gamma, dy, dy2, dx, dw);
                               },
                               {y, y2, dx, dw});
    Buffer lb = randn({24, 1500}, rng, 1, f), G(f, {24, 1500}), dG = randn({24, 1500}, rng, 1, f), dlb(f, {24, 1500});
    expect_same_across_threads("lower bounds",
                               [&] {
                                   lower_bounds_forward(lb, G);
                                   lower_bounds_backward(lb, dG, dlb);
                               },
                               {G, dlb});
}

TEST(ThreadCount, F32LookupLossAndConvAreBitIdenticalWith1And3Threads) {
    SCOPED_TRACE("seed " + std::to_string(kSeed));
    Rng rng(kSeed + 1);
    const DType f = DType::f32;
    const int64_t N = 300, D = 130, V = 50;
    Buffer x = randn({N, D}, rng, 2, f), dy = randn({N, D}, rng, 1, f), y(f, {N, D}), dx(f, {N, D});
    Buffer ids(DType::i64, {N}), targets(DType::i64, {N}), table = randn({V, D}, rng, 1, f), dtable(f, {V, D});
    for (int64_t n = 0; n < N; ++n) {
        ids.ptr<int64_t>()[n] = int64_t(rng.below(uint64_t(V)));
        targets.ptr<int64_t>()[n] = n % 7 == 0 ? kIgnoreIndex : int64_t(rng.below(uint64_t(D)));
    }
    expect_same_across_threads("embedding",
                               [&] {
                                   embedding_forward(ids, table, y);
                                   embedding_backward(ids, dy, dtable);
                               },
                               {y, dtable});
    Buffer loss(DType::f64, {1});
    expect_same_across_threads("cross entropy",
                               [&] {
                                   loss.ptr<double>()[0] = cross_entropy_forward(x, targets).loss;
                                   cross_entropy_backward(x, targets, 1.0, dx);
                               },
                               {loss, dx});
    const int64_t B = 2, T = 65, C = 130, W = 4;
    Buffer cx = randn({B, T, C}, rng, 1, f), cw = randn({C, W}, rng, 1, f), cache = randn({B, C, W}, rng, 1, f);
    Buffer cdy = randn({B, T, C}, rng, 1, f), cy(f, {B, T, C}), cout(f, {B, C, W}), cdx(f, {B, T, C});
    Buffer cdw(f, {C, W}), cdc(f, {B, C, W});
    expect_same_across_threads("short conv",
                               [&] {
                                   short_conv_forward(cx, cw, cache, cy, cout);
                                   short_conv_backward(cx, cw, cache, cdy, cdx, cdw, cdc);
                               },
                               {cy, cout, cdx, cdw, cdc});
}

}  // namespace
