// short_conv_test.cpp — causal depthwise conv with fla's cache layout (B, C, W): a hand-computed output, the
// float64 reference backward against finite differences for x, w and the cache, fp32 against the reference
// over widths and lengths, a prefix run then the rest through the cache == one whole run, T = 1 steps with
// cache_out aliasing cache_in == one whole run, dw accumulation, and argument errors.
#include "ops/short_conv/short_conv.h"

#include <cstring>

#include "op_test_util.h"

using namespace hgrn;
using namespace hgrn::test;

namespace {

constexpr uint64_t kSeed = 20240507;

TEST(ShortConv, HandComputedOutputAndCache) {
    // C = 1, W = 2: y_t = w0·x_{t−1} + w1·x_t, with x_{−1} = cache[..., 1] (the newest slot).
    Buffer x(DType::f64, {1, 3, 1}), w(DType::f64, {1, 2}), cache(DType::f64, {1, 1, 2}), y(DType::f64, {1, 3, 1});
    Buffer cache_out(DType::f64, {1, 1, 2});
    const double xv[] = {1, 2, 3}, wv[] = {10, 1}, cv[] = {-7, 5};
    for (int i = 0; i < 3; ++i) x.ptr<double>()[i] = xv[i];
    for (int i = 0; i < 2; ++i) w.ptr<double>()[i] = wv[i], cache.ptr<double>()[i] = cv[i];
    short_conv_forward(x, w, cache, y, cache_out);
    EXPECT_EQ(values(y), (std::vector<double>{51, 12, 23}));
    EXPECT_EQ(values(cache_out), (std::vector<double>{2, 3}));
    short_conv_forward(x, w, Tensor(), y, Tensor());  // no cache: zeros before the first token
    EXPECT_EQ(values(y), (std::vector<double>{1, 12, 23}));
}

void check_fd(int64_t T, int64_t W, bool with_cache) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " T " + std::to_string(T) + " W " + std::to_string(W) +
                 (with_cache ? " cache" : ""));
    Rng rng(kSeed + uint64_t(T * 10 + W));
    const int64_t B = 2, C = 3;
    Buffer x = randn({B, T, C}, rng), w = randn({C, W}, rng), cache = randn({B, C, W}, rng), R = randn({B, T, C}, rng);
    Buffer y(DType::f64, {B, T, C}), dx = nan_buffer(DType::f64, {B, T, C}), dw(DType::f64, {C, W});
    Buffer dcache = nan_buffer(DType::f64, {B, C, W});
    const Tensor ct = with_cache ? cache.view() : Tensor();
    const auto loss = [&] {
        short_conv_forward(x, w, ct, y, Tensor());
        return dot(y, R);
    };
    short_conv_backward(x, w, ct, R, dx, dw, dcache);
    expect_grad_matches_fd("dx", dx, x, loss);
    expect_grad_matches_fd("dw", dw, w, loss);
    const auto loss_cache = [&] {  // the cache's own values, even where cache_in was absent above
        short_conv_forward(x, w, cache, y, Tensor());
        return dot(y, R);
    };
    expect_grad_matches_fd("dcache_in", dcache, cache, loss_cache);
    for (int64_t bc = 0; bc < B * C; ++bc) EXPECT_EQ(dcache.ptr<double>()[bc * W], 0.0);  // slot 0 never reaches y
}

TEST(ShortConv, RefBackwardMatchesFiniteDifferences) {
    for (const bool with_cache : {true, false}) {
        check_fd(5, 4, with_cache);
        check_fd(2, 4, with_cache);  // T < W − 1: outputs read the cache only
        check_fd(3, 1, with_cache);  // W = 1: a per-channel scale
    }
}

TEST(ShortConv, F32MatchesReference) {
    for (const int64_t W : {1, 2, 4})
        for (const int64_t T : {1, 3, 17, 65})
            for (const bool with_cache : {true, false}) {
                const uint64_t seed = kSeed + uint64_t(W * 100 + T * 2 + with_cache);
                SCOPED_TRACE("seed " + std::to_string(seed) + " W " + std::to_string(W) + " T " + std::to_string(T) +
                             (with_cache ? " cache" : ""));
                Rng rng(seed);
                const int64_t B = 2, C = T == 65 ? 130 : 70;  // T = 65, W = 4: above the parallel threshold
                Buffer x = randn({B, T, C}, rng), w = randn({C, W}, rng), cache = randn({B, C, W}, rng);
                Buffer dy = randn({B, T, C}, rng), dw = randn({C, W}, rng);
                Buffer y(DType::f64, {B, T, C}), cout(DType::f64, {B, C, W}), dx(DType::f64, {B, T, C});
                Buffer dc(DType::f64, {B, C, W});
                Buffer x32 = as(x, DType::f32), w32 = as(w, DType::f32), cache32 = as(cache, DType::f32);
                Buffer dy32 = as(dy, DType::f32), dw32 = as(dw, DType::f32), y32 = nan_buffer(DType::f32, {B, T, C});
                Buffer cout32 = nan_buffer(DType::f32, {B, C, W}), dx32 = nan_buffer(DType::f32, {B, T, C});
                Buffer dc32 = nan_buffer(DType::f32, {B, C, W});
                const Tensor ct = with_cache ? cache.view() : Tensor(), ct32 = with_cache ? cache32.view() : Tensor();
                short_conv_forward(x, w, ct, y, cout);
                short_conv_forward(x32, w32, ct32, y32, cout32);
                short_conv_backward(x, w, ct, dy, dx, dw, dc);
                short_conv_backward(x32, w32, ct32, dy32, dx32, dw32, dc32);
                HGRN_EXPECT_CLOSE("y", y32.view(), y.view(), kTolF32);
                HGRN_EXPECT_CLOSE("cache_out", cout32.view(), cout.view(), kTolF32);
                HGRN_EXPECT_CLOSE("dx", dx32.view(), dx.view(), kTolF32);
                HGRN_EXPECT_CLOSE("dw", dw32.view(), dw.view(), kTolF32);
                if (W > 1) HGRN_EXPECT_CLOSE("dcache_in", dc32.view(), dc.view(), kTolF32);
            }
}

// Copies time steps [t0, t1) of x (B, T, C) into a new (B, t1 − t0, C) buffer, or back (to_whole).
void copy_steps(const Tensor& whole, const Tensor& part, int64_t t0, bool to_whole) {
    const int64_t B = whole.size(0), T = whole.size(1), C = whole.size(2), Tp = part.size(1);
    const size_t es = dtype_size(whole.dtype());
    for (int64_t b = 0; b < B; ++b) {
        char* w = static_cast<char*>(whole.data()) + size_t((b * T + t0) * C) * es;
        char* p = static_cast<char*>(part.data()) + size_t(b * Tp * C) * es;
        if (to_whole)
            std::memcpy(w, p, size_t(Tp * C) * es);
        else
            std::memcpy(p, w, size_t(Tp * C) * es);
    }
}

// A run split at `split` (cache passed through) and a run of T = 1 steps (cache_out aliasing cache_in) both
// equal one whole run, outputs and final cache.
void check_split_and_steps(DType dt, int64_t W, int64_t split) {
    SCOPED_TRACE(std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed) + " W " + std::to_string(W) +
                 " split " + std::to_string(split));
    Rng rng(kSeed + uint64_t(W));
    const int64_t B = 3, T = 11, C = 5;
    Buffer x = randn({B, T, C}, rng, 1, dt), w = randn({C, W}, rng, 1, dt), cache0 = randn({B, C, W}, rng, 1, dt);
    Buffer y(dt, {B, T, C}), cache_whole(dt, {B, C, W});
    short_conv_forward(x, w, cache0, y, cache_whole);
    const double tol = dt == DType::f64 ? 1e-14 : 1e-6;

    Buffer x1(dt, {B, split, C}), x2(dt, {B, T - split, C}), y1(dt, {B, split, C}), y2(dt, {B, T - split, C});
    Buffer ys = nan_buffer(dt, {B, T, C}), mid(dt, {B, C, W}), end(dt, {B, C, W});
    copy_steps(x, x1, 0, false);
    copy_steps(x, x2, split, false);
    short_conv_forward(x1, w, cache0, y1, mid);
    short_conv_forward(x2, w, mid, y2, end);
    copy_steps(ys, y1, 0, true);
    copy_steps(ys, y2, split, true);
    HGRN_EXPECT_CLOSE("split y", ys.view(), y.view(), tol);
    HGRN_EXPECT_CLOSE("split cache", end.view(), cache_whole.view(), tol);

    Buffer state = clone(cache0), xt(dt, {B, 1, C}), yt(dt, {B, 1, C});
    fill(ys, std::nan(""));
    for (int64_t t = 0; t < T; ++t) {
        copy_steps(x, xt, t, false);
        short_conv_forward(xt, w, state, yt, state);  // in-place cache update, as decoding does
        copy_steps(ys, yt, t, true);
    }
    HGRN_EXPECT_CLOSE("steps y", ys.view(), y.view(), tol);
    HGRN_EXPECT_CLOSE("steps cache", state.view(), cache_whole.view(), tol);
}

TEST(ShortConv, SplitRunAndSingleStepsEqualWholeRun) {
    for (const DType dt : {DType::f64, DType::f32})
        for (const int64_t W : {1, 3, 4})
            for (const int64_t split : {1, 2, 7}) check_split_and_steps(dt, W, split);
}

void check_accumulate(DType dt) {
    SCOPED_TRACE(std::string(dtype_name(dt)) + " seed " + std::to_string(kSeed));
    Rng rng(kSeed);
    const int64_t B = 2, T = 6, C = 4, W = 3;
    Buffer x = randn({B, T, C}, rng, 1, dt), w = randn({C, W}, rng, 1, dt), dy = randn({B, T, C}, rng, 1, dt);
    Buffer dx(dt, {B, T, C}), dw(dt, {C, W});
    short_conv_backward(x, w, Tensor(), dy, dx, dw, Tensor());
    const std::vector<double> dx1 = values(dx);
    std::vector<double> twice = values(dw);
    for (double& v : twice) v *= 2;
    short_conv_backward(x, w, Tensor(), dy, dx, dw, Tensor());
    HGRN_EXPECT_CLOSE("dw twice", values(dw), twice, 1e-6);
    EXPECT_EQ(values(dx), dx1);  // overwritten
}

TEST(ShortConv, DwAccumulatesDxOverwrites) {
    check_accumulate(DType::f64);
    check_accumulate(DType::f32);
}

TEST(ShortConv, BadArgumentsNameTheArgument) {
    Buffer x(DType::f32, {2, 5, 3}), w(DType::f32, {3, 4}), y(DType::f32, {2, 5, 3}), cache(DType::f32, {2, 3, 4});
    Buffer w_bad(DType::f32, {4, 4}), w0(DType::f32, {3, 0}), cache_bad(DType::f32, {2, 4, 3}), x2(DType::f32, {5, 3});
    Buffer y64(DType::f64, {2, 5, 3}), y_bad(DType::f32, {2, 4, 3});
    expect_error([&] { short_conv_forward(x, w_bad, cache, y, cache); }, {"short_conv", "w", "channels"});
    expect_error([&] { short_conv_forward(x, w0, Tensor(), y, Tensor()); }, {"short_conv", "w", "W >= 1"});
    expect_error([&] { short_conv_forward(x, w, cache_bad, y, Tensor()); }, {"short_conv", "cache_in", "(2, 3, 4)"});
    expect_error([&] { short_conv_forward(x, w, cache, y, cache_bad); }, {"short_conv", "cache_out"});
    expect_error([&] { short_conv_forward(x2, w, Tensor(), x2, Tensor()); }, {"short_conv", "x", "(B, T, C)"});
    expect_error([&] { short_conv_forward(x, w, Tensor(), y64, Tensor()); }, {"short_conv", "y", "f64"});
    expect_error([&] { short_conv_backward(x, w, cache, y_bad, y, w, cache); }, {"short_conv", "dy"});
    expect_error([&] { short_conv_backward(x, w, cache, y, y_bad, w, cache); }, {"short_conv", "dx"});
    expect_error([&] { short_conv_backward(x, w, cache, y, y, w_bad, cache); }, {"short_conv", "dw"});
    expect_error([&] { short_conv_backward(x, w, cache, y, y, w, cache_bad); }, {"short_conv", "dcache_in"});
}

}  // namespace
