#!/usr/bin/env bash
# gpu_tests.sh — on a machine with a GPU: build the CUDA test program, run it, then compute-sanitizer
# memcheck and racecheck on the small-shape subset (tests named *Small*).
#   BUILD=<dir> (default /tmp/hgrn_gpu_build)  ARCH=<cuda archs> (default 90a)  SANITIZE=0 skips the sanitizers
#   TEST_BIN=<test_cuda built elsewhere> runs that program instead of building (a binary built for sm_90a on a
#   machine without a GPU runs on the H100 as it is; carry it over with the device tool)
# Builds through CMake; when CMake cannot configure (a missing optional system package on the GPU machine),
# it falls back to compiling the few libraries the test needs directly with nvcc (in parallel).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/hgrn_gpu_build}
ARCH=${ARCH:-90a}
J=$(nproc)
TEST="$BUILD/tests/test_cuda"
. scripts/gpu_direct_build.sh  # compile_direct: the nvcc fallback build
if [ -n "${TEST_BIN:-}" ]; then
    TEST="$TEST_BIN"
elif ! { cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
        -DHGRN_BUILD_BENCH=${BENCH:-OFF} >"$BUILD.cmake.log" 2>&1 &&
       cmake --build "$BUILD" -j"$J" --target test_cuda; }; then
    echo "gpu_tests: CMake build failed (see $BUILD.cmake.log); compiling directly with nvcc"
    tail -5 "$BUILD.cmake.log"
    TEST="$BUILD/direct/test_cuda"
    FLAGS="-DHGRN_SHARED_DIR=\"../shared\" -DHGRN_SOURCE_DIR=\"$PWD\" -Itests" LIBS="-lgtest" \
        compile_direct "$TEST" src/core/*.cpp src/core/*.cu src/gla/*.cpp src/gla/cuda/*.cu src/hgrn1_scan/*.cpp \
        src/hgrn1_scan/cuda/*.cu tests/common/*.cpp tests/cuda/*.cpp || exit 1
fi
rc=0
"$TEST" || rc=$?
if [ "${SANITIZE:-1}" = 1 ]; then
    CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    for tool in memcheck racecheck; do
        echo "== compute-sanitizer --tool $tool (small shapes)"
        "$CS" --tool "$tool" --error-exitcode 99 "$TEST" --gtest_filter='*Small*' --gtest_brief=1 || rc=$?
    done
fi
echo "gpu_tests: exit $rc"
exit $rc
