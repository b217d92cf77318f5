#!/usr/bin/env bash
# gpu_ab.sh — on the GPU machine: the same bench_gla run for several builds packed by gpu_pack.sh
# (build/var/NAME.tar.xz), alternately: ROUNDS rounds, one run of every build per round, so that a drift of the
# machine's speed falls on all of them alike. Prints each run's output, then one markdown table: every row of
# the benchmark (ceilings, passes, steps) with each build's value per round.
#   bash scripts/gpu_ab.sh NAME... [-- BENCH_ARGS]     (default BENCH_ARGS: --no-step --no-hgrn1 --reps 20)
#   ROUNDS=2 (default)   TESTS=1: first run each build's test_cuda (stops on a failure)
#   A NAME of the form BUILD:VAR=VALUE runs build BUILD with that environment variable (one build, two settings).
set -uo pipefail
cd "$(dirname "$0")/.."
names=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do names+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--no-step --no-hgrn1 --reps 20)
[ ${#names[@]} -ge 1 ] || { echo "usage: gpu_ab.sh NAME... [-- BENCH_ARGS]" >&2; exit 2; }
rounds=${ROUNDS:-2}
out=$(mktemp -d /tmp/hgrn_ab.XXXXXX)
build_of() { echo "${1%%:*}"; }
declare -A unpacked=()
for n in "${names[@]}"; do
    bn=$(build_of "$n")
    [ -f "build/var/$bn.tar.xz" ] || { echo "gpu_ab: build/var/$bn.tar.xz not found (scripts/gpu_pack.sh makes it)" >&2; exit 2; }
    if [ -z "${unpacked[$bn]:-}" ]; then  # each build once, however many settings name it
        unpacked[$bn]=1
        mkdir -p "build/var/$bn"
        tar xJf "build/var/$bn.tar.xz" -C "build/var/$bn"
        echo "gpu_ab: $bn = $(cat "build/var/$bn/COMMIT" 2>/dev/null || echo '?')"
        if [ "${TESTS:-0}" = 1 ]; then
            "build/var/$bn/test_cuda" --gtest_brief=1 || { echo "gpu_ab: $bn: test_cuda failed" >&2; exit 1; }
        fi
    fi
done
echo "gpu_ab: bench_gla ${args[*]}, $rounds rounds, $(date -u +%F)"
for ((r = 1; r <= rounds; ++r)); do
    for n in "${names[@]}"; do
        echo "== round $r: $n"
        setting=()
        [[ "$n" == *:* ]] && setting=("${n#*:}")
        env "${setting[@]}" "build/var/$(build_of "$n")/bench_gla" "${args[@]}" | tee "$out/$n.$r.txt" ||
            { echo "gpu_ab: $n failed" >&2; exit 1; }
    done
done
python3 - "$out" "$rounds" "${names[@]}" <<'EOF'
import os, re, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
num = re.compile(r'^-?\d+(\.\d+)?(\s*\S+)?$')
def rows(path):
    # A table row's key: its cells before the first numeric one (the first measured value), which is its value.
    res = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('|') or len(cells) < 2 or set(cells[0]) <= set('-'):
            continue
        for i, c in enumerate(cells):
            if i > 0 and num.match(c):
                res.setdefault(' · '.join(cells[:i]), c)
                break
    return res
runs = {(n, r): rows(os.path.join(out, f'{n}.{r}.txt')) for n in names for r in range(1, rounds + 1)}
keys = []
for n in names:
    for r in range(1, rounds + 1):
        keys += [k for k in runs[(n, r)] if k not in keys]
print('\n| row | ' + ' | '.join(f'{n} (rounds 1..{rounds})' for n in names) + ' |')
print('|---|' + '---|' * len(names))
for k in keys:
    vals = [' / '.join(runs[(n, r)].get(k, '—') for r in range(1, rounds + 1)) for n in names]
    print(f'| {k} | ' + ' | '.join(vals) + ' |')
EOF
rm -rf "$out"
