// cuda_scratch.cuh — stream-ordered scratch memory for CUDA kernels (chunk states, partial sums, summaries).
// It comes from the device's default memory pool, whose release threshold is raised once per device so that
// freed scratch stays mapped: with the default threshold (0) every synchronisation hands it back and the next
// call maps it again (hundreds of MB for the GLA backward). Free with cudaFreeAsync on the same stream.
// Only .cu files include this header.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/cuda_check.cuh"

namespace hgrn {

template <class T>
inline T* cuda_scratch_alloc(size_t count, cudaStream_t stream) {
    static bool kept[64] = {};
    int dev = 0;
    HGRN_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev < 64 && !kept[dev]) {
        cudaMemPool_t pool;
        HGRN_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
        uint64_t keep = UINT64_MAX;
        HGRN_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
        kept[dev] = true;
    }
    void* p = nullptr;
    HGRN_CUDA_CHECK(cudaMallocAsync(&p, count * sizeof(T), stream));
    return static_cast<T*>(p);
}

}  // namespace hgrn
