#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the tests (labels unit, slow, browser, fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900 -LE fuzz
# The fuzz label (fuzz.all, scripts/fuzz.sh): a clang ASan/UBSan build of the parsers in build-fuzz/ (about
# 3 minutes cold), then every libFuzzer target for 8 s on its seed corpus. scripts/fuzz.sh 300 runs longer.
FTDLA_FUZZ_SECONDS=${FTDLA_FUZZ_SECONDS:-8} ctest --test-dir build --output-on-failure --timeout 1200 -L fuzz
