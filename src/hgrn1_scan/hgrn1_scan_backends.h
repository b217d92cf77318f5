// hgrn1_scan_backends.h — per-backend entry points behind hgrn1_scan.h (internal to src/hgrn1_scan and tests).
// Arguments are validated by the dispatcher; absent optional tensors are empty views.
#pragma once

#include "hgrn1_scan/hgrn1_scan.h"

namespace hgrn {

void hgrn1_scan_forward_ref(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                            const Hgrn1ScanDims& d);
void hgrn1_scan_backward_ref(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                             const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                             const Hgrn1ScanDims& d);

void hgrn1_scan_forward_cpu(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                            const Hgrn1ScanDims& d);
void hgrn1_scan_backward_cpu(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                             const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                             const Hgrn1ScanDims& d);

void hgrn1_scan_forward_cuda(const Tensor& x, const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& ht,
                             const Hgrn1ScanDims& d);
void hgrn1_scan_backward_cuda(const Tensor& g, const Tensor& h0, const Tensor& o, const Tensor& dout,
                              const Tensor& dht, const Tensor& dx, const Tensor& dg, const Tensor& dh0,
                              const Hgrn1ScanDims& d);
// The CUDA scan's chunk length for these sizes (T: one pass per channel); HGRN_HGRN1_CHUNKED=0 / 1 forces either.
int hgrn1_scan_chunk_length_cuda(const Hgrn1ScanDims& d);

}  // namespace hgrn
