#!/usr/bin/env bash
# ftdla's golden int8 engine against ONNX Runtime float, same models, same machine, back to back:
# runs bench/ort/run.sh (ONNX Runtime, 1 and 2 threads, batch 1 and 128) and then engine_bench, which
# prints both rates and their ratio per (model, threads, batch).
#   bench/vs_ort.sh [build dir with -DFTDLA_BUILD_BENCH=ON, default build-bench]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bdir="${1:-$root/build-bench}"
[ -x "$bdir/bench/engine_bench" ] || { echo "vs_ort.sh: build the benchmarks first: cmake -S . -B build-bench -DFTDLA_BUILD_BENCH=ON && cmake --build build-bench" >&2; exit 1; }
MAKE_RESNET18="$bdir/bench/make_resnet18" "$root/bench/ort/run.sh" --seconds 2 >/dev/null
"$bdir/bench/engine_bench" --benchmark_min_time=1 --ort "$root/out/ort_bench.jsonl"
