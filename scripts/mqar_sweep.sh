#!/usr/bin/env bash
# MQAR, HGRN1 vs HGRN2 (EXPERIMENTS.md), scaled to a 2-core CPU: (seq 64, 4 pairs) and (128, 8), d_model 64
# and 128, 2 mixer-only layers, vocab 8192, tied head, AdamW (wd 0.1) with a cosine schedule, a small lr sweep.
# Scaled down from the paper's sweep: 20 000 train / 1 000 test examples (not 100 000 / 3 000), batch 64 (not
# 512/512), STEPS updates (default 800, about 2.5 epochs; not up to 64 epochs). HGRN2 uses expand_ratio =
# min(d_model, 128); HGRN1 expand_ratio 1. Results: runs/mqar/<name>/ and a table on stdout (best test
# accuracy over the lr sweep). Usage: scripts/mqar_sweep.sh [build/dev/apps/hgrn2]
set -euo pipefail
cd "$(dirname "$0")/.."
hgrn2=${1:-build/main/apps/hgrn2}
steps=${STEPS:-800}
lrs=${LRS:-"1e-3 3e-3 1e-2"}
table=runs/mqar/table.md
mkdir -p runs/mqar
echo "| seq, pairs | d_model | model | best lr | test accuracy (each lr) |" > "$table"
echo "|---|---|---|---|---|" >> "$table"
for cfg in "64 4" "128 8"; do
    set -- $cfg; seq=$1; pairs=$2
    for d in 64 128; do
        for model in hgrn1 hgrn2; do
            er=$([ "$model" = hgrn2 ] && echo $(( d < 128 ? d : 128 )) || echo 1)
            best=0; best_lr=""; all=""
            for lr in $lrs; do
                name=${model}_s${seq}_d${d}_lr${lr}
                log=runs/mqar/$name.log
                $hgrn2 train --config configs/mqar.json --out runs/mqar/$name --set model.type=$model \
                    --set model.hidden_size=$d --set model.expand_ratio=$er --set data.seq_len=$seq \
                    --set data.num_kv_pairs=$pairs --set optim.lr=$lr --set optim.steps=$steps > "$log" 2>&1
                acc=$(grep "^final eval" "$log" | sed 's/.*accuracy \([0-9.]*\).*/\1/')
                all="$all $lr: $acc;"
                if awk "BEGIN{exit !($acc > $best)}"; then best=$acc; best_lr=$lr; fi
                echo "$name accuracy $acc"
            done
            echo "| $seq, $pairs | $d | $model | $best_lr | **$best** ($all ) |" >> "$table"
        done
    done
done
cat "$table"
