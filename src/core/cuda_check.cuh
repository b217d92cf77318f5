// cuda_check.cuh — HGRN_CUDA_CHECK for runtime calls, HGRN_CUBLAS_CHECK, and HGRN_LAUNCH_CHECK after a launch.
// Only .cu files include this header.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/check.h"

#define HGRN_CUDA_CHECK(expr)                                                                  \
    do {                                                                                       \
        cudaError_t hgrn_err_ = (expr);                                                        \
        if (hgrn_err_ != cudaSuccess)                                                          \
            HGRN_FAIL("CUDA error in ", #expr, ": ", cudaGetErrorString(hgrn_err_));           \
    } while (0)

#define HGRN_CUBLAS_CHECK(expr)                                                                \
    do {                                                                                       \
        cublasStatus_t hgrn_st_ = (expr);                                                      \
        if (hgrn_st_ != CUBLAS_STATUS_SUCCESS)                                                 \
            HGRN_FAIL("cuBLAS error in ", #expr, ": ", cublasGetStatusString(hgrn_st_));       \
    } while (0)

#define HGRN_LAUNCH_CHECK() HGRN_CUDA_CHECK(cudaGetLastError())
