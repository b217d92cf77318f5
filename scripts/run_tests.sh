#!/usr/bin/env bash
# The test job: set up, build everything (CUDA kernels too when nvcc exists, even with no GPU), run CTest.
# GPU tests report Skipped on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/test -j "$(nproc)"
cd build/test
ctest --output-on-failure -j "$(nproc)" --timeout 1800 "$@"
