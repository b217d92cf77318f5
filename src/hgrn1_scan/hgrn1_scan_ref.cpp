// hgrn1_scan_ref.cpp — float64 reference of the HGRN1 scan, straight from the equations in hgrn1_scan.h.
// Reads each h_{t-1} before writing h_t, so o may alias h0 (the one-token step relies on this).
#include <cmath>

#include "hgrn1_scan/hgrn1_scan_backends.h"

namespace hgrn {

void hgrn1_scan_forward_ref(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                            const Hgrn1ScanDims& d) {
    const double *X = x.ptr<double>(), *G = g.ptr<double>(), *H0 = h0.empty() ? nullptr : h0.ptr<double>();
    double* O = o.ptr<double>();
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t c = 0; c < d.D; ++c) {
            double h = H0 ? H0[b * d.D + c] : 0.0;
            for (int64_t t = 0; t < d.T; ++t) {
                const int64_t i = (b * d.T + t) * d.D + c;
                h = std::exp(G[i]) * h + X[i];
                O[i] = h;
            }
            if (!ht.empty()) ht.ptr<double>()[b * d.D + c] = h;
        }
}

void hgrn1_scan_backward_ref(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                             const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                             const Hgrn1ScanDims& d) {
    const double *G = g.ptr<double>(), *O = o.ptr<double>(), *DO = dout.ptr<double>();
    double *DX = dx.ptr<double>(), *DG = dg.ptr<double>();
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t c = 0; c < d.D; ++c) {
            double dh = dht.empty() ? 0.0 : dht.ptr<double>()[b * d.D + c];
            for (int64_t t = d.T - 1; t >= 0; --t) {
                const int64_t i = (b * d.T + t) * d.D + c;
                const double prev = t > 0 ? O[i - d.D] : (h0.empty() ? 0.0 : h0.ptr<double>()[b * d.D + c]);
                dh += DO[i];
                DX[i] = dh;
                DG[i] = dh * std::exp(G[i]) * prev;
                dh *= std::exp(G[i]);
            }
            if (!dh0.empty()) dh0.ptr<double>()[b * d.D + c] = dh;
        }
}

}  // namespace hgrn
