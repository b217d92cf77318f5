#!/usr/bin/env bash
# gpu_bench.sh — on a machine with a GPU: build bench_gla and run it (markdown table on stdout).
# Tries CMake first; when CMake cannot configure there (a missing optional system package), compiles the
# few sources the benchmark needs directly with nvcc.   BUILD=<dir>  ARCH=<archs, default 90a>  ARGS=<bench args>
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-/tmp/hgrn_gpu_bench}
ARCH=${ARCH:-90a}
J=$(nproc)
BIN="$BUILD/bench/bench_gla"
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
        -DHGRN_BUILD_TESTS=OFF -DHGRN_BUILD_BENCH=ON >"$BUILD.cmake.log" 2>&1 &&
       cmake --build "$BUILD" -j"$J" --target bench_gla; }; then
    echo "gpu_bench: CMake build failed (see $BUILD.cmake.log); compiling directly with nvcc"
    BIN="$BUILD/direct/bench_gla"
    compile_direct "$BIN" src/core/*.cpp src/core/*.cu src/gla/*.cpp src/gla/cuda/*.cu bench/cuda/bench_gla.cu || exit 1
fi
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'), $(date -u +%F)"
"$BIN" ${ARGS:-}
