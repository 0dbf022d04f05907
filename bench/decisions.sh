#!/usr/bin/env bash
# Decisions that hold up: `ftdla optimize` over several seeds, its chosen design re-evaluated on held-out
# images with 20,000 fresh injections (`evaluate --held-out`), the injections it spent and the cost.
# Usage: bench/decisions.sh [FTDLA] [MODELS] [SEEDS] [OUTDIR] [EXTRA optimize args...]
#   FTDLA  the binary (default build/cli/ftdla); an older build can be given to compare before/after,
#          its designs are validated with this tree's build (build/cli/ftdla evaluate --held-out).
#   MODELS space-separated shipped model names (default "lenet5 rescnn"); SEEDS (default "1 2 ... 10").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cli/ftdla}
models=${2:-"lenet5 rescnn"}
seeds=${3:-"1 2 3 4 5 6 7 8 9 10"}
out=${4:-out/decisions}
shift $(( $# < 4 ? $# : 4 )) || true
extra=("$@")
validator=${FTDLA_VALIDATOR:-build/cli/ftdla}
mkdir -p "$out"
tag=$(basename "$(dirname "$(dirname "$(readlink -f "$bin")")")")
printf "%-8s %-5s %-24s %9s %10s %9s %9s %-10s %8s\n" model seed design area injections valid_acc target validated seconds
for m in $models; do
  for s in $seeds; do
    base="$out/${tag}_${m}_s${s}"
    t0=$(date +%s.%N)
    "$bin" optimize "models/$m.onnx" --seed "$s" --cache none --json "$base.json" "${extra[@]}" > "$base.log" 2>&1
    t1=$(date +%s.%N)
    if [ "$(jq '.best' "$base.json")" = "null" ]; then
      printf "%-8s %-5s %-24s\n" "$m" "$s" "(none feasible)"
      continue
    fi
    jq '.best.design' "$base.json" > "$base.design.json"
    # Injections the search spent: the JSON's total when it has one, else evaluations run x trials.
    inj=$(jq -r '.injections // empty' "$base.json")
    if [ -z "$inj" ]; then
      run=$(sed -n 's/.*evaluations (\([0-9]*\) run.*/\1/p' "$base.log")
      inj=$(( run * $(jq '.environment.trials' "$base.json") ))
    fi
    "$validator" evaluate "models/$m.onnx" --design "$base.design.json" --held-out --seed "$s" --cache none \
      --json "$base.validation.json" > "$base.validation.log" 2>&1
    printf "%-8s %-5s %-24s %8.2f%% %10s %9.4f %9.4f %-10s %8.0f\n" "$m" "$s" \
      "$(jq -r '.best.design | if .preset != "none" then .preset else "k=\(if .k == 0 then "A" else .k end) f=\(.protected) U=\(.lanes) h=\(.harden_bits)" end' "$base.json")" \
      "$(jq '.best.area_overhead * 100' "$base.json")" "$inj" \
      "$(jq '.validation.faulty_accuracy' "$base.validation.json")" "$(jq '.validation.reliability_target' "$base.validation.json")" \
      "$(jq -r '.validation.decision' "$base.validation.json")" "$(echo "$t1 - $t0" | bc)"
  done
done
