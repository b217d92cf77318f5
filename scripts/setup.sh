#!/usr/bin/env bash
# Installs every system package hgrn2 needs (Debian 12, apt-get). Idempotent: packages already present are
# skipped, so a second run costs a few dpkg queries. Run as root, or as a user with sudo.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config git         # build
    libopenblas-dev libomp-dev                               # CPU GEMM, threads
    nlohmann-json3-dev libfmt-dev libcli11-dev               # JSON, formatting, command line
    libgtest-dev libgmock-dev libbenchmark-dev               # tests and benchmarks
    libsentencepiece-dev libpcre2-dev libcpp-httplib-dev     # tokenizers, server
    gnuplot-nox                                              # plots
    linux-doc-6.1 bible-kjv dataset-fashion-mnist            # local data (EXPERIMENTS.md)
    zlib1g-dev                                               # gzipped IDX (Fashion-MNIST), shard CRC
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} system packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
