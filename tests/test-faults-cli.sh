#!/bin/sh
# SPDX-License-Identifier: MIT
# test-faults-cli.sh - `afdsim run --fault`: bad specs exit 2 with one line naming the flag,
# unknown GPUs/vertices exit 1, fault runs print per-iteration states and write them to the
# summary and trace markers into the trace; a run without faults has no "iterations".
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
  if [ "$want" != 0 ] && [ "$(wc -l < "$tmp/err")" != 1 ]; then
    echo "FAIL $name: error is not one line"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$needle" ] && ! grep -q -- "$needle" "$tmp/err" "$tmp/out"; then
    echo "FAIL $name: output lacks '$needle'"; cat "$tmp/err" "$tmp/out"; fail=1; return
  fi
  echo "ok $name"
}
check bad-kind 2 "--fault: fault 'disk:1': unknown kind" -- run --strategy masep --fault disk:1
check bad-iter 2 "--fault: fault 'gpu:1@iterx'" -- run --strategy masep --fault gpu:1@iterx
check bad-fraction 2 "0 < FRACTION < 1" -- run --strategy masep --fault link:n0.nic0:2
check bad-time 2 "--fault: fault 'gpu:1@t=1': TIME '1' has no unit (s, ms, us or ns), e.g. 1ms" -- \
  run --strategy masep --fault gpu:1@t=1
check bad-time-negative 2 "--fault: fault 'gpu:1@t=-1ms': TIME '-1ms' is negative" -- \
  run --strategy masep --fault gpu:1@t=-1ms
check bad-time-nan 2 "TIME 'nanms' is not a finite number" -- run --strategy masep --fault gpu:1@t=nanms
check bad-time-large 2 "TIME '2e6s' is too large (at most 1e+06 s)" -- run --strategy masep \
  --fault gpu:1@t=2e6s
check bad-time-unit 2 "TIME '5min' has an unknown unit 'min'" -- run --strategy masep --fault gpu:1@t=5min
check time-beyond-iterations 1 "fault 'gpu:2@t=1s' strikes at 1 s but the run ends at" -- \
  run --strategy masep --set attention_redundancy=2 --fault gpu:2@t=1s --iterations 2
check bad-iterations 2 "--iterations" -- run --strategy masep --fault gpu:1 --iterations 0
check bad-detection 2 "--fault-detection" -- run --strategy masep --fault gpu:1 --fault-detection -1
check control-chars 2 'must not contain control characters' -- run --strategy masep --fault "$(printf 'gpu:1\nx')"
check beyond-iterations 1 "starts at iteration 5 but the run has 3 iterations" -- run --strategy masep \
  --fault gpu:1@iter5 --iterations 3
check no-gpu 1 "GPU 99 does not exist" -- run --strategy masep --fault gpu:99
check no-vertex 1 "no vertex 'n0.nic9'" -- run --strategy masep --fault link:n0.nic9
check file-bad 1 "json: faults.1.: fault 'gpu:x'" -- run "${srcdir:-.}/tests/data/fault-bad-spec.json"
check failover 0 "recovered" -- run --strategy masep --set attention_redundancy=2 \
  --fault gpu:2@iter1 --json "$tmp/f.json" --trace "$tmp/f-trace.json"
for key in '"iterations"' '"state":[[:space:]]*"fault"' '"state":[[:space:]]*"recovered"' \
  '"fault_detection_s"'; do
  grep -Eq "$key" "$tmp/f.json" || { echo "FAIL summary lacks $key"; fail=1; }
done
grep -q '"fault gpu:2@iter1"' "$tmp/f-trace.json" || { echo "FAIL trace lacks the marker"; fail=1; }
check time-failover 0 "gpu:2@t=40ms: struck at 0.04 s" -- run --strategy masep \
  --set attention_redundancy=2 --fault gpu:2@t=40ms --json "$tmp/t.json" --trace "$tmp/t-trace.json"
grep -Eq '"fault_time_s":[[:space:]]*0.04' "$tmp/t.json" || { echo "FAIL summary lacks fault_time_s"; fail=1; }
grep -q '"fault gpu:2@t=40ms"' "$tmp/t-trace.json" || { echo "FAIL trace lacks the @t marker"; fail=1; }
check file-time 0 "fluid approximation" -- run "${srcdir:-.}/tests/data/fault-time.json"
check failed 0 "lost 1 of 12 attention GPUs" -- run --strategy masep --fault gpu:2@iter1
check file-ok 0 "degraded" -- run "${srcdir:-.}/tests/data/fault-ok.json"
check max-memory 1 "would need about" -- run --strategy ep --max-memory 1M
check max-memory-bad 2 "--max-memory" -- run --strategy ep --max-memory 1x
check ep-redundant 0 "lost 64 of 1024 sequences" -- run --strategy ep --set redundant_experts=16 \
  --fault gpu:2@iter1 --json "$tmp/ep.json"
grep -Eq '"lost_sequences":[[:space:]]*64' "$tmp/ep.json" || { echo "FAIL summary lacks lost_sequences"; fail=1; }
grep -Eq '"state":[[:space:]]*"recovered"' "$tmp/ep.json" || { echo "FAIL ep not recovered"; fail=1; }
check ep-only-copy 0 "has no copy on a surviving GPU" -- run --strategy ep --set redundant_experts=4 \
  --fault gpu:2@iter1
check no-faults 0 "" -- run --strategy masep --json "$tmp/n.json"
if grep -q '"iterations"' "$tmp/n.json"; then echo "FAIL iterations without faults"; fail=1; fi
exit $fail
