// device.h — where memory lives, and the CUDA runtime seen from plain C++.
// No CUDA header is included here: the functions are implemented in device_cuda.cu when the library is
// built with CUDA, and in device_cpu_only.cpp otherwise (where they report "no GPU").
#pragma once

#include <cstddef>
#include <string>

namespace hgrn {

enum class Device : unsigned char { cpu, cuda };

bool cuda_compiled();     // the library was built with CUDA kernels
int cuda_device_count();  // 0 when not compiled with CUDA or no GPU / driver is present
std::string cuda_device_name(int device = 0);

void* cuda_malloc(size_t bytes);  // throws hgrn::Error when CUDA is unavailable or out of memory
void cuda_free(void* p);
void cuda_memcpy_h2d(void* dst, const void* src, size_t bytes);
void cuda_memcpy_d2h(void* dst, const void* src, size_t bytes);
void cuda_memcpy_d2d(void* dst, const void* src, size_t bytes);
void cuda_memset(void* p, int value, size_t bytes);
void cuda_synchronize();

}  // namespace hgrn
