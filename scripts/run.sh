#!/usr/bin/env bash
# The README's main command: install what is missing, build, and run the main job, `ftdla optimize`
# on the shipped LeNet-5 and Fashion-MNIST (extra arguments are passed to ftdla optimize).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out
build/cli/ftdla optimize --json out/optimize.json --report out/optimize.html "$@"
