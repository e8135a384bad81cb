#!/usr/bin/env bash
# End-to-end suite benchmarks (run from the repository root after building):
#  1. the start-up floor: e3check --version (loads libtorch);
#  2. e3nn's anchor: Norm, Linear, FullyConnectedTensorProduct, ElementwiseTensorProduct,
#     Gate, SphericalHarmonics and MyModule in float64, assert_equivariant (ntrials 2) and
#     assert_auto_jitable (n_trace_checks 2): bench/suite_seven/, with the default --jobs
#     (the number of CPUs) and with --jobs 1; and the per-module time after start-up
#     (1 and 2 interleaved, round by round);
#  3. a suite of 100 fixtures with --jobs 2 (generated from fixtures/nn/library.json).
# Prints "NAME: MEDIAN ms" lines and the peak resident memory of the largest process.
set -euo pipefail
cli=${E3CHECK:-./build/checks/e3check}
reps=${REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
time_ms() { # command... -> wall ms
  local s e
  s=$(date +%s%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
bench() { # name command...
  local name=$1; shift
  local xs=()
  for _ in $(seq "$reps"); do xs+=("$(time_ms "$@")"); done
  printf '%s: %s ms\n' "$name" "$(printf '%s\n' "${xs[@]}" | median)"
}
python3 - "$tmp/hundred.json" <<'PY'
import json, sys
lib = json.load(open("fixtures/nn/library.json"))
out = []
i = 0
while len(out) < 100:
    f = dict(lib[i % len(lib)]); f["name"] = f"bench_{len(out):03d}_{f['name']}"; out.append(f); i += 1
json.dump(out, open(sys.argv[1], "w"))
PY
# Start-up and the seven in both job settings run interleaved, round after round, so that
# the per-module figure is the median of differences measured side by side (the machine's
# speed drifts between rounds; within one it hardly does).
seven=(run bench/suite_seven --report "$tmp/r7.json")
: > "$tmp/rounds"
for _ in $(seq "$reps"); do
  echo "$(time_ms "$cli" --version) $(time_ms "$cli" "${seven[@]}") $(time_ms "$cli" "${seven[@]}" --jobs 1)" >> "$tmp/rounds"
done
col() { awk -v c="$1" '{print $c}' "$tmp/rounds" | median; }
per_module() { awk -v c="$1" '{printf "%.2f\n", ($c - $1) / 7}' "$tmp/rounds" | median; }
printf 'startup (e3check --version): %s ms\n' "$(col 1)"
printf 'seven e3nn modules, float64, both checks, default jobs (%s CPUs): %s ms\n' "$(nproc)" "$(col 2)"
printf 'seven e3nn modules, float64, both checks, --jobs 1: %s ms\n' "$(col 3)"
printf 'per module after start-up (default jobs; median of per-round differences): %s ms\n' "$(per_module 2)"
printf 'per module after start-up (--jobs 1): %s ms\n' "$(per_module 3)"
bench "100 fixtures (200 checks), --jobs 2" "$cli" run "$tmp/hundred.json" --jobs 2 --report "$tmp/r100.json"
for target in bench/suite_seven "$tmp/hundred.json"; do
  /usr/bin/time -f "%M" -o "$tmp/rss" "$cli" run "$target" --jobs 2 --report "$tmp/rm.json" > /dev/null 2>&1 || true
  printf 'peak RSS of the largest process, %s: %s MiB\n' "$(basename "$target")" "$(( $(cat "$tmp/rss") / 1024 ))"
done
