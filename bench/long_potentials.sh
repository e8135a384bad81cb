#!/usr/bin/env bash
# The "no false failures" run of issue 15 (not part of CTest: CI's budget). Every correct
# NequIP- and MACE-shaped test potential, float32 and float64, on a periodic structure and
# on a cluster, through every default check of its preset plus smoothness, for SEEDS seeds
# (FIRST, FIRST + 1, ...; default 50 from 0): one `e3check run --seed S` per seed.
# Prints each seed that was not all as expected with its output, then
# "runs R, checks C, failures F (seeds with one: N), wall W s"; exits 1 when F > 0.
# usage (from the repository root, after building): bash bench/long_potentials.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${E3CHECK:-./build/checks/e3check}
seeds=${SEEDS:-50}
first=${FIRST:-0}
pot=$(pwd)/fixtures/potentials
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "["
  sep=""
  for spec in nequip:nequip_f64.pth nequip:nequip_f32.pth mace:mace_f64.model mace:mace_f32.model; do
    preset=${spec%%:*} file=${spec#*:}
    for periodic in true false; do
      printf '%s{"name": "%s_%s", "preset": "%s", "torchscript": "%s/%s", "structure": {"periodic": %s},
  "checks": {"smoothness": true}}\n' "$sep" "${file%.*}" "$([ $periodic = true ] && echo periodic || echo cluster)" \
        "$preset" "$pot" "$file" "$periodic"
      sep=","
    done
  done
  echo "]"
} > "$tmp/long.json"
runs=0 checks=0 failures=0 bad_seeds=0
start=$(date +%s%N)
for ((s = first; s < first + seeds; s++)); do
  rc=0
  "$cli" run "$tmp/long.json" --seed "$s" --no-report --color never > "$tmp/out" 2>&1 || rc=$?
  summary=$(grep -Eo '[0-9]+ checks?, [0-9]+ as expected' "$tmp/out" | tail -1 || true)
  total=${summary%% check*}
  good=${summary#*, }; good=${good%% as*}
  if [ -z "$summary" ] || [ "$rc" -ne 0 ] || [ "$total" != "$good" ]; then
    bad_seeds=$((bad_seeds + 1))
    failures=$((failures + ${total:-0} - ${good:-0}))
    [ -z "$summary" ] && failures=$((failures + 1))
    echo "seed $s (exit $rc):"
    cat "$tmp/out"
  fi
  runs=$((runs + 1))
  checks=$((checks + ${total:-0}))
done
end=$(date +%s%N)
echo "runs $runs, checks $checks, failures $failures (seeds with one: $bad_seeds), wall $(( (end - start) / 1000000000 )) s"
[ "$failures" -eq 0 ]
