#!/usr/bin/env bash
# Installs the Debian packages ftdla needs, only if some are missing.
# Usage: scripts/install-deps.sh [--train]   (--train adds python3-torch/onnx for tools/train_models.py)
# qflow-tech-osu018 + opensta: standard cells and timing/power for synthesized costs (cost/synthesis.hpp).
# chromium: headless browser for the HTML report test (tests/report/browser_check.cpp, CTest label browser).
# clang + libclang-rt-14-dev: libFuzzer with ASan/UBSan for the fuzz smoke run (scripts/fuzz.sh, label fuzz).
set -euo pipefail
pkgs=(cmake g++ make pkg-config libgtest-dev libgmock-dev libbenchmark-dev
      libonnx-dev libprotobuf-dev protobuf-compiler libeigen3-dev nlohmann-json3-dev
      libcli11-dev zlib1g-dev libomp-dev libopenmpi-dev openmpi-bin yosys iverilog
      qflow-tech-osu018 opensta
      dataset-fashion-mnist chromium clang libclang-rt-14-dev)
if [ "${1:-}" = "--train" ]; then pkgs+=(python3-torch python3-onnx python3-numpy); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all packages present"; exit 0; fi
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
