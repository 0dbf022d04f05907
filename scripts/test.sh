#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test (labels unit, equivalence,
# models; CTest runs them all).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
