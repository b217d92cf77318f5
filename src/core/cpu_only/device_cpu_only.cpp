// device_cpu_only.cpp — the CUDA runtime entry points of device.h for a build without CUDA.
#include "core/check.h"
#include "core/device.h"

namespace hgrn {

bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_device_name(int) { return "none"; }

#define HGRN_NO_CUDA HGRN_FAIL("this build of hgrn2 has no CUDA support (configure with nvcc present)")
void* cuda_malloc(size_t) { HGRN_NO_CUDA; }
void cuda_free(void*) {}
void cuda_memcpy_h2d(void*, const void*, size_t) { HGRN_NO_CUDA; }
void cuda_memcpy_d2h(void*, const void*, size_t) { HGRN_NO_CUDA; }
void cuda_memcpy_d2d(void*, const void*, size_t) { HGRN_NO_CUDA; }
void cuda_memset(void*, int, size_t) { HGRN_NO_CUDA; }
void cuda_synchronize() {}

}  // namespace hgrn
