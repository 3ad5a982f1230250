#!/bin/sh
# SPDX-License-Identifier: MIT
# test-limits.sh - configurations beyond the simulator's budget are refused up front with the
# estimate (issue #8, docs/reliability.md "Limits"): a huge prefill before its routing is
# sampled, a generated cluster of millions of GPUs or a mesh of thousands of GPUs per node
# before it is built, a sweep axis of 9999999 values before it is materialised; --max-memory sets the
# budget.
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect_refused NAME PATTERN ARGS...: exit $want (1 unless set), one error line matching PATTERN.
want=1
expect_refused () {
  name=$1 pattern=$2
  shift 2
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $name: exit $rc, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "$pattern" "$tmp/err"; then
    echo "FAIL: $name: expected one line matching '$pattern', got:"; cat "$tmp/err"; fail=1
  fi
}

# The prefill that used to sample 6.56e8 routing draws (25.6 s) before the strategy refused it.
prefill="run --cluster dgx-a100-x2 --model deepseek-v3 --strategy tppp --tp 6 --pp 2 --phase prefill --batch 253 --context 5586"
expect_refused "huge prefill" "would need about 42 GB of memory (.*routing: 6.56e+08 draws.*--max-memory" $prefill
expect_refused "--max-memory 1M" "more than the limit of 0.00105 GB; raise it with --max-memory" \
  run --cluster dgx-a100-x2 --model deepseek-v3 --strategy tppp --tp 8 --pp 2 --batch 16 --max-memory 1M

# A generated cluster of 32 million GPUs, and a mesh of 4096 GPUs per node.
gen () {
  printf '{"name": "%s", "generator": {"nodes": %s, "gpus_per_node": %s, "gpu": "H800", "scale_up": {"kind": "%s", "bandwidth_bytes_per_s": 4e11, "latency_s": 1e-6}, "scale_out": {"nics_per_node": 8, "nic_bandwidth_bytes_per_s": 5e10, "latency_s": 2e-6, "topology": "single-switch"}}}\n' "$1" "$2" "$3" "$4"
}
gen big 4000000 8 nvswitch >"$tmp/big.json"
gen mesh 2 4096 mesh >"$tmp/mesh.json"
expect_refused "cluster of 32e6 GPUs" "big.json: generator.nodes: a cluster of 32000000 GPUs .* would need about .* GB; the limit is 65536 GPUs" \
  run --cluster "$tmp/big.json" --model deepseek-v3 --strategy tppp --tp 8 --pp 2
expect_refused "mesh of 4096 GPUs a node" "mesh.json: generator.gpus_per_node: a cluster of 8192 GPUs .* links would need" \
  run --cluster "$tmp/mesh.json" --model deepseek-v3 --strategy tppp --tp 8 --pp 2

# A sweep axis of 9999999 values, and two axes whose product is over the limit (a bad axis:
# exit 2 like every command-line error).
want=2
expect_refused "sweep range" "range '1..9999999': a sweep of 9999999 points would need about 2.56 GB .* the limit is 1000000 points" \
  sweep -q --batch 1..9999999 -o "$tmp/s.jsonl"
expect_refused "sweep product" "a sweep of 1001000 points would need about" \
  sweep -q --batch 1..1000 --context 1..1001 -o "$tmp/s.jsonl"
[ -e "$tmp/s.jsonl" ] && { echo "FAIL: a refused sweep created its output"; fail=1; }

[ "$fail" -eq 0 ] && echo "PASS: limits"
exit "$fail"
