#!/usr/bin/env bash
# MQAR, HGRN1 vs HGRN2 (EXPERIMENTS.md), scaled to a 2-core CPU: (seq 64, 4 pairs) and (128, 8), d_model 64
# and 128, 2 mixer-only layers, vocab 8192, tied head, AdamW (wd 0.1) with a cosine schedule, a small lr sweep.
# Scaled down from the paper's sweep: 20 000 train / 1 000 test examples (not 100 000 / 3 000), batch 64 (not
# 512), STEPS updates (default 500, 1.6 epochs; not up to 64 epochs), lrs LRS (default 3e-3 1e-2).
# HGRN2 uses expand_ratio = min(d_model, 128); HGRN1 expand_ratio 1. Each run is single-threaded and JOBS
# (default: the number of cores) run side by side. Results: runs/mqar/<name>/, runs/mqar/table.md (best test
# accuracy over the lr sweep). Usage: scripts/mqar_sweep.sh [path/to/hgrn2]
set -euo pipefail
cd "$(dirname "$0")/.."
export HGRN2_BIN=${1:-build/main/apps/hgrn2} STEPS=${STEPS:-500}
lrs=${LRS:-"3e-3 1e-2"}
jobs=${JOBS:-$(nproc)}
mkdir -p runs/mqar

run_one() {  # model seq pairs d lr
    local model=$1 seq=$2 pairs=$3 d=$4 lr=$5
    local er=1
    [ "$model" = hgrn2 ] && er=$(( d < 128 ? d : 128 ))
    local name=${model}_s${seq}_d${d}_lr${lr}
    "$HGRN2_BIN" train --config configs/mqar.json --out runs/mqar/$name --set model.type=$model \
        --set model.hidden_size=$d --set model.expand_ratio=$er --set data.seq_len=$seq \
        --set data.num_kv_pairs=$pairs --set optim.lr=$lr --set optim.steps=$STEPS > runs/mqar/$name.log 2>&1
    echo "$name $(grep '^final eval' runs/mqar/$name.log | sed 's/.*accuracy \([0-9.]*\).*/\1/')"
}
export -f run_one

for cfg in "64 4" "128 8"; do for d in 64 128; do for model in hgrn1 hgrn2; do for lr in $lrs; do
    echo "$model ${cfg% *} ${cfg#* } $d $lr"
done; done; done; done | xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ | tee runs/mqar/accuracies.txt

table=runs/mqar/table.md
{
    echo "| seq, pairs | d_model | model | best lr | best test accuracy | accuracy per lr |"
    echo "|---|---|---|---|---|---|"
    for cfg in "64 4" "128 8"; do for d in 64 128; do for model in hgrn1 hgrn2; do
        seq=${cfg% *}; pairs=${cfg#* }
        rows=$(grep "^${model}_s${seq}_d${d}_" runs/mqar/accuracies.txt | sed 's/.*_lr\([^ ]*\) \(.*\)/\2 \1/' | sort -g)
        best=$(echo "$rows" | tail -n 1)
        echo "| $seq, $pairs | $d | $model | ${best#* } | ${best% *} | $(echo "$rows" | awk '{printf "%s: %s; ", $2, $1}') |"
    done; done; done
} > "$table"
cat "$table"
