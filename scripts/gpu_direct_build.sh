# gpu_direct_build.sh — sourced by gpu_tests.sh and gpu_bench.sh: the build used on a GPU machine where CMake
# cannot configure (a missing optional system package there).
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
