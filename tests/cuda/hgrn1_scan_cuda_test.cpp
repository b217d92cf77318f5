// hgrn1_scan_cuda_test.cpp — the HGRN1 scan CUDA kernels against the float64 reference (public API), with
// f32 and bf16 x / o / gradients, with and without h0 / dht, NaN-poisoned outputs, and the one-token step.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/random.h"
#include "cuda/cuda_test_util.h"
#include "hgrn1_scan/hgrn1_scan.h"

namespace hgrn {
namespace {

using test::Dev;
using test::Vec;

void run(int64_t B, int64_t T, int64_t D, DType io, bool h0, bool dht, uint64_t seed) {
    SCOPED_TRACE(testing::Message() << "B" << B << " T" << T << " D" << D << " " << dtype_name(io) << " h0 " << h0
                                    << " dht " << dht << " seed " << seed);
    Rng rng(seed);
    const Shape sq{B, T, D}, ss{B, D};
    Vec x(size_t(sq.numel())), g(x.size()), dout(x.size()), vh0(size_t(ss.numel())), vdht(vh0.size());
    test::fill_normal(test::host_view(x, sq), rng);
    test::fill_log_gate(test::host_view(g, sq), rng, 1.0);
    test::fill_normal(test::host_view(dout, sq), rng);
    test::fill_normal(test::host_view(vh0, ss), rng);
    test::fill_normal(test::host_view(vdht, ss), rng);
    x = test::round_to(x, io);
    dout = test::round_to(dout, io);
    g = test::round_to(g, DType::f32);
    vh0 = test::round_to(vh0, DType::f32);
    vdht = test::round_to(vdht, DType::f32);
    // Reference on the rounded inputs.
    Vec ro(x.size()), rht(vh0.size()), rdx(x.size()), rdg(x.size()), rdh0(vh0.size());
    const Tensor th0 = h0 ? test::host_view(vh0, ss) : Tensor(), tdht = dht ? test::host_view(vdht, ss) : Tensor();
    hgrn1_scan_forward(test::host_view(x, sq), test::host_view(g, sq), th0, test::host_view(ro, sq),
                       test::host_view(rht, ss));
    hgrn1_scan_backward(test::host_view(g, sq), th0, test::host_view(ro, sq), test::host_view(dout, sq), tdht,
                        test::host_view(rdx, sq), test::host_view(rdg, sq), test::host_view(rdh0, ss));
    Dev dx_(x, io, sq), dg_(g, DType::f32, sq), dh0_(vh0, DType::f32, ss), ddht(vdht, DType::f32, ss);
    Dev o(io, sq), ht(DType::f32, ss);
    o.poison();
    ht.poison();
    hgrn1_scan_forward(dx_.view(), dg_.view(), h0 ? dh0_.view() : Tensor(), o.view(), ht.view());
    cuda_synchronize();
    const double tol = io == DType::bf16 ? test::kTolBf16RmsGpu : test::kTolF32RmsGpu;
    auto check = [&](const char* what, const Vec& got, const Vec& ref) {
        const auto e = test::compare(got, ref);
        EXPECT_EQ(e.nonfinite, 0) << what << ": " << e.str();
        EXPECT_LE(e.rel_rms, tol) << what << ": " << e.str();
    };
    check("o", o.download(), ro);
    check("ht", ht.download(), rht);
    Dev ddo(dout, io, sq), ddx(io, sq), ddg(DType::f32, sq), ddh0(DType::f32, ss);
    ddx.poison();
    ddg.poison();
    ddh0.poison();
    hgrn1_scan_backward(dg_.view(), h0 ? dh0_.view() : Tensor(), o.view(), ddo.view(), dht ? ddht.view() : Tensor(),
                        ddx.view(), ddg.view(), ddh0.view());
    cuda_synchronize();
    check("dx", ddx.download(), rdx);
    check("dg", ddg.download(), rdg);
    check("dh0", ddh0.download(), rdh0);
}

TEST(Hgrn1ScanCudaSmall, Shapes) {
    for (int64_t T : {1, 2, 9, 65})
        for (DType io : {DType::f32, DType::bf16}) run(2, T, 37, io, T % 2 == 1, T != 2, uint64_t(T));
}

// Both paths: one thread per channel, and chunks of 64 tokens carried across (the automatic choice for these).
TEST(Hgrn1ScanCuda, LongAndWide) {
    for (const char* chunked : {"0", "1"}) {
        SCOPED_TRACE(testing::Message() << "HGRN_HGRN1_CHUNKED=" << chunked);
        setenv("HGRN_HGRN1_CHUNKED", chunked, 1);
        run(3, 1025, 300, DType::bf16, true, true, 5);
        run(1, 4097, 64, DType::f32, false, true, 6);
        run(2, 130, 33, DType::f32, true, false, 7);  // a partial last chunk, h0 without dht
    }
    unsetenv("HGRN_HGRN1_CHUNKED");
}

TEST(Hgrn1ScanCudaSmall, Step) {
    const int64_t B = 4, D = 33;
    Rng rng(3);
    Vec x(size_t(B * D)), g(x.size()), s(x.size());
    test::fill_normal(test::host_view(x, {B, D}), rng);
    test::fill_log_gate(test::host_view(g, {B, D}), rng, 1.0);
    test::fill_normal(test::host_view(s, {B, D}), rng);
    g = test::round_to(g, DType::f32);
    s = test::round_to(s, DType::f32);
    x = test::round_to(x, DType::f32);
    Dev dx(x, DType::f32, {B, D}), dg(g, DType::f32, {B, D}), ds(s, DType::f32, {B, D});
    hgrn1_scan_step(dx.view(), dg.view(), ds.view());
    cuda_synchronize();
    hgrn1_scan_step(test::host_view(x, {B, D}), test::host_view(g, {B, D}), test::host_view(s, {B, D}));
    const auto e = test::compare(ds.download(), s);
    EXPECT_LE(e.rel_rms, test::kTolF32RmsGpu) << e.str();
}

}  // namespace
}  // namespace hgrn
