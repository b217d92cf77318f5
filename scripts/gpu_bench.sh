#!/usr/bin/env bash
# gpu_bench.sh — on a machine with a GPU: build bench_gla and run it (markdown table on stdout).
# Tries CMake first; when CMake cannot configure there (a missing optional system package), compiles the
# few sources the benchmark needs directly with nvcc.   BUILD=<dir>  ARCH=<archs, default 90a>  ARGS=<bench args>
# BENCH_BIN=<bench_gla built elsewhere> runs that program instead of building.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/hgrn_gpu_bench}
ARCH=${ARCH:-90a}
J=$(nproc)
BIN="$BUILD/bench/bench_gla"
. scripts/gpu_direct_build.sh  # compile_direct: the nvcc fallback build
if [ -n "${BENCH_BIN:-}" ]; then
    BIN="$BENCH_BIN"
elif ! { cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
        -DHGRN_BUILD_TESTS=OFF -DHGRN_BUILD_BENCH=ON >"$BUILD.cmake.log" 2>&1 &&
       cmake --build "$BUILD" -j"$J" --target bench_gla; }; then
    echo "gpu_bench: CMake build failed (see $BUILD.cmake.log); compiling directly with nvcc"
    BIN="$BUILD/direct/bench_gla"
    compile_direct "$BIN" src/core/*.cpp src/core/*.cu src/gla/*.cpp src/gla/cuda/*.cu src/hgrn1_scan/*.cpp \
        src/hgrn1_scan/cuda/*.cu bench/cuda/bench_gla.cu || exit 1
fi
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'), $(date -u +%F)"
"$BIN" ${ARGS:-}
