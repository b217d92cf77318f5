#!/usr/bin/env bash
# gpu_tests.sh — on a machine with a GPU: build the CUDA test program, run it, then compute-sanitizer
# memcheck and racecheck on the small-shape subset (tests named *Small*).
#   BUILD=<dir> (default /tmp/hgrn_gpu_build)  ARCH=<cuda archs> (default 90a)  SANITIZE=0 skips the sanitizers
# Builds through CMake; when CMake cannot configure (a missing optional system package on the GPU machine),
# it falls back to compiling the few libraries the test needs directly with nvcc (in parallel).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/hgrn_gpu_build}
ARCH=${ARCH:-90a}
J=$(nproc)
TEST="$BUILD/tests/test_cuda"
# compile_direct OUT SRC... — the fallback build: every source compiled to an object in parallel (nvcc,
# $J jobs; an object newer than its source is kept), then one link. Needs BUILD, ARCH, J; FLAGS (extra compile flags) and LIBS (link flags).
compile_direct() {
    local out=$1; shift
    local obj="$BUILD/obj" gencode="" a
    for a in ${ARCH//;/ }; do gencode+=" -gencode=arch=compute_$a,code=sm_$a"; done
    local blas_inc; blas_inc=$(dirname "$(find /usr/include -name cblas.h | head -1)")
    mkdir -p "$obj" "$(dirname "$out")"
    export NVCC_CMD="/usr/local/cuda/bin/nvcc -std=c++20 -O3 --expt-relaxed-constexpr -lineinfo $gencode -DHGRN_HAVE_CUDA=1 -Isrc -I$blas_inc -Xcompiler -fopenmp,-march=native ${FLAGS:-}"
    export OBJ="$obj"
    printf '%s\n' "$@" | xargs -P "$J" -I{} sh -c 'o="$OBJ/$(echo "{}" | tr / _).o"; [ "$o" -nt "{}" ] && exit 0; $NVCC_CMD -c "{}" -o "$o" || { echo "FAILED {}"; exit 255; }' || return 1
    local objs="" s
    for s in "$@"; do objs+=" $obj/$(echo "$s" | tr / _).o"; done
    /usr/local/cuda/bin/nvcc $gencode $objs -o "$out" ${LIBS:-} -lcublas -lopenblas -lgomp -lpthread
}
if ! { cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
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
