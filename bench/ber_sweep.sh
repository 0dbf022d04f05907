#!/usr/bin/env bash
# The seed's headline experiment with validated decisions: for each BER, `ftdla optimize` and the
# validated (held-out images, fresh seed, 20,000 injections) figures of full TMR, each single-layer best
# and the cross-layer design.
# Usage: bench/ber_sweep.sh [FTDLA] [MODELS] [BERS] [OUTDIR] [EXTRA optimize args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cli/ftdla}
models=${2:-"lenet5 rescnn"}
bers=${3:-"5e-4 1e-3 2e-3 5e-3"}
out=${4:-out/ber_sweep}
shift $(( $# < 4 ? $# : 4 )) || true
extra=("$@")
mkdir -p "$out"
for m in $models; do
  for b in $bers; do
    j="$out/${m}_ber${b}.json"
    "$bin" optimize "models/$m.onnx" --ber "$b" --cache none --json "$j" "${extra[@]}" > "$out/${m}_ber${b}.log" 2>&1
    jq -r --arg m "$m" --arg b "$b" '
      def knobs: .design | if .preset != "none" then .preset
        else "k=\(if .k == 0 then "A" else .k end) f=\(.protected) U=\(.lanes) h=\(.harden_bits)" end;
      def row($name; $e): if $e == null then "| \($m) | \($b) | \($name) | none feasible | | | |"
        else "| \($m) | \($b) | \($name) | \($e | knobs) | \($e.area_overhead * 10000 | round / 100)% | \($e.validation.faulty_accuracy) [\($e.validation.faulty_accuracy_ci95[0] * 10000 | round / 10000), \($e.validation.faulty_accuracy_ci95[1] * 10000 | round / 10000)] ≥ \($e.validation.reliability_target)? | \($e.validation.decision) |" end;
      row("full TMR"; .baselines.full_tmr), row("algorithm only"; .baselines.algorithm_only),
      row("architecture only"; .baselines.architecture_only), row("circuit only"; .baselines.circuit_only),
      row("cross-layer"; .best)' "$j"
  done
done
