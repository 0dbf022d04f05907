#!/usr/bin/env bash
# Scale figures of the campaign engine, each measured in one run on this machine:
#  1. MPI: the same LeNet-5 BER campaign (2e-3, neuron site) in 1 process and in `mpirun -np 2`, one
#     OpenMP thread per rank; the counts must be identical, the ratio of trials/s is printed.
#  2. Memory: a campaign on the full-width ResNet-18 (out/resnet18w64.onnx, written by make_resnet18)
#     over 1,000 test images; prints the JSON's peak_rss_mb and whether the golden registers were stored.
#   bench/scale.sh [build dir, default build]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
b="${1:-$root/build}"
ftdla="$b/cli/ftdla"
out="$root/out"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
common=(inject --ber 2e-3 --trials 400000 --images 500 --seed 7)
t0=$(date +%s.%N)
OMP_NUM_THREADS=1 "$ftdla" "${common[@]}" --json "$out/scale_1rank.json" > /dev/null
t1=$(date +%s.%N)
OMP_NUM_THREADS=1 mpirun -q -np 2 --bind-to core "$ftdla" "${common[@]}" --json "$out/scale_2ranks.json" > /dev/null
t2=$(date +%s.%N)
node -e '
const fs = require("fs");
const a = JSON.parse(fs.readFileSync(process.argv[1])), b = JSON.parse(fs.readFileSync(process.argv[2]));
const same = JSON.stringify(a.counts) === JSON.stringify(b.counts);
const t1 = process.argv[4] - process.argv[3], t2 = process.argv[5] - process.argv[4];
console.log(`MPI: 1 rank ${t1.toFixed(2)} s, 2 ranks ${t2.toFixed(2)} s (wall, incl. start-up): ${(t1 / t2).toFixed(2)}x; ` +
            `compute ${a.compute_seconds.toFixed(2)} s vs ${b.compute_seconds.toFixed(2)} s: ` +
            `${(a.compute_seconds / b.compute_seconds).toFixed(2)}x; counts identical: ${same}`);
' "$out/scale_1rank.json" "$out/scale_2ranks.json" "$t0" "$t1" "$t2"
if [ -f "$out/resnet18w64.onnx" ]; then
  "$ftdla" inject "$out/resnet18w64.onnx" --calib-images 32 --ber 1e-5 --trials 2000 --images 1000 \
    --json "$out/scale_w64.json" > /dev/null
  node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(`full-width ResNet-18, 1000 images: peak_rss_mb ${j.peak_rss_mb.toFixed(0)}, golden_stored ${j.golden_stored}, ` +
            `golden_mb ${j.golden_mb.toFixed(0)}, trials ${j.counts.trials}, ${j.compute_seconds.toFixed(1)} s`);
' "$out/scale_w64.json"
else
  echo "no out/resnet18w64.onnx: run make_resnet18 --width 64 -o out/resnet18w64.onnx" >&2
fi
