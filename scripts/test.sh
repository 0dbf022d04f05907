#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the tests (labels unit, slow, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The fuzz label (fuzz.all) builds a separate clang ASan/UBSan tree first, several minutes cold: run it with
# `ctest --test-dir build -L fuzz` or scripts/fuzz.sh.
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900 -LE fuzz
