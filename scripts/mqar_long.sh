#!/usr/bin/env bash
# MQAR (seq 64, 4 pairs, d_model 64, vocab 8192, 2 mixer-only layers) with a longer budget than the sweep:
# HGRN1 vs HGRN2 at lr 3e-3 for STEPS updates (default 3000, about 10 epochs of the 20 000 training examples),
# evaluated every 500 steps on 1 000 test examples. Both runs side by side, single-threaded each.
# Results: runs/mqar/long_<model>_s64_d64_lr3e-3/ (metrics.jsonl, checkpoint) and .log; plots in docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
hgrn2=${1:-build/main/apps/hgrn2}
steps=${STEPS:-3000}
mkdir -p runs/mqar
for model in hgrn1 hgrn2; do
    er=1
    [ "$model" = hgrn2 ] && er=64
    "$hgrn2" train --config configs/mqar.json --out runs/mqar/long_${model}_s64_d64_lr3e-3 --set model.type=$model \
        --set model.hidden_size=64 --set model.expand_ratio=$er --set optim.lr=3e-3 --set optim.steps=$steps \
        --set eval.every=500 > runs/mqar/long_${model}.log 2>&1 &
done
wait
for model in hgrn1 hgrn2; do
    grep -E "^eval|^final" runs/mqar/long_${model}.log | sed "s/^/$model: /"
    "$hgrn2" plot runs/mqar/long_${model}_s64_d64_lr3e-3 --out docs/mqar_long_${model}.png
done
