#!/usr/bin/env bash
# The PE variant table: every PE the optimizer can ask for, synthesized to the osu018 standard cells
# (Yosys) and timed and powered by OpenSTA at input activity 0.1 per bit per cycle (no model given).
# Rows: h = 0..8 hardened bits at k = 8; k = 5..7 with h = 0..2, range corrector fixed (k is wiring),
# runtime (k from a port, for per-layer k) and none. Columns: cells, flops, area, critical path, energy per
# cycle (power × 10 ns). Then full TMR's and the headline designs' overheads from `ftdla evaluate`.
# Usage: bench/pe_variants.sh [FTDLA] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cli/ftdla}
out=${2:-out/pe_variants}
mkdir -p "$out"
row() {  # label, then rtl options
  local label=$1; shift
  "$bin" rtl "$@" --synth-top --synthesize --json "$out/$label.json" -o "$out/$label.v" > /dev/null
  jq -r --arg l "$label" '"| \($l) | \(.pe.cells) | \(.pe.flops) | \(.pe.area_um2 | round) | \(.pe.critical_path_ns * 1000 | round / 1000) | \(.pe.energy_per_cycle_pj * 100 | round / 100) |"' \
    "$out/$label.json"
}
echo "| PE variant | cells | flops | area µm² | critical path ns | energy pJ/cycle |"
echo "|---|---|---|---|---|---|"
for h in 0 1 2 3 4 5 6 7 8; do row "k8_h$h" --harden "$h"; done
for k in 5 6 7; do
  for h in 0 1 2; do
    for c in fixed runtime none; do row "k${k}_h${h}_$c" --k "$k" --harden "$h" --corrector "$c"; done
  done
done
echo
echo "| design (LeNet-5) | area overhead | energy overhead | latency overhead | pe_area_um2 | clock_ns |"
echo "|---|---|---|---|---|---|"
for d in '{"preset": "full_tmr"}' '{"harden_bits": 2}' '{"k": 7, "harden_bits": 1}' '{"harden_bits": 8}'; do
  echo "$d" > "$out/design.json"
  "$bin" evaluate models/lenet5.onnx --design "$out/design.json" --trials 250 --max-trials 250 --cache none \
    --json "$out/eval.json" > /dev/null
  jq -r --arg d "$d" '"| `\($d)` | \(.area_overhead * 10000 | round / 100)% | \(.energy_overhead * 10000 | round / 100)% | \(.latency_overhead * 10000 | round / 100)% | \(.cost.pe_area_um2 | round) | \(.cost.clock_ns * 1000 | round / 1000) |"' \
    "$out/eval.json"
done
