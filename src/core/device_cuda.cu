// device_cuda.cu — the CUDA runtime entry points of device.h (compiled only when CUDA is enabled).
// cuda_device_count() returns 0, never throws, on a machine with no GPU or no driver.
#include "core/cuda_check.cuh"
#include "core/device.h"

namespace hgrn {

bool cuda_compiled() { return true; }

int cuda_device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return n;
}

std::string cuda_device_name(int device) {
    cudaDeviceProp prop{};
    HGRN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    return prop.name;
}

void* cuda_malloc(size_t bytes) {
    void* p = nullptr;
    HGRN_CUDA_CHECK(cudaMalloc(&p, bytes));
    return p;
}
void cuda_free(void* p) {
    if (p) cudaFree(p);
}
void cuda_memcpy_h2d(void* d, const void* s, size_t n) { HGRN_CUDA_CHECK(cudaMemcpy(d, s, n, cudaMemcpyHostToDevice)); }
void cuda_memcpy_d2h(void* d, const void* s, size_t n) { HGRN_CUDA_CHECK(cudaMemcpy(d, s, n, cudaMemcpyDeviceToHost)); }
void cuda_memcpy_d2d(void* d, const void* s, size_t n) { HGRN_CUDA_CHECK(cudaMemcpy(d, s, n, cudaMemcpyDeviceToDevice)); }
void cuda_memset(void* p, int v, size_t n) { HGRN_CUDA_CHECK(cudaMemset(p, v, n)); }
void cuda_synchronize() { HGRN_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace hgrn
