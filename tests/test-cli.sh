#!/bin/sh
# SPDX-License-Identifier: MIT
# test-cli.sh - the afdsim command line: exit statuses and messages for good and bad use.
# Every command-line error must be one line on stderr and exit status 2.
set -u
AFDSIM=${AFDSIM:-./afdsim}
fail=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS PATTERN ARGS... : run afdsim, check exit status and that stderr matches.
expect() {
  want=$1; pattern=$2; shift 2
  n=$((n + 1))
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: afdsim $* exited $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: stderr lacks '$pattern':"; cat "$tmp/err"; fail=1; return
  fi
  if [ "$want" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim $*: expected exactly one line on stderr:"; cat "$tmp/err"; fail=1
  fi
}

expect 0 "" --version
grep -q '^afdsim ' "$tmp/out" || { echo "FAIL: --version output"; fail=1; }
grep -q '^features: ' "$tmp/out" || { echo "FAIL: --version lacks features"; fail=1; }
expect 0 "" help
expect 0 "" list
expect 0 "" list clusters
expect 2 "unknown command 'frobnicate'" frobnicate
expect 2 "unknown kind" list nonsense
expect 2 "nknown option" list --no-such-flag
# Every command answers --help with status 0 (names are columns 3-20 of `afdsim help`).
"$AFDSIM" help | awk '/^Commands:/ {on=1; next} /^$/ {on=0} on {print}' | \
  cut -c3-20 | sed 's/ *$//' >"$tmp/cmds"
while read -r c; do
  [ -z "$c" ] && continue
  # shellcheck disable=SC2086
  expect 0 "" $c --help
done <"$tmp/cmds"

# bench engine / demo (issue 2): bad numbers are one line and exit 2.
expect 2 "pending" bench engine --pending -1
expect 2 "pending" bench engine --pending 0
expect 2 "pending" bench engine --pending 12abc
expect 2 "events" bench engine --events nan
expect 2 "events" bench engine --events 1e99
expect 2 "events" bench engine --events 0
expect 2 "seed" bench engine --seed -3
expect 2 "nknown option" bench engine --frob
expect 0 "" bench engine --pending 10 --events 1000 --json
grep -q '"engine_over_bare"' "$tmp/out" || { echo "FAIL: bench engine --json lacks engine_over_bare"; fail=1; }
expect 2 "layers" demo --layers 0
expect 2 "seed" demo --seed x
expect 1 "trace" demo --trace /nonexistent-afd-dir/t.json
expect 0 "" demo --layers 2
grep -q '^makespan: ' "$tmp/out" || { echo "FAIL: demo prints no makespan"; fail=1; }

# Hostile numbers (issue 8, docs/reliability.md): overflow, -0, hex, empty, blanks.
expect 2 "'1e309' is out of range" roofline --bo 1e309
expect 2 "-0 is outside \[1, 64\]" roofline --bo -0
expect 2 "'0x10' is not an integer" roofline --bo 0x10
expect 2 "'' is not a number" roofline --bo ''
expect 2 "'  5' is not a number" roofline --bo '  5'
expect 2 "'1e309' is out of range" roofline --accept 1e309
expect 2 "'0x10' is not a number" roofline --accept 0x10
expect 0 "" roofline --model deepseek-v3 --gpu H800 --nf 8 --gap -0
grep -q 't_g 0 s' "$tmp/out" || { echo "FAIL: --gap -0 is not read as plain zero"; fail=1; }

echo "test-cli: $n checks"
exit $fail
