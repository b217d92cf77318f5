#!/usr/bin/env bash
# gpu_pack.sh — on the machine without a GPU: build bench_gla and test_cuda for sm_90a and pack them as
# build/var/NAME.tar.xz, for a GPU machine that gets this tree with build/var carried over (the device tool's
# carry); there scripts/gpu_ab.sh unpacks and compares them. (An sm_90a build from here runs on an H100 as it is.)
#   bash scripts/gpu_pack.sh NAME [REF]
#     REF: a commit or branch, built in a temporary git worktree (the baseline of an A/B comparison); without it,
#          this tree as it is (build directory build/gpu_pack, kept between calls).
# Host code is built without -march=native (the GPU machine's CPU may differ).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: gpu_pack.sh NAME [REF]}
ref=${2:-}
[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "gpu_pack: NAME must be letters, digits, . _ -" >&2; exit 2; }
root=$PWD
src=$root
build=$root/build/gpu_pack
tmp=""
cleanup() {
    if [ -n "$tmp" ]; then
        git -C "$root" worktree remove --force "$tmp/src" 2>/dev/null || true
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
if [ -n "$ref" ]; then
    tmp=$(mktemp -d /tmp/hgrn_pack.XXXXXX)
    git worktree add -q --detach "$tmp/src" "$ref"
    src=$tmp/src
    build=$tmp/build
fi
echo "gpu_pack: building bench_gla and test_cuda of ${ref:-this tree} in $build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a -DHGRN_NATIVE=OFF \
    -DHGRN_BUILD_BENCH=ON -DHGRN_BUILD_TESTS=ON >"$build.cmake.log" 2>&1 ||
    { tail -20 "$build.cmake.log"; echo "gpu_pack: CMake failed (log: $build.cmake.log)" >&2; exit 1; }
cmake --build "$build" --target bench_gla test_cuda
stage=$(mktemp -d /tmp/hgrn_stage.XXXXXX)
cp "$build/bench/bench_gla" "$build/tests/test_cuda" "$stage/"
strip "$stage/bench_gla" "$stage/test_cuda"
commit=$(git -C "$src" rev-parse --short HEAD)
git -C "$src" diff --quiet HEAD 2>/dev/null || commit+="+dirty"
echo "$commit" >"$stage/COMMIT"
mkdir -p "$root/build/var"
tar cJf "$root/build/var/$name.tar.xz" -C "$stage" bench_gla test_cuda COMMIT
rm -rf "$stage"
echo "gpu_pack: build/var/$name.tar.xz ($commit, $(du -h "$root/build/var/$name.tar.xz" | cut -f1))"
