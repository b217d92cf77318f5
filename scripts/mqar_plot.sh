#!/usr/bin/env bash
# Bar chart of the MQAR sweep (runs/mqar/accuracies.txt from scripts/mqar_sweep.sh): best test accuracy over the
# lr sweep, HGRN1 vs HGRN2, per (seq, pairs, d_model), plus the longer runs of scripts/mqar_long.sh when present.
# Writes docs/mqar.png with gnuplot.
set -euo pipefail
cd "$(dirname "$0")/.."
acc=runs/mqar/accuracies.txt
[ -s "$acc" ] || { echo "no $acc: run scripts/mqar_sweep.sh first" >&2; exit 1; }
data=runs/mqar/plot.dat
: > "$data"
for cfg in "64 4" "128 8"; do for d in 64 128; do
    seq=${cfg% *}
    best() { grep "^$1_s${seq}_d${d}_" "$acc" | awk 'BEGIN{b=0} $2>b{b=$2} END{print b}'; }
    echo "\"$seq/${cfg#* }, d$d, 500 steps\" $(best hgrn1) $(best hgrn2)" >> "$data"
done; done
# The longer runs of scripts/mqar_long.sh, when present.
final() { grep "^final eval" "runs/mqar/long_$1.log" 2>/dev/null | sed 's/.*accuracy \([0-9.]*\).*/\1/'; }
if [ -n "$(final hgrn1)" ] && [ -n "$(final hgrn2)" ]; then
    echo "\"64/4, d64, 3000 steps\" $(final hgrn1) $(final hgrn2)" >> "$data"
fi
gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "docs/mqar.png"
set title "MQAR (vocab 8192, 2 layers): test accuracy (sweep: best of lr 3e-3, 1e-2; long run: lr 3e-3)"
set xtics rotate by -15 font ",9"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:1]
set ylabel "accuracy"
set key top left
set grid ytics
plot "$data" using 2:xtic(1) title "HGRN1", "" using 3 title "HGRN2"
GP
echo "wrote docs/mqar.png"
