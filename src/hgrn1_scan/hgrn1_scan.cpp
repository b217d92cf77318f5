// hgrn1_scan.cpp — argument validation and backend dispatch for the HGRN1 scan (hgrn1_scan.h).
#include "hgrn1_scan/hgrn1_scan.h"

#include "hgrn1_scan/hgrn1_scan_backends.h"

namespace hgrn {
namespace {

void check_like(const Tensor& t, const Tensor& ref, const char* name, Shape shape) {
    check_shape(t, name, shape);
    HGRN_CHECK(t.is_contiguous(), "HGRN1 scan: ", name, " must be contiguous");
    HGRN_CHECK(t.device() == ref.device(), "HGRN1 scan: ", name, " is on another device (", t.describe(), ")");
    if (ref.device() == Device::cpu)
        HGRN_CHECK(t.dtype() == ref.dtype(), "HGRN1 scan: ", name, " is ", dtype_name(t.dtype()), " but g is ",
                   dtype_name(ref.dtype()));
}
void check_optional(const Tensor& t, const Tensor& ref, const char* name, Shape shape) {
    if (!t.empty()) check_like(t, ref, name, shape);
}

Hgrn1ScanDims dims_of(const Tensor& g) {
    HGRN_CHECK(!g.empty(), "HGRN1 scan: g (log forget gate) is required");
    HGRN_CHECK(g.ndim() == 3, "HGRN1 scan: g must be (B, T, D), got ", g.shape().str());
    Hgrn1ScanDims d{g.size(0), g.size(1), g.size(2)};
    HGRN_CHECK(d.B > 0 && d.T > 0 && d.D > 0, "HGRN1 scan: B, T and D must be > 0, got ", g.shape().str());
    return d;
}

enum class Backend { ref, cpu, cuda };
Backend pick(const Tensor& g) {
    if (g.device() == Device::cuda) return Backend::cuda;
    if (g.dtype() == DType::f64) return Backend::ref;
    HGRN_CHECK(g.dtype() == DType::f32, "HGRN1 scan on the CPU takes f64 or f32, got ", dtype_name(g.dtype()));
    return Backend::cpu;
}

}  // namespace

void hgrn1_scan_forward(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht) {
    const Hgrn1ScanDims d = dims_of(g);
    const Shape seq{d.B, d.T, d.D}, st{d.B, d.D};
    check_like(g, g, "g", seq);
    check_like(x, g, "x", seq);
    check_like(o, g, "o", seq);
    check_optional(h0, g, "h0", st);
    check_optional(ht, g, "ht", st);
    switch (pick(g)) {
        case Backend::ref: hgrn1_scan_forward_ref(x, g, h0, o, ht, d); break;
        case Backend::cpu: hgrn1_scan_forward_cpu(x, g, h0, o, ht, d); break;
        case Backend::cuda: hgrn1_scan_forward_cuda(x, g, h0, o, ht, d); break;
    }
}

void hgrn1_scan_backward(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout, const Tensor& dht,
                         const Tensor& dx, const Tensor& dg, const Tensor& dh0) {
    const Hgrn1ScanDims d = dims_of(g);
    const Shape seq{d.B, d.T, d.D}, st{d.B, d.D};
    check_like(g, g, "g", seq);
    check_like(o, g, "o", seq);
    check_like(dout, g, "dout", seq);
    check_like(dx, g, "dx", seq);
    check_like(dg, g, "dg", seq);
    check_optional(h0, g, "h0", st);
    check_optional(dht, g, "dht", st);
    check_optional(dh0, g, "dh0", st);
    switch (pick(g)) {
        case Backend::ref: hgrn1_scan_backward_ref(g, h0, o, dout, dht, dx, dg, dh0, d); break;
        case Backend::cpu: hgrn1_scan_backward_cpu(g, h0, o, dout, dht, dx, dg, dh0, d); break;
        case Backend::cuda: hgrn1_scan_backward_cuda(g, h0, o, dout, dht, dx, dg, dh0, d); break;
    }
}

void hgrn1_scan_step(const Tensor& x, const Tensor& g, const Tensor& state) {
    HGRN_CHECK(!g.empty() && g.ndim() == 2, "HGRN1 step: g must be (B, D)");
    HGRN_CHECK(!state.empty(), "HGRN1 step: state (B, D) is required");
    const Shape st{g.size(0), g.size(1)};
    check_like(x, g, "x", st);
    check_like(state, g, "state", st);
    const Hgrn1ScanDims d{st[0], 1, st[1]};
    const Tensor x3 = x.reshape({d.B, 1, d.D}), g3 = g.reshape({d.B, 1, d.D}), s3 = state.reshape({d.B, 1, d.D});
    // One step is the forward at T = 1 whose output is the new state; the old state is its h0.
    switch (pick(g)) {
        case Backend::ref: hgrn1_scan_forward_ref(x3, g3, state, s3, Tensor(), d); break;
        case Backend::cpu: hgrn1_scan_forward_cpu(x3, g3, state, s3, Tensor(), d); break;
        case Backend::cuda: hgrn1_scan_forward_cuda(x3, g3, state, s3, Tensor(), d); break;
    }
}

}  // namespace hgrn
