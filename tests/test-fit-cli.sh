#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fit-cli.sh - `afdsim fit`: the report and its JSON, a written GPU file that loads back
# with the fitted values and their source, the fitted errors on the shipped H200 profile
# (regression bounds on docs/backends/analytical.md's table), and bad input (one line, exit 2
# or 1).
set -u
AFDSIM=${AFDSIM:-./afdsim}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() {
  status=$1; pattern=$2; shift 2
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne "$status" ]; then
    echo "FAIL: afdsim $* exited $rc, expected $status"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: stderr lacks '$pattern'"; cat "$tmp/err"; fail=1
  fi
}

expect 0 "" fit --profile H200 --json "$tmp/fit.json" --write "$tmp/H200-fit.json"
grep -q '^error with the fitted parameters:' "$tmp/out" || { echo "FAIL: report"; fail=1; }
for key in fitted before errors_before errors_fitted gemm_max_fraction gemm_half_m \
           memory_fraction attention_max_fraction launch_overhead_s median_abs_error_rel; do
  grep -q "\"$key\"" "$tmp/fit.json" || { echo "FAIL: fit JSON lacks $key"; fail=1; }
done
# The written GPU file loads (cost uses it) and carries the source sentence.
grep -q '\[FIT\] efficiency block and launch_overhead_s fitted by `afdsim fit`' \
  "$tmp/H200-fit.json" || { echo "FAIL: source sentence"; fail=1; }
expect 0 "" cost copy --bytes 1G --gpu "$tmp/H200-fit.json"
# Regression bounds (measured 2026-12-07 on the shipped profile: gemm bf16 7.8 %, fp8 8.0 %).
tr -d ' \t\n' <"$tmp/fit.json" \
  | sed 's/.*"errors_fitted":{"gemm_bf16":{[^}]*"median_abs_error_rel":\([0-9.e+-]*\).*/\1/' \
  > "$tmp/g"
awk '{ exit !($1 < 0.10) }' "$tmp/g" || { echo "FAIL: fitted gemm_bf16 $(cat "$tmp/g")"; fail=1; }
# Bad input.
expect 2 "fit: --profile is required" fit
expect 2 "Unknown option" fit --profile H200 --bogus
expect 1 "" fit --profile no-such-profile
expect 1 "" fit --profile H200 --gpu no-such-gpu
expect 1 "" fit --profile H200 --write "$tmp/no/such/dir/g.json"
exit $fail
