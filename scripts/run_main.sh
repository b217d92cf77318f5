#!/usr/bin/env bash
# The main job: set up, build the CPU program (no CUDA kernels: this machine may have no GPU and the job
# should not wait for kernels it cannot run), then run `hgrn2 demo`. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DHGRN_CUDA=OFF -DHGRN_BUILD_TESTS=OFF \
    -DHGRN_BUILD_BENCH=OFF >/dev/null
cmake --build build/main --target hgrn2 -j "$(nproc)"
./build/main/apps/hgrn2 demo "$@"
