// hgrn1_scan_cuda_stub.cpp — the CUDA entry points of hgrn1_scan_backends.h in a build without CUDA: each throws.
#include "core/check.h"
#include "hgrn1_scan/hgrn1_scan_backends.h"

namespace hgrn {

void hgrn1_scan_forward_cuda(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                             const Hgrn1ScanDims&) {
    HGRN_FAIL("HGRN1 scan: tensors are on the GPU but this build of hgrn2 has no CUDA support");
}
void hgrn1_scan_backward_cuda(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                              const Tensor&, const Tensor&, const Tensor&, const Hgrn1ScanDims&) {
    HGRN_FAIL("HGRN1 scan: tensors are on the GPU but this build of hgrn2 has no CUDA support");
}

}  // namespace hgrn
