#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/, option FTDLA_FUZZ) with clang++ in build-fuzz/ and run each one for
# SECONDS (default 20) on a scratch copy of its seed corpus fuzz/corpus/<target>/ (the committed corpus is
# not modified). Exits 1 if any target finds a crash, a sanitizer report, an uncaught exception, a timeout
# or an oversized allocation (reproducers go to build-fuzz/artifacts/), 77 if clang++ is not installed.
#
#   scripts/fuzz.sh [SECONDS]
#   FTDLA_FUZZ_TARGETS="onnx npy" scripts/fuzz.sh 300    # only these targets
#   FTDLA_FUZZ_JOBS=4 scripts/fuzz.sh                     # build parallelism (default 2)
#   FTDLA_FUZZ_SECONDS=8 ctest --test-dir build -L fuzz   # overrides the seconds CTest passes
set -euo pipefail
seconds=${FTDLA_FUZZ_SECONDS:-${1:-20}}  # the environment wins (scripts/test.sh sets it for CI)
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
cxx=${FTDLA_FUZZ_CXX:-clang++}
all_targets="onnx idx npy design space constraints components checkpoint evalcache"
targets=${FTDLA_FUZZ_TARGETS:-$all_targets}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz.sh: $cxx not found; install clang (Debian: apt-get install clang) to build the libFuzzer targets" >&2
  exit 77
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DFTDLA_FUZZ=ON -DFTDLA_BUILD_TESTS=OFF \
    -DFTDLA_MPI=OFF -DFTDLA_NATIVE=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_targets=()
for t in $targets; do build_targets+=("${t}_fuzz"); done
if ! cmake --build "$build" --target "${build_targets[@]}" -j "${FTDLA_FUZZ_JOBS:-2}" >"$build/fuzz-build.log" 2>&1; then
  tail -n 40 "$build/fuzz-build.log" >&2
  echo "fuzz.sh: the fuzz build failed (log: $build/fuzz-build.log)" >&2
  exit 1
fi
for t in "${build_targets[@]}"; do
  [[ -x "$build/fuzz/$t" ]] || { echo "fuzz.sh: $build/fuzz/$t was not built" >&2; exit 1; }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ftdla-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
artifacts="$build/artifacts"
mkdir -p "$artifacts"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
failed=()
for t in $targets; do
  mkdir -p "$scratch/$t"
  cp -r "$root/fuzz/corpus/$t/." "$scratch/$t/"
  log="$scratch/$t.log"
  rc=0
  "$build/fuzz/${t}_fuzz" "$scratch/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(ls "$scratch/$t" | wc -l)
  if [[ $rc -eq 0 ]]; then
    printf 'fuzz %-12s ok     %9s execs in %ss, corpus %s files\n' "$t" "${execs:-?}" "$seconds" "$corpus"
  else
    printf 'fuzz %-12s FAILED (exit %d) after %s execs; log tail:\n' "$t" "$rc" "${execs:-?}"
    tail -n 40 "$log" | sed 's/^/    /'
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]} (reproducers in $artifacts/)" >&2
  exit 1
fi
