// cuda_main.cpp — main() of the GPU test program: exits 77 (CTest "Skipped") when no GPU is present,
// otherwise runs every GoogleTest test linked in (tests/cuda/*.cpp).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/device.h"

int main(int argc, char** argv) {
    if (hgrn::cuda_device_count() == 0) {
        std::printf("test_cuda: no CUDA device (or no CUDA support in this build): skipped\n");
        return 77;
    }
    std::printf("test_cuda: running on %s\n", hgrn::cuda_device_name(0).c_str());
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
