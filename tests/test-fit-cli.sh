#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fit-cli.sh - `afdsim fit`: the report and its JSON, a written GPU file that loads back
# with the fitted values and their source, the fitted errors on the shipped H200 profile
# (regression bounds on docs/backends/analytical.md's table), issue #17 point 2 on both shipped
# profiles (every fitted family within 10 % median |error| with the shipped GPU file's own
# values, in sample and on the held-out half), and bad input (one line, exit 2 or 1).
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
           memory_fraction attention_max_fraction gemm_max_fraction_fp8 launch_overhead_gemm_s \
           launch_overhead_attention_s launch_overhead_memory_s median_abs_error_rel; do
  grep -q "\"$key\"" "$tmp/fit.json" || { echo "FAIL: fit JSON lacks $key"; fail=1; }
done
# The written GPU file loads (cost uses it) and carries the source sentence.
grep -q '\[FIT\] efficiency block and launch overheads fitted by `afdsim fit`' \
  "$tmp/H200-fit.json" || { echo "FAIL: source sentence"; fail=1; }
[ "$(grep -o '\[FIT\] efficiency block' "$tmp/H200-fit.json" | wc -l)" -eq 1 ] \
  || { echo "FAIL: --write repeats the [FIT] sentence"; fail=1; }
grep -q '"launch_overhead_per_class_s":' "$tmp/H200-fit.json" || { echo "FAIL: class key"; fail=1; }
expect 0 "" cost copy --bytes 1G --gpu "$tmp/H200-fit.json"
# Regression bounds (measured 2026-12-07 on the shipped profile: gemm bf16 7.8 %, fp8 8.0 %).
tr -d ' \t\n' <"$tmp/fit.json" \
  | sed 's/.*"errors_fitted":{"gemm_bf16":{[^}]*"median_abs_error_rel":\([0-9.e+-]*\).*/\1/' \
  > "$tmp/g"
awk '{ exit !($1 < 0.10) }' "$tmp/g" || { echo "FAIL: fitted gemm_bf16 $(cat "$tmp/g")"; fail=1; }
# Issue #17 point 2: with the shipped GPU file's values, every fitted op family (all but
# grouped_gemm, reported only) is within 10 % median |error| of its profile. Fitted on a
# seeded half of each family (seed 17, chosen before the first run), both halves of the
# large families (GEMMs, decode: 87-235 points a half) stay within 10 %; the small ones
# (prefill 3-6 and copies 5 points a half, where the median is one or two points) within the
# regression bounds 35 % and 25 % (measured: H100-SXM prefill 28.4 %, copy 22.4 % held out;
# docs/backends/analytical.md says why).
# $1: report file, $2: section title, $3: awk condition on family ($1) and median ($3).
check_section() {
  awk -v title="$2" '
    index($0, title) == 1 { on = 1; next }
    on && /^  family/ { next }
    on && /^  / { m = $3; sub(/%/, "", m); n++
                  if ('"$3"') { print "FAIL: " title " " $1 " " $3; bad = 1 } next }
    on { on = 0 }
    END { exit bad || n == 0 }' "$1" || { echo "FAIL: $1 section '$2'"; fail=1; }
}
for profile in H200 H100-SXM; do
  "$AFDSIM" fit --profile "$profile" --holdout 17 --json "$tmp/$profile.json" >"$tmp/$profile.txt" \
    || { echo "FAIL: fit --profile $profile"; fail=1; continue; }
  check_section "$tmp/$profile.txt" "error of the analytic backend vs the profile, GPU file" \
    '$1 != "grouped_gemm" && m + 0 >= 10'
  for half in "error on the fitting half" "error on the held-out half"; do
    check_section "$tmp/$profile.txt" "$half" \
      '$1 != "grouped_gemm" && m + 0 >= ($1 == "attention_prefill" ? 35 : $1 == "memory_copy" ? 25 : 10)'
  done
  grep -q '"errors_held_out"' "$tmp/$profile.json" || { echo "FAIL: holdout JSON"; fail=1; }
done
# --by-table: the decode tail is MLA with 16 heads, priced too fast (the emulation reads the
# latent twice, docs/backends/analytical.md).
"$AFDSIM" fit --profile H200 --by-table >"$tmp/by.txt" || { echo "FAIL: --by-table"; fail=1; }
grep 'attention_decode *mla heads 16/1 d=576/512' "$tmp/by.txt" | grep -q ' -[0-9.]*%$' \
  || { echo "FAIL: --by-table lacks the MLA 16/1 row priced fast"; fail=1; }
[ "$(sed -n '/per table/,$p' "$tmp/by.txt" | grep -c '^  attention_decode ')" -eq 6 ] || { echo "FAIL: decode tables"; fail=1; }
# Bad input.
expect 2 "fit: --holdout: 'x' is not a seed" fit --profile H200 --holdout x
expect 2 "fit: --gemm-half-m: 0.5 rows is outside" fit --profile H200 --gemm-half-m 0.5
expect 2 "fit: --profile is required" fit
expect 2 "Unknown option" fit --profile H200 --bogus
expect 1 "" fit --profile no-such-profile
expect 1 "" fit --profile H200 --gpu no-such-gpu
expect 1 "" fit --profile H200 --write "$tmp/no/such/dir/g.json"
exit $fail
