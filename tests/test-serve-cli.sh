#!/bin/sh
# SPDX-License-Identifier: MIT
# test-serve-cli.sh - `afdsim serve` on the command line (docs/user/serve.md): every bad flag
# or workload row is one message naming it and a non-zero exit, with no output file written;
# a good run writes the summary (with provenance), the per-request CSV and the trace.
set -u
afdsim=${AFDSIM:-./afdsim}
src=${top_srcdir:-.}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
base="--cluster h200-1x4 --model mixtral-8x7b --strategy tppp --set tp=4"
# expect_error NEEDLE ARGS...: exit status 2 or 1, the message holds NEEDLE, no JSON written.
expect_error() {
  needle=$1
  shift
  rm -f "$tmp/out.json"
  # shellcheck disable=SC2086
  if "$afdsim" serve "$@" -q --json "$tmp/out.json" 2>"$tmp/err"; then
    echo "FAIL: accepted: $*"
    fail=1
    return
  fi
  grep -q -- "$needle" "$tmp/err" || { echo "FAIL: '$*': no '$needle' in: $(cat "$tmp/err")"; fail=1; }
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL: '$*': not one line: $(cat "$tmp/err")"; fail=1; }
  [ ! -e "$tmp/out.json" ] || { echo "FAIL: '$*': wrote a summary"; fail=1; }
}
# shellcheck disable=SC2086
expect_error "--rate" $base --rate 0
expect_error "--rate" $base --rate abc
expect_error "--prompt" $base --prompt uniform:9:3
expect_error "--output" $base --output lognormal:0:1
expect_error "--arrival" $base --arrival weibull
expect_error "--requests" $base --requests 0
expect_error "would arrive after 1e+09 s" $base --rate 1e-9 --requests 3
expect_error "--max-batch" $base --max-batch 0
expect_error "--ttft-slo" $base --ttft-slo 5parsecs
expect_error "--chunked-prefill" $base --chunked-prefill maybe
expect_error "chunked prefill needs max tokens" $base --max-batch 64 --max-tokens 64
expect_error "--duration" $base --duration 1s --rate 0.1
expect_error "not both" $base --duration 10s --requests 5
expect_error "--workload" $base --workload "$src/experiments/serve-seeds/trace.csv" --rate 3
printf 'arrival_s,prompt_tokens,output_tokens\n0,5,5\n1,5,-2\n' >"$tmp/serve-trace-bad.csv"
expect_error "serve-trace-bad.csv:3: column 'output_tokens'" $base --workload "$tmp/serve-trace-bad.csv"
expect_error "--prefill-strategy and --decode-strategy" --cluster h200-1x4 --model mixtral-8x7b --prefill-strategy tppp
expect_error "--strategy" --cluster h200-1x4 --model mixtral-8x7b
expect_error "--model" --cluster h200-1x4 --strategy tppp
expect_error "no_such" $base --set no_such=1
expect_error "strateg" --cluster h200-1x4 --model mixtral-8x7b --strategy nonesuch
expect_error "--network" $base --network fast
expect_error "--kv-\* need" $base --kv-streams 2
expect_error "--requests-csv and --workload name the same file" $base --workload "$tmp/serve-trace-bad.csv" --requests-csv "$tmp/serve-trace-bad.csv"
expect_error "is a character device" $base --workload /dev/zero
# Two outputs naming one file: refused before any work, nothing written.
# shellcheck disable=SC2086
if "$afdsim" serve $base --requests 3 -q --json "$tmp/same" --requests-csv "$tmp/same" 2>"$tmp/err"; then
  echo "FAIL: --json and --requests-csv on one file accepted"; fail=1
fi
grep -q -- "--json and --requests-csv name the same file" "$tmp/err" || { echo "FAIL: $(cat "$tmp/err")"; fail=1; }
[ ! -e "$tmp/same" ] || { echo "FAIL: wrote $tmp/same"; fail=1; }
# A good run from the shipped trace: summary with provenance (the trace is an input), CSV rows,
# a trace with request tracks.
# shellcheck disable=SC2086
"$afdsim" serve $base --workload "$src/experiments/serve-seeds/trace.csv" -q --json "$tmp/s.json" \
  --requests-csv "$tmp/r.csv" --trace "$tmp/t.json" --trace-requests 3 || { echo "FAIL: good run"; fail=1; }
grep -q '"command":.*"serve"' "$tmp/s.json" || { echo "FAIL: no provenance"; fail=1; }
grep -q "serve-seeds/trace.csv" "$tmp/s.json" || { echo "FAIL: the trace is not an input"; fail=1; }
[ "$(wc -l <"$tmp/r.csv")" -eq 9 ] || { echo "FAIL: CSV rows: $(wc -l <"$tmp/r.csv")"; fail=1; }
head -1 "$tmp/r.csv" | grep -q '^request,arrival_s,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s,kv_transfer_s$' \
  || { echo "FAIL: CSV header"; fail=1; }
grep -q '"request 2 (256+64 tokens)"' "$tmp/t.json" || { echo "FAIL: trace lacks request 2"; fail=1; }
if grep -q '"request 3 ' "$tmp/t.json"; then echo "FAIL: trace has request 3"; fail=1; fi
exit $fail
