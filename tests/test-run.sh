#!/bin/sh
# SPDX-License-Identifier: MIT
# test-run.sh - `afdsim run` / `compare` from the command line: exit statuses, one-line errors
# naming the problem, byte-identical summaries for one seed, traces written where asked.
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
  if [ -n "$needle" ] && ! grep -q -- "$needle" "$tmp/err" "$tmp/out"; then
    echo "FAIL $name: output lacks '$needle'"; cat "$tmp/err"; fail=1; return
  fi
  echo "ok $name"
}
check bad-number 2 "--batch" -- run --strategy ep --batch 12x
check bad-network 2 "--network" -- run --strategy ep --network fast
check unknown-strategy 1 "unknown strategy 'nope'" -- run --strategy nope
check unknown-option 2 "--tp does not apply to strategy masep (it is an option of tppp)" -- run --strategy masep --tp 4
check infeasible 1 "not divisible" -- run --strategy masep --attn-gpus 13 --moe-gpus 3
check memory 1 "HBM" -- run --strategy ep --batch 2000000
check run-ep 0 "tokens/s" -- run --strategy ep --batch 64 --context 512
check compare 0 "tppp" -- compare --batch 64 --context 512
check prefill 0 "prefill" -- run --strategy tppp --phase prefill --batch 16 --context 256
check afd 0 "afd" -- run --strategy afd --attn-nodes 2 --ffn-nodes 2 --batch 64 --context 512
check set-option 0 "ep" -- run --strategy ep --set dispatch=two-stage --set node_limit=2 --batch 64
check set-bad-value 1 "two-stage" -- run --strategy ep --set dispatch=bogus
check set-not-pair 2 "KEY=VALUE" -- run --strategy ep --set dispatch
check help-lists-backend 0 "--backend=B" -- run --help
check backend-sim 0 "" -- run -q --backend sim --strategy ep --batch 64 --context 256
# One seed, one summary: two runs are byte-identical (but for the command line in the
# provenance, which names the output file).
"$afdsim" run --strategy ep --routing zipf:1.2 --seed 5 -q --json "$tmp/a.json" &&
  "$afdsim" run --strategy ep --routing zipf:1.2 --seed 5 -q --json "$tmp/b.json" &&
  grep -q '"command_line":.*b\.json' "$tmp/b.json" &&
  sed 's/b\.json"/a.json"/' "$tmp/b.json" | cmp -s "$tmp/a.json" - && echo "ok deterministic" || { echo "FAIL deterministic"; fail=1; }
# A trace per run of an experiment, valid JSON with one process per GPU.
"$afdsim" run --batch 64 -q --trace "$tmp/t.json" &&
  for l in masep-12x4 tp8-pp2 ep16; do
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert sum(1 for e in d['traceEvents'] if e.get('name')=='process_name')>=16" "$tmp/t-$l.json" ||
      { echo "FAIL trace $l"; fail=1; }
  done && echo "ok traces"
exit $fail
