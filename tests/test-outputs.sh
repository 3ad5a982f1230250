#!/bin/sh
# SPDX-License-Identifier: MIT
# test-outputs.sh - every output file (run summary --json, run trace --trace, sweep JSONL and
# CSV, roofline --json, collective --json) survives an unwritable path and a full disk
# (issue #8, docs/reliability.md): (a) a path under a regular file gives one error line naming
# the path, exit 1, and creates nothing; (b) a write that fails with EFBIG (RLIMIT_FSIZE with
# SIGXFSZ ignored, standing in for a full disk) gives an error and leaves the complete result an
# earlier run wrote at the same path byte-identical; a sweep's JSONL keeps its complete lines
# and a resume leaves no partial line.
set -u
AFDSIM=${AFDSIM:-./afdsim}
case "$AFDSIM" in /*) ;; *) AFDSIM="$(pwd)/$AFDSIM" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
cd "$tmp" || exit 1
: >"$tmp/file"
mkdir "$tmp/keep"

run_args="run --cluster dgx-a100-x2 --model deepseek-v3 --strategy tppp --tp 8 --pp 2 --batch 16"
roof_args="roofline --model deepseek-v3 --gpu H800"
coll_args="collective"
sweep_args="sweep -q --batch 8,16"

# unwritable KIND FLAG ARGS...: the output path is under a regular file.
unwritable () {
  kind=$1 flag=$2
  shift 2
  out="$tmp/file/out"
  "$AFDSIM" "$@" "$flag" "$out" >/dev/null 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL: $kind: unwritable path: exit $rc, expected 1"; fail=1
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "$tmp/file/out" "$tmp/err"; then
    echo "FAIL: $kind: unwritable path: expected one error line naming the path, got:"
    cat "$tmp/err"; fail=1
  fi
  if [ -n "$(find "$tmp" -newer "$tmp/file" -name 'out*' 2>/dev/null)" ]; then
    echo "FAIL: $kind: unwritable path created files"; fail=1
  fi
}

# full KIND FILE FLAG ARGS...: write a good FILE, then re-run into it with writes failing.
full () {
  kind=$1 file=$2 flag=$3
  shift 3
  rm -f "$tmp/$file"*
  if ! "$AFDSIM" "$@" "$flag" "$tmp/$file" >/dev/null 2>"$tmp/err"; then
    echo "FAIL: $kind: the reference run failed:"; cat "$tmp/err"; fail=1; return
  fi
  # a run's trace file carries the strategy's label: take whatever the run wrote
  ref=$(ls "$tmp/$file"* | head -n 1)
  cp "$ref" "$tmp/ref"
  (trap '' XFSZ; ulimit -f 1; exec "$AFDSIM" "$@" "$flag" "$tmp/$file") >/dev/null 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL: $kind: full disk: exit $rc, expected 1"; fail=1
  fi
  if ! grep -q "too large\|No space\|cannot write" "$tmp/err"; then
    echo "FAIL: $kind: full disk: no clear error:"; cat "$tmp/err"; fail=1
  fi
  if ! cmp -s "$ref" "$tmp/ref"; then
    echo "FAIL: $kind: full disk: the earlier result $ref changed"; fail=1
  fi
  left=$(ls "$tmp" | grep -v "^ref$\|^err$\|^file$\|^keep$\|^$file" | tr '\n' ' ')
  extra=$(ls "$tmp" | grep "^$file" | grep -v "^$(basename "$ref")$" | tr '\n' ' ')
  if [ -n "$left$extra" ]; then
    echo "FAIL: $kind: full disk left files behind: $left$extra"; fail=1
  fi
  rm -f "$tmp/$file"* "$tmp/ref"
}

unwritable "run summary" --json $run_args
unwritable "run trace" --trace $run_args
unwritable "sweep JSONL" -o $sweep_args
unwritable "sweep CSV" --csv $sweep_args -o "$tmp/unw.jsonl"
rm -f "$tmp/unw.jsonl"
unwritable "roofline" --json $roof_args
unwritable "collective" --json $coll_args

full "run summary" sum.json --json $run_args
full "run trace" trace.json --trace $run_args
full "sweep CSV" s.csv --csv $sweep_args -o "$tmp/keep/csv.jsonl"
full "roofline" roof.json --json $roof_args
full "collective" coll.json --json $coll_args

# Sweep JSONL (append-only): two complete points, then a resume that adds more under a full
# disk keeps them and leaves no partial line; a resume without the limit completes it.
"$AFDSIM" sweep -q --batch 8,16 -o "$tmp/s.jsonl" 2>"$tmp/err" || { echo "FAIL: sweep reference"; cat "$tmp/err"; fail=1; }
cp "$tmp/s.jsonl" "$tmp/s.ref"
size=$(wc -c <"$tmp/s.jsonl")
# about 600 bytes beyond the file (ulimit -f counts 512-byte blocks in dash, 1024 in bash): part
# of the next line (about 740 bytes) fits, and the writer must drop it.
(trap '' XFSZ; ulimit -f $(( (size + 600) / 512 )); exec "$AFDSIM" sweep -q --batch 8,16,24,32,40,48,56,64 -o "$tmp/s.jsonl") >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: sweep JSONL: full disk: exit $rc, expected 1"; cat "$tmp/err"; fail=1; }
head -c "$size" "$tmp/s.jsonl" | cmp -s - "$tmp/s.ref" \
  || { echo "FAIL: sweep JSONL: the earlier lines changed"; fail=1; }
[ -z "$(tail -c 1 "$tmp/s.jsonl" | tr -d '\n')" ] \
  || { echo "FAIL: sweep JSONL: a partial line remains after the full disk"; fail=1; }
"$AFDSIM" sweep -q --batch 8,16,24,32,40,48,56,64 -o "$tmp/s.jsonl" 2>"$tmp/err" \
  || { echo "FAIL: sweep JSONL: resume failed"; cat "$tmp/err"; fail=1; }
"$AFDSIM" sweep -q --batch 8,16,24,32,40,48,56,64 -o "$tmp/s2.jsonl" 2>"$tmp/err"
cmp -s "$tmp/s.jsonl" "$tmp/s2.jsonl" \
  || { echo "FAIL: sweep JSONL: the resumed file differs from an uninterrupted run"; fail=1; }

[ "$fail" -eq 0 ] && echo "PASS: outputs: unwritable paths and full disks"
exit "$fail"
