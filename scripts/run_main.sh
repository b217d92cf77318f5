#!/usr/bin/env bash
# The main job: set up, build the CPU program (no CUDA kernels: the job should not wait for kernels this
# machine may not be able to run), then
#   1. a short tour of the recurrence library (hgrn2 demo),
#   2. tokenize the local corpus (linux-doc + King James Bible) with a SentencePiece BPE tokenizer trained here,
#   3. train a small HGRN2 language model on the CPU for a few minutes (HGRN_TRAIN_SECONDS, default 240),
#   4. report test perplexity and bits per byte, print a generated sample, plot the loss curve.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DHGRN_CUDA=OFF -DHGRN_BUILD_TESTS=OFF \
    -DHGRN_BUILD_BENCH=OFF >/dev/null
cmake --build build/main --target hgrn2 -j "$(nproc)"
hgrn2=./build/main/apps/hgrn2

echo "== 1. the recurrence library"
$hgrn2 demo --length 512

echo "== 2. the local corpus"
if [ ! -f data/corpus/meta.json ]; then
    $hgrn2 prepare --out data/corpus --train-tokenizer 4096
else
    echo "data/corpus already prepared (delete it to redo)"
fi

echo "== 3. training a small HGRN2 language model"
rm -rf runs/main
$hgrn2 train --config configs/main_lm.json --time-budget "${HGRN_TRAIN_SECONDS:-240}"
ckpt=$(ls -d runs/main/checkpoints/step-* | tail -n 1)

echo "== 4. results"
$hgrn2 eval --model "$ckpt" --shards data/corpus --split test --seq-len 128 --batch 16 --max-batches 40
$hgrn2 plot runs/main || true
echo "-- a sample (temperature 0.8, top-k 40):"
$hgrn2 generate --model "$ckpt" --prompt "The kernel" --max-tokens 120 --temperature 0.8 --top-k 40 --seed 7
echo
echo "model folder: $ckpt   (hgrn2 info $ckpt; hgrn2 generate --model $ckpt --prompt ...)"
