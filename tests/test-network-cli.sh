#!/bin/sh
# SPDX-License-Identifier: MIT
# test-network-cli.sh - `afdsim collective` and `afdsim gen-cluster`: JSON rows, the busbw
# definition, a generated cluster that loads back, and bad flags (one line, exit status 2).
set -u
AFDSIM=${AFDSIM:-./afdsim}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS PATTERN ARGS...: run afdsim, check the exit status and stderr.
expect() {
  want=$1; pattern=$2; shift 2
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: afdsim $* exited $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: stderr lacks '$pattern'"; cat "$tmp/err"; fail=1
  fi
}

# The JSON rows carry the documented keys; busbw = algbw x 2(n-1)/n for all-reduce (n = 8).
expect 0 "" collective --cluster dgx-a100-x2 --ranks 8 --bytes 1K:4K --json "$tmp/rows.json"
for key in '"op"' '"ranks"' '"bytes"' '"time_s"' '"algbw_bytes_per_s"' '"busbw_bytes_per_s"' \
           '"algo"' '"network"'; do
  grep -q "$key" "$tmp/rows.json" || { echo "FAIL: rows lack $key"; fail=1; }
done
[ "$(grep -c '"bytes"' "$tmp/rows.json")" -eq 3 ] || { echo "FAIL: 1K:4K is 3 sizes"; fail=1; }
awk '/"algbw_bytes_per_s"/ { gsub(/[,]/, ""); a = $2 } /"busbw_bytes_per_s"/ { gsub(/[,]/, "");
     r = $2 / a; if (r < 1.7499 || r > 1.7501) { print "FAIL: busbw/algbw " r; bad = 1 } }
     END { exit bad }' "$tmp/rows.json" || fail=1

# The worked example of docs/models/collectives.md: 229.34 GB/s busbw.
expect 0 "" collective --cluster dgx-a100-x2 --ranks 8 --bytes 1G
grep -q ' 229.34$' "$tmp/out" || { echo "FAIL: worked example row"; cat "$tmp/out"; fail=1; }

# Flow mode runs and reports the same columns.
expect 0 "" collective --cluster dgx-h100-x4 --op all-to-all --ranks 16 --bytes 1M --network flow
grep -q 'direct' "$tmp/out" || { echo "FAIL: flow all-to-all row"; fail=1; }

# gen-cluster writes a file that loads back.
expect 0 "" gen-cluster --name g --gpu H100-SXM --nodes 2 --gpus-per-node 4 -o "$tmp/g.json"
expect 0 "" collective --cluster "$tmp/g.json" --bytes 1M
grep -q '8 of 8 GPUs of g (2 nodes)' "$tmp/out" || { echo "FAIL: generated cluster"; fail=1; }

# bench network --scaling: one row per point from 128 GPUs; the JSON points carry the keys;
# both route storages give the same simulated time.
expect 0 "" bench network --scaling --max-gpus 256
[ "$(grep -c '^ *\(128\|256\) ' "$tmp/out")" -eq 2 ] || { echo "FAIL: scaling rows"; cat "$tmp/out"; fail=1; }
expect 0 "" bench network --scaling --max-gpus 128 --json
for key in '"gpus"' '"flows"' '"wall_s"' '"flows_per_s"' '"peak_rss_bytes"'; do
  grep -q "$key" "$tmp/out" || { echo "FAIL: scaling JSON lacks $key"; fail=1; }
done
expect 0 "" bench network --flow-gpus 128 --analytic-gpus 16 --routes dense --json
grep '"flow_simulated_s"' "$tmp/out" > "$tmp/dense"
expect 0 "" bench network --flow-gpus 128 --analytic-gpus 16 --routes compressed --json
grep '"flow_simulated_s"' "$tmp/out" > "$tmp/compressed"
cmp -s "$tmp/dense" "$tmp/compressed" || { echo "FAIL: dense and compressed routes differ"; fail=1; }
expect 2 "--routes" bench network --routes sparse

# Bad flags: exit status 2 with a message naming the flag; bad input files: 1.
expect 2 "--op: unknown collective" collective --op allreduse
expect 2 "--bytes" collective --bytes 1G:1K
expect 2 "--ranks" collective --ranks 1
expect 2 "--network" collective --network packet
expect 2 "--topology" gen-cluster --topology torus
expect 1 "does not apply" collective --algo nvls --cluster dgx-a100-x2
expect 1 "unknown cluster" collective --cluster no-such-cluster
exit $fail
