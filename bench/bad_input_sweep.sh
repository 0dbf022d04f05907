#!/usr/bin/env bash
# Bad-input sweep: feeds ftdla damaged and hostile inputs, as a careless or malicious user would, and
# tabulates what happened. Every run is under `ulimit -v` (default 4000000 KiB) and a timeout, so a
# runaway allocation or a hang shows up as such instead of taking the machine down.
#
#   bench/bad_input_sweep.sh [FTDLA_BINARY] [--mutations N] [--seed S] [--vmem KIB] [--timeout SECONDS]
#
# Classes (N byte-mutated models by default 200; the rest hand-made):
#   mutated-model    the shipped LeNet-5 with 1-8 random bytes overwritten, every other one within its
#                    first 4 KiB (graph structure) (ftdla eval --precision float)
#   mutated-qdq      the pre-quantized LeNet-5 fixture with 1-8 random bytes overwritten (ftdla eval)
#   truncated-model  LeNet-5 cut at random lengths
#   idx-huge-count   IDX image/label files declaring 2^31-1 or 2^32-1 items / huge dims over a few bytes
#   npy-huge-shape   .npy headers declaring huge or overflowing shapes over a few bytes
#   npy-mutated      a valid 3x32x32 .npy image file with random header/body bytes overwritten (a 3x32x32 model)
#   json-hostile     deep nesting, huge numbers, wrong types in --space / --design / --constraints
# Outcome of each run: ok (exit 0), error (exit 1/2 with exactly one line "ftdla: error: ..."), unclear
# (exit 1/2 but not one such line), crash (killed by a signal or exit >= 128 other than the timeout), hang
# (timeout). A healthy build has no crash, hang or unclear row. Peak RSS of the largest run is reported.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/cli/ftdla"
mutations=200 seed=1 vmem=4000000 tmo=60
while [ $# -gt 0 ]; do
  case "$1" in
    --mutations) mutations="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --vmem) vmem="$2"; shift 2 ;;
    --timeout) tmo="$2"; shift 2 ;;
    -*) echo "bad_input_sweep.sh: unknown option $1" >&2; exit 2 ;;
    *) bin="$1"; shift ;;
  esac
done
[ -x "$bin" ] || { echo "bad_input_sweep.sh: no ftdla binary at $bin (build first)" >&2; exit 2; }
work="$(mktemp -d /tmp/ftdla-badinput.XXXXXX)"
trap 'rm -rf "$work"' EXIT
RANDOM=$seed
declare -A count ok err unclear crash hang
max_rss=0

# run CLASS ARGS...: one ftdla run, classified.
run() {
  local cls="$1"; shift
  local out="$work/out" errf="$work/err" timef="$work/time" st
  ( ulimit -v "$vmem"; exec timeout -k 5 "$tmo" /usr/bin/time -f '%M' -o "$timef" "$bin" "$@" ) >"$out" 2>"$errf"
  st=$?
  count[$cls]=$(( ${count[$cls]:-0} + 1 ))
  local rss; rss=$(tail -1 "$timef" 2>/dev/null | tr -dc 0-9); [ -n "$rss" ] && [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  # /usr/bin/time reports the program's own status; a signal shows as "Command terminated by signal".
  if [ $st -eq 124 ] || [ $st -eq 137 ]; then hang[$cls]=$(( ${hang[$cls]:-0} + 1 )); echo "HANG $cls: $*" >>"$work/log"; return; fi
  if grep -q "terminated by signal" "$timef" 2>/dev/null || [ $st -ge 128 ]; then
    crash[$cls]=$(( ${crash[$cls]:-0} + 1 )); echo "CRASH $cls ($st): $* :: $(head -c 300 "$errf")" >>"$work/log"; return
  fi
  if [ $st -eq 0 ]; then ok[$cls]=$(( ${ok[$cls]:-0} + 1 )); return; fi
  # Progress lines are allowed before the error; the error itself must be one "ftdla: error: " line at the end.
  local last; last="$(tail -n 1 "$errf")"
  if [[ "$last" == "ftdla: error: "* ]] && [ "$(grep -c '^ftdla: error: ' "$errf")" -eq 1 ] && [ ${#last} -le 600 ]; then
    err[$cls]=$(( ${err[$cls]:-0} + 1 ))
  else
    unclear[$cls]=$(( ${unclear[$cls]:-0} + 1 )); echo "UNCLEAR $cls ($st): $* :: $(head -c 300 "$errf")" >>"$work/log"
  fi
}

# mutate SRC DST [LIMIT]: copy with 1-8 random bytes overwritten (within the first LIMIT bytes if given:
# the header or graph structure rather than weight data).
mutate() {
  cp "$1" "$2"
  local size; size=$(stat -c %s "$1")
  [ "${3:-0}" -gt 0 ] && [ "$3" -lt "$size" ] && size=$3
  local k=$(( RANDOM % 8 + 1 ))
  for _ in $(seq "$k"); do
    local off=$(( (RANDOM * 32768 + RANDOM) % size ))
    printf "$(printf '\\%03o' $(( RANDOM % 256 )))" | dd of="$2" bs=1 seek="$off" conv=notrunc status=none
  done
}

lenet="$root/models/lenet5.onnx"
qdq="$root/tests/fixtures/qdq/lenet5_qdq.onnx"
for i in $(seq "$mutations"); do
  mutate "$lenet" "$work/m.onnx" $(( i % 2 ? 4096 : 0 )); run mutated-model eval "$work/m.onnx" --precision float --images 20
done
for i in $(seq $(( mutations / 4 ))); do
  mutate "$qdq" "$work/q.onnx" $(( i % 2 ? 8192 : 0 )); run mutated-qdq eval "$work/q.onnx" --images 20
done
lsize=$(stat -c %s "$lenet")
for i in $(seq 20); do
  head -c $(( (RANDOM * 32768 + RANDOM) % lsize )) "$lenet" >"$work/t.onnx"; run truncated-model eval "$work/t.onnx" --precision float --images 20
done

# IDX: an image file of 28x28 with a huge declared count over 64 bytes of data; label files likewise.
be32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(( ($1 >> 24) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 8) & 255 )) $(( $1 & 255 )))"; }
for n in 2147483647 4294967295 1000000000; do
  for dims in "28 28" "65535 65535" "4294967295 4294967295"; do
    d="$work/idx"; rm -rf "$d"; mkdir -p "$d"
    { printf '\x00\x00\x08\x03'; be32 "$n"; for x in $dims; do be32 "$x"; done; head -c 64 /dev/zero; } >"$d/t10k-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01'; be32 "$n"; head -c 16 /dev/zero; } >"$d/t10k-labels-idx1-ubyte"
    cp "$d/t10k-images-idx3-ubyte" "$d/train-images-idx3-ubyte"; cp "$d/t10k-labels-idx1-ubyte" "$d/train-labels-idx1-ubyte"
    run idx-huge-count eval --data "$d" --precision float
    run idx-huge-count eval --data "$d" --images 10
  done
done

# .npy with hostile headers: huge, negative, overflowing shapes over 16 bytes of data.
npy() {  # npy FILE DESCR SHAPE: a v1.0 header, then 16 bytes
  local dict="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local len=$(( ${#dict} + 1 )); local pad=$(( (64 - (10 + len) % 64) % 64 ))
  { printf '\x93NUMPY\x01\x00'; printf "$(printf '\\%03o\\%03o' $(( (len + pad) & 255 )) $(( (len + pad) >> 8 )))"
    printf '%s' "$dict"; printf '%*s' "$pad" ''; printf '\n'; head -c 16 /dev/zero; } >"$1"
}
npy "$work/labels.npy" "<i8" "(2,)"
for shape in "(1000000000, 28, 28)" "(4611686018427387904, 4, 4)" "(9223372036854775807, 9223372036854775807, 1)" "(-1, 28, 28)" "(2, 28, 28)" "(2, 0, 28)" "(1e9, 28, 28)" "()" "(2, 3, 32, 32, 1)"; do
  npy "$work/img.npy" "|u1" "$shape"; run npy-huge-shape eval --data "$work/img.npy" --labels "$work/labels.npy" --precision float
  npy "$work/img.npy" "<f4" "$shape"; run npy-huge-shape eval --data "$work/img.npy" --labels "$work/labels.npy" --precision float
done
# A valid 3x32x32 float .npy (the committed fixture), mutated.
for i in $(seq 40); do
  mutate "$root/tests/fixtures/rgb32_images.npy" "$work/mi.npy" $(( i % 2 ? 128 : 0 ))
  run npy-mutated eval "$root/tests/fixtures/bad_input_shape.onnx" --data "$work/mi.npy" --labels "$root/tests/fixtures/rgb32_labels.npy" --precision float
done

# JSON given to optimize/evaluate.
deep="$(printf '%.0s[' $(seq 100000))"
for j in "$deep" '{"k": [1e400]}' '{"k": "x"}' '{"k": [18446744073709551617]}' '{"harden_max": -1}' '{' '' '{"k": {"a": 1}}' "{\"k\": [$(printf '1%.0s' $(seq 5000))]}"; do
  printf '%s' "$j" >"$work/space.json"; run json-hostile optimize --space "$work/space.json" --budget 1 --cache none --images 20
  printf '%s' "$j" >"$work/design.json"; run json-hostile evaluate --design "$work/design.json" --images 20 --trials 10
done

printf '\n%-16s %6s %6s %6s %8s %6s %6s\n' "input class" tried ok error unclear crash hang
for cls in mutated-model mutated-qdq truncated-model idx-huge-count npy-huge-shape npy-mutated json-hostile; do
  printf '%-16s %6d %6d %6d %8d %6d %6d\n' "$cls" "${count[$cls]:-0}" "${ok[$cls]:-0}" "${err[$cls]:-0}" "${unclear[$cls]:-0}" \
    "${crash[$cls]:-0}" "${hang[$cls]:-0}"
done
echo "largest peak RSS: $(( max_rss / 1024 )) MiB (limit: ulimit -v $vmem KiB, timeout ${tmo}s)"
[ -f "$work/log" ] && { echo; cat "$work/log"; exit 1; }
exit 0
