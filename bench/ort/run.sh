#!/usr/bin/env bash
# ONNX Runtime anchor: float images/s of the shipped LeNet-5, the shipped ResNet-18 (width 32) and a
# full-width ResNet-18 (width 64, random weights, written by make_resnet18) at 1 and 2 intra-op
# threads, batch 1 and 128. JSON lines on stdout and in out/ort_bench.jsonl.
#
#   bench/ort/run.sh [extra ort_bench.js options, e.g. --seconds 5 --random]
#
# Needs node + npm (installs onnxruntime-node into bench/ort/node_modules on first use) and a
# make_resnet18 binary: $MAKE_RESNET18, else build*/bench/make_resnet18 (configure with
# -DFTDLA_BUILD_BENCH=ON and build the make_resnet18 target). Not part of ftdla's build or tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
command -v node >/dev/null || { echo "run.sh: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
  # --ignore-scripts: the postinstall only fetches GPU extras; the CPU binary ships in the package.
  (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >&2)
fi

mkdir -p "$root/out"
full="$root/out/resnet18w64.onnx"
if [ ! -f "$full" ]; then
  gen="${MAKE_RESNET18:-}"
  if [ -z "$gen" ]; then
    for c in "$root"/build*/bench/make_resnet18; do [ -x "$c" ] && { gen="$c"; break; }; done
  fi
  if [ -z "$gen" ]; then
    echo "run.sh: no make_resnet18; build it: cmake -S . -B build-bench -DFTDLA_BUILD_BENCH=ON && cmake --build build-bench --target make_resnet18" >&2
    exit 1
  fi
  "$gen" --width 64 --seed 1 -o "$full" >&2
fi

node "$here/ort_bench.js" "$@" \
  "$root/models/lenet5.onnx" "$root/models/resnet18w32.onnx" "$full" | tee "$root/out/ort_bench.jsonl"
