#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/valgrind-default.sh [AFDSIM] - runs the default `afdsim` (no arguments) and a few
# error paths under valgrind memcheck; fails on any memory error or definite/indirect leak.
#
# AFDSIM defaults to $AFDSIM or ./afdsim (a normal, non-sanitizer build: valgrind and ASan do
# not mix). GLib's type system and caches hold "still reachable" memory for the process
# lifetime; only definite and indirect leaks count (--errors-for-leak-kinds). Skips (exit 77)
# when valgrind is missing. Keep it under 2 minutes: the default experiment is small.
set -u
bin=${1:-${AFDSIM:-./afdsim}}
top=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
[ -x "$bin" ] || { echo "valgrind: $bin is not an executable" >&2; exit 1; }
export AFDSIM_DATA_DIR=${AFDSIM_DATA_DIR:-$top}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
n=0

# run EXPECTED_STATUS ARGS...: afdsim under memcheck; its own exit status must be the expected
# one and valgrind must report nothing (valgrind's error exit status is 99).
run() {
  want=$1; shift
  n=$((n + 1))
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --track-origins=yes --log-file="$tmp/vg.$n" \
    "$bin" "$@" >"$tmp/out.$n" 2>"$tmp/err.$n"
  got=$?
  if [ "$got" -eq 99 ] || [ -s "$tmp/vg.$n" ]; then
    echo "valgrind: FAIL: afdsim $*"; cat "$tmp/vg.$n"; status=1
  elif [ "$got" -ne "$want" ]; then
    echo "valgrind: FAIL: afdsim $* exited $got, expected $want"; cat "$tmp/err.$n"; status=1
  else
    echo "valgrind: ok: afdsim $* (exit $got)"
  fi
}

# has COMMAND: TRUE when `afdsim help` lists COMMAND (commands land one by one).
has() { "$bin" help 2>/dev/null | grep -q "^  $1  "; }

t0=$(date +%s)
run 0                                          # the default run: `afdsim` with no arguments
run 0 list
run 2 frobnicate
data=$top/tests/data
if has roofline; then
  run 0 roofline --model deepseek-v3 --gpu H800 --nf 8..9
  run 1 roofline --hardware "$data/robust-nul.json"
  run 1 roofline --model "$data/robust-deep.json" --gpu H800
  run 1 roofline --model deepseek-v3 --gpu "$data/robust-gpu-huge-number.json"
  run 2 roofline --bo 1e309
fi
if has run; then
  run 1 run --strategy masep --cluster "$data/robust-cluster-bad-utf8-id.json"
  run 1 run "$data/robust-experiment-raw-newline.json"
  run 1 run --routing ''
fi
if has "show model"; then
  run 0 show model masep-4l
  run 1 show model "$data/robust-bad-utf8-key.json"
fi
echo "valgrind: $n runs in $(( $(date +%s) - t0 )) s"
exit $status
