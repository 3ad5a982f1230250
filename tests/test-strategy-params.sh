#!/bin/sh
# SPDX-License-Identifier: MIT
# test-strategy-params.sh - the strategies' parameter tables (sim/strategy.h) drive the flags of
# run, compare, validate and sweep, their help and `afdsim list strategies --params`: a flag
# that does not apply is an error naming the flag and the strategy, a flag beside an
# experiment is refused (never ignored), and in a compare or sweep over several strategies an
# option applies to the strategies that declare it.
set -u
afdsim=${AFDSIM:-./afdsim}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME EXPECTED_STATUS NEEDLE -- ARGS...
  name=$1 want=$2 needle=$3
  shift 4
  "$afdsim" "$@" > "$tmp/out" 2> "$tmp/err"
  got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$needle" ] && ! grep -q -F -- "$needle" "$tmp/err" "$tmp/out"; then
    echo "FAIL $name: output lacks '$needle'"; cat "$tmp/err" "$tmp/out" | head -5; fail=1; return
  fi
  echo "ok $name"
}
small="--cluster dgx-a100-x2 --model masep-4l --batch 64 --context 256"

# A flag that does not apply names the flag, the strategy and the strategies that declare it.
check not-applies 2 "--attn-gpus does not apply to strategy ep (it is an option of masep)" -- \
  run -q --strategy ep --attn-gpus 4
check set-not-applies 2 "--set nonsense=1: strategy ep has no option 'nonsense'" -- \
  run -q --strategy ep --set nonsense=1
check range-per-strategy 2 "strategy ep: --micro-batches: 3 is outside [1, 2]" -- \
  run -q --strategy ep --micro-batches 3
check range-afd 2 "strategy afd: --micro-batches: 1 is outside [2, 4]" -- \
  run -q --strategy afd --micro-batches 1
check bad-int 2 "strategy masep: --attn-gpus: 'nan' is not an integer" -- \
  run -q --strategy masep --attn-gpus nan
check validate-not-applies 2 "--tp does not apply to strategy masep (it is an option of tppp)" -- \
  validate -q --strategy masep --tp 2

# The issue's cases: flags beside the default or a named experiment are refused.
check default-nan 2 "--attn-gpus needs --strategy S (masep, tppp, ep or afd)" -- \
  run -q --attn-gpus nan
check default-placement 2 "--attn-gpus needs --strategy" -- run --attn-gpus 8 --moe-gpus 8
check named-tp 2 "--tp applies to a --strategy run; seeds-headline has its placements" -- \
  run -q seeds-headline --tp 5x
check default-set 2 "--set needs --strategy" -- run -q --set nonsense
check validate-file 2 "validate: --set applies to a --strategy run" -- \
  validate -q seeds-headline --set handoff=scatter

# compare: an option applies to the strategies that declare it; none declaring it is an error.
check compare-none 2 "--attn-gpus does not apply to strategy tppp, ep (it is an option of masep)" -- \
  compare -q --strategy tppp --strategy ep --attn-gpus 8
check compare-each 0 "" -- compare -q $small --attn-gpus 8 --moe-gpus 8 --ep 16 \
  --set dispatch=two-stage --json "$tmp/c.json"
for want in '"attn_gpus":8' '"ep":16' '"dispatch":"two-stage"'; do
  tr -d ' \n\t' < "$tmp/c.json" | grep -q -F "$want" || { echo "FAIL compare-each: no $want"; fail=1; }
done
# tppp's options stay empty: none of the flags is one of its parameters.
tr -d ' \n\t' < "$tmp/c.json" | grep -q -F '"strategy":"tppp","options":{}' \
  || { echo "FAIL compare-each: tppp got options it does not declare"; fail=1; }

# sweep over several strategies: the masep-only axis applies to masep's points only.
check sweep-multi 0 "" -- sweep -q $small --strategy masep,ep --attn-gpus 4,12 --total-gpus 16 \
  -o "$tmp/s.jsonl"
if grep -q '"error"' "$tmp/s.jsonl" || [ "$(wc -l < "$tmp/s.jsonl")" -ne 4 ]; then
  echo "FAIL sweep-multi: expected 4 points without error"; cat "$tmp/s.jsonl" | head -4; fail=1
fi
check sweep-ratio-no-split 1 "has no split" -- sweep -q $small --strategy tppp --ratio 3:1 -o "$tmp/r.jsonl"
grep -q "strategy tppp has no split of the GPUs" "$tmp/r.jsonl" \
  || { echo "FAIL sweep-ratio-no-split: no error line"; fail=1; }

# Help and listing come from the tables.
check help-shared 0 "tppp, ep, afd: micro-batches (tppp default: pp; ep 1..2, default 2; afd 2..4, default 3)" -- \
  run --help
check sweep-help 0 "masep: attention GPUs k; with --total-gpus, moe_gpus = total - attn_gpus" -- \
  sweep --help
check list-params 0 "dispatch: flat|two-stage, default flat" -- list strategies --params
check list-split 0 "every split of the cluster's nodes, ffn_nodes taking the rest" -- \
  list strategies --params
check list-derived 0 "ep (--ep): integer 1..1048576 GPUs, default derived from the cluster (the whole cluster)" -- \
  list strategies --params
# serve's pool options go through the same tables, named by the pool's flag.
check serve-pool-set 2 "--prefill-set tp=2: strategy ep has no option 'tp'" -- \
  serve -q --cluster dgx-a100-x2 --model masep-4l --prefill-strategy ep --decode-strategy tppp \
  --prefill-set tp=2 --requests 2

# The values a search tries on one cluster (16 GPUs in 2 nodes of 8), from the same tables.
check search-ep 0 "    ep: 1, 2, 4, 8, 16" -- list strategies --params --cluster dgx-a100-x2
check search-tp 0 "    tp: 1, 2, 4, 8" -- list strategies --params --cluster dgx-a100-x2
check search-split 0 "    attn_gpus: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 (moe_gpus: the rest)" -- \
  list strategies --params --cluster dgx-a100-x2
check search-afd 0 "    micro_batches: 2, 3, 4" -- list strategies --params --cluster dgx-a100-x2
check search-needs-params 2 "list: --cluster needs --params" -- list strategies --cluster dgx-a100-x2
exit $fail
