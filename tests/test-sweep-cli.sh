#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sweep-cli.sh - `afdsim sweep` from the command line: the shipped seeds-ratio-sweep
# experiment reproduces expected/sweep.jsonl byte for byte, --list shows the product, nothing is
# written to stderr when it is not a terminal, and every bad flag exits 2 with one line naming
# it (docs/user/sweep.md).
set -u
AFDSIM=${AFDSIM:-./afdsim}
srcdir=${top_srcdir:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# Golden: every k:(16-k) split of the seeds' setup (infeasible splits reported, not dropped).
"$AFDSIM" sweep seeds-ratio-sweep -q -o "$tmp/seeds.jsonl" 2>"$tmp/err" || { echo "FAIL: seeds-ratio-sweep"; cat "$tmp/err"; fail=1; }
cmp -s "$srcdir/experiments/seeds-ratio-sweep/expected/sweep.jsonl" "$tmp/seeds.jsonl" \
  || { echo "FAIL: seeds-ratio-sweep differs from expected/sweep.jsonl:"; diff "$srcdir/experiments/seeds-ratio-sweep/expected/sweep.jsonl" "$tmp/seeds.jsonl" | head -10; fail=1; }
[ -s "$tmp/err" ] && { echo "FAIL: stderr is not a terminal but sweep wrote to it:"; cat "$tmp/err"; fail=1; }
[ "$(grep -c '"status":"infeasible"' "$tmp/seeds.jsonl")" -gt 0 ] || { echo "FAIL: no infeasible split reported"; fail=1; }

# --list: the Cartesian product, first axis slowest, without running anything.
"$AFDSIM" sweep --list --strategy masep,ep --batch 64,128,256 >"$tmp/list" || fail=1
[ "$(wc -l <"$tmp/list")" -eq 6 ] || { echo "FAIL: --list printed $(wc -l <"$tmp/list") points, expected 6"; fail=1; }
sed -n 4p "$tmp/list" | grep -q '"index":3,.*"strategy":"ep","batch":64' || { echo "FAIL: --list order:"; cat "$tmp/list"; fail=1; }

# A point with status "error" does not stop the sweep, and the command exits 1 naming it.
"$AFDSIM" sweep --strategy masep,nosuch -o "$tmp/e.jsonl" >/dev/null 2>"$tmp/err"
st=$?
[ "$st" -eq 1 ] && grep -q '1 point failed' "$tmp/err" && [ "$(wc -l <"$tmp/e.jsonl")" -eq 2 ] \
  || { echo "FAIL: error point: exit $st"; cat "$tmp/err"; fail=1; }

# expect_usage PATTERN ARGS...: exit 2, one line on stderr containing PATTERN.
expect_usage() {
  pattern=$1; shift
  "$AFDSIM" sweep "$@" -o "$tmp/u.jsonl" >/dev/null 2>"$tmp/err"
  st=$?
  if [ "$st" -ne 2 ] || ! grep -q -- "$pattern" "$tmp/err" || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim sweep $*: exit $st (expected 2 and one line with '$pattern'):"; cat "$tmp/err"; fail=1
  fi
}
expect_usage "--batch" --batch 10..1
expect_usage "--batch" --batch 1,,2
expect_usage "--batch" --batch 1e400
expect_usage "--ratio" --ratio 3
expect_usage "--attn-gpus" --attn-gpus x
expect_usage "--set" --set nokey
expect_usage "--set bad key" --set "bad key=1"
expect_usage "--jobs" --jobs 0
expect_usage "--total-gpus" --total-gpus 8,16
# Out-of-grid lookups (issue #17 point 5): an ok line carries the run's count, the same as
# `afdsim run` records in its provenance (3 shapes outside the H200 profile), 0 for analytic;
# the CSV has the column.
"$AFDSIM" sweep --strategy ep --model qwen3-235b-a22b --cluster h200-1x4 --batch 64 \
  --context 2048 --costs profile:H200,analytic -q -o "$tmp/oog.jsonl" --csv "$tmp/oog.csv" \
  2>"$tmp/err" || { echo "FAIL: out-of-grid sweep"; cat "$tmp/err"; fail=1; }
"$AFDSIM" run --strategy ep --model qwen3-235b-a22b --cluster h200-1x4 --batch 64 \
  --context 2048 --costs profile:H200 -q --json "$tmp/oog-run.json" 2>/dev/null \
  || { echo "FAIL: out-of-grid run"; fail=1; }
n_run=$(tr -d ' \t\n' <"$tmp/oog-run.json" | sed -n 's/.*"out_of_grid_lookups":\([0-9]*\).*/\1/p')
grep '"costs":"profile:H200"' "$tmp/oog.jsonl" | grep -q "\"out_of_grid_lookups\":$n_run[,}]" \
  && [ "$n_run" -ge 1 ] || { echo "FAIL: profile line lacks out_of_grid_lookups $n_run"; fail=1; }
grep '"costs":"analytic"' "$tmp/oog.jsonl" | grep -q '"out_of_grid_lookups":0[,}]' \
  || { echo "FAIL: analytic line lacks out_of_grid_lookups 0"; fail=1; }
head -1 "$tmp/oog.csv" | grep -q 'joules_per_token,out_of_grid_lookups,message' \
  || { echo "FAIL: CSV column"; head -1 "$tmp/oog.csv"; fail=1; }

expect_usage "--nic-bandwidth" --nic-bandwidth 25e9,abc
expect_usage "points" --batch 1..4000 --seed 1..4000
"$AFDSIM" sweep nosuch-experiment -o "$tmp/u.jsonl" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q nosuch-experiment "$tmp/err" || { echo "FAIL: unknown experiment"; cat "$tmp/err"; fail=1; }
exit $fail
