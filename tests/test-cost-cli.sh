#!/bin/sh
# SPDX-License-Identifier: MIT
# test-cost-cli.sh - `afdsim cost OP`: the worked examples of docs/user/cost.md re-derived here
# from the formulas (awk), the JSON keys, a profile lookup equal to its measured point, the
# out-of-grid warning (stderr and the run summary's provenance), and bad flags (one line,
# exit status 2).
set -u
AFDSIM=${AFDSIM:-./afdsim}
top=${top_srcdir:-.}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS PATTERN ARGS...: run afdsim, check the exit status and stderr.
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
  if [ "$status" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim $*: expected one line of error"; cat "$tmp/err"; fail=1
  fi
}

# json_num FILE KEY: the number after "KEY": in FILE.
json_num() {
  sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([-0-9.eE+]*\),*$/\1/p" "$1" | head -1
}

# close A B: |A - B| <= 1e-9·|B|.
close() {
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b;
                                   exit !(d <= 1e-9 * m) }'
}

# The worked examples use the A100 file (literature values, not fitted: stable when the
# fitted H100/H200 files are refitted). A100: HBM 2.039e12 B/s, memory_fraction 0.79, launch
# 4 us, bf16 peak 312e12, gemm_max_fraction 0.869, gemm_half_m 128, 108 SMs.
# 1. copy: t = 4e-6 + 2·2^30 / (2.039e12·0.79) = 1.337170 ms; memory-bound.
expect 0 "" cost copy --bytes 1G --gpu A100-SXM4-80GB --json "$tmp/copy.json"
want=$(awk 'BEGIN { printf "%.17g", 4e-6 + 2 * 2^30 / (2.039e12 * 0.79) }')
got=$(json_num "$tmp/copy.json" time_s)
close "$got" "$want" || { echo "FAIL: copy time $got, want $want"; fail=1; }
grep -q '"bound":[[:space:]]*"memory"' "$tmp/copy.json" || { echo "FAIL: copy bound"; fail=1; }
for key in time_s flop bytes achieved_flop_per_s achieved_bytes_per_s peak_flop_per_s \
           hbm_bandwidth_bytes_per_s roofline_compute_s roofline_memory_s compute_fraction \
           memory_fraction; do
  [ -n "$(json_num "$tmp/copy.json" $key)" ] || { echo "FAIL: copy JSON lacks $key"; fail=1; }
done

# 2. gemm 128×4096×4096 bf16, analytic, A100: tiles 1·32 (128×128) < 108 SMs, split-K
#    min(⌊108/32⌋, ⌊4096/256⌋) = 3 -> 96 tiles, wave 96/108; efficiency
#    0.869·128/(128+128)·96/108; t = 4e-6 + 2·128·4096² / (312e12·efficiency) = 39.642 us
#    (the roofline: compute 13.8 us, memory 17.5 us; achieved 34.7 % of peak FLOP/s and
#    44.1 % of HBM bandwidth, so "bound" — the larger fraction — is memory).
expect 0 "" cost gemm --m 128 --n 4096 --k 4096 --gpu A100-SXM4-80GB --json "$tmp/gemm.json"
want=$(awk 'BEGIN { e = 0.869 * 128 / 256 * 96 / 108;
                    printf "%.17g", 4e-6 + 2 * 128 * 4096 * 4096 / (312e12 * e) }')
got=$(json_num "$tmp/gemm.json" time_s)
close "$got" "$want" || { echo "FAIL: gemm time $got, want $want"; fail=1; }
grep -q '^time        39.642 us$' "$tmp/out" || { echo "FAIL: gemm text"; cat "$tmp/out"; fail=1; }
grep -q '"bound":[[:space:]]*"memory"' "$tmp/gemm.json" || { echo "FAIL: gemm bound"; fail=1; }

# 3. With --costs profile:H200, a GEMM at a measured shape costs the measured median.
if command -v python3 >/dev/null 2>&1; then
  want=$(python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))
t = [g for g in p['gemm'] if g['dtype'] == 'bf16' and g['n'] == 4096 and g['k'] == 4096][0]
print(repr([x['time_median_s'] for x in t['points'] if x['m'] == 128][0]))" \
    "$top/topologies/profiles/H200.json")
  expect 0 "" cost gemm --m 128 --n 4096 --k 4096 --costs profile:H200 --json "$tmp/pg.json"
  got=$(json_num "$tmp/pg.json" time_s)
  close "$got" "$want" || { echo "FAIL: profile gemm $got, want measured $want"; fail=1; }
  [ -s "$tmp/err" ] && { echo "FAIL: a measured shape warned"; cat "$tmp/err"; fail=1; }
fi

# 4. grouped-gemm: a zipf distribution with --total splits exactly that many tokens; a list
#    gives the experts; the FLOPs are 2·Σm·n·k.
expect 0 "" cost grouped-gemm --experts 16 --tokens zipf:1.2 --total 1000 --n 4096 --k 4096 \
  --json "$tmp/zipf.json"
sum=$(tr -d ' \t\n' <"$tmp/zipf.json" | sed 's/.*"expert_tokens":\[\([0-9,]*\)\].*/\1/' \
      | tr ',' '\n' | awk '{ s += $1 } END { print s }')
[ "$sum" = 1000 ] || { echo "FAIL: zipf tokens sum to $sum"; fail=1; }
expect 0 "" cost grouped-gemm --tokens 3,0,5 --n 1024 --k 2048 --json "$tmp/list.json"
close "$(json_num "$tmp/list.json" flop)" "$((2 * 8 * 1024 * 2048))" \
  || { echo "FAIL: grouped FLOPs"; fail=1; }
grep -q 'experts=3 tokens=8' "$tmp/out" || { echo "FAIL: list shape"; cat "$tmp/out"; fail=1; }
# gate+up fused is one GEMM of width 2N: the FLOPs of two GEMMs of width N.
expect 0 "" cost grouped-gemm --experts 4 --tokens 2 --n 1536 --k 4096 --gate-up fused \
  --json "$tmp/fused.json"
close "$(json_num "$tmp/fused.json" flop)" "$((2 * 8 * 3072 * 4096))" \
  || { echo "FAIL: fused FLOPs"; fail=1; }

# 5. attention from a model and from an explicit shape: the same MLA decode core.
expect 0 "" cost attention --model deepseek-v3 --batch 4 --context 1024 --json "$tmp/a1.json"
expect 0 "" cost attention --attention mla --heads 128 --batch 4 --context 1024 \
  --json "$tmp/a2.json"
close "$(json_num "$tmp/a1.json" time_s)" "$(json_num "$tmp/a2.json" time_s)" \
  || { echo "FAIL: model and explicit MLA decode differ"; fail=1; }
#    MLA absorbed decode FLOPs: 4·heads·(d_c + d_r)·batch·(context + 1) = 4·128·576·4·1025.
close "$(json_num "$tmp/a1.json" flop)" "$((4 * 128 * 576 * 4 * 1025))" \
  || { echo "FAIL: MLA decode FLOPs"; fail=1; }
expect 0 "" cost attention --attention gqa --heads 64 --kv-heads 4 --phase prefill --batch 2 \
  --context 2048

# 6. Out of the profile's grid: one warning on stderr naming the op and the nearest measured
#    shape, in the JSON too; a run records the count in the summary's provenance.
expect 0 "outside the measured grid; nearest measured: bf16 grouped GEMM" cost grouped-gemm \
  --experts 32 --tokens 4 --n 1536 --k 4096 --costs profile:H200 --json "$tmp/oog.json"
[ "$(grep -c warning "$tmp/err")" -eq 1 ] || { echo "FAIL: one warning expected"; fail=1; }
grep -q 'expert_grouped_gemm bf16 32 experts n=1536 k=4096' "$tmp/oog.json" \
  || { echo "FAIL: warning in JSON"; fail=1; }
expect 0 "outside the measured grid" run --strategy ep --model qwen3-235b-a22b \
  --cluster h200-1x4 --batch 64 --context 2048 --costs profile:H200 -q --json "$tmp/run.json"
n=$(json_num "$tmp/run.json" out_of_grid_lookups)
[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$(grep -c 'afdsim: warning' "$tmp/err")" -eq "$n" ] \
  || { echo "FAIL: run provenance out_of_grid_lookups '$n'"; cat "$tmp/err"; fail=1; }
expect 0 "" run --strategy ep --model qwen3-235b-a22b --cluster h200-1x4 --batch 64 -q \
  --json "$tmp/run2.json"
grep -q out_of_grid "$tmp/run2.json" && { echo "FAIL: analytic run has out_of_grid"; fail=1; }

# 7. Bad input: one message naming the flag, exit status 2 (1 for a missing file).
expect 2 "cost: which operator" cost
expect 2 "unknown operator 'gem'" cost gem
expect 2 "--m is required" cost gemm --n 1 --k 1
expect 2 "--m: 0 is outside" cost gemm --m 0 --n 1 --k 1
expect 2 "--n: 'x' is not" cost gemm --m 1 --n x --k 1
expect 2 "--dtype: unknown dtype 'bf17'" cost gemm --m 1 --n 1 --k 1 --dtype bf17
expect 2 "--experts: not an option of 'cost gemm'" cost gemm --m 1 --n 1 --k 1 --experts 2
expect 2 "--bytes: not an option of 'cost attention'" cost attention --bytes 1
expect 2 "--tokens is required" cost grouped-gemm --experts 2 --n 1 --k 1
expect 2 "needs --total" cost grouped-gemm --experts 2 --tokens zipf:1 --n 1 --k 1
expect 2 "--total: only with a distribution" cost grouped-gemm --experts 2 --tokens 3 --total 9 \
  --n 1 --k 1
expect 2 "3 counts given but --experts is 2" cost grouped-gemm --experts 2 --tokens 1,2,3 \
  --n 1 --k 1
expect 2 "--tokens (expert 1): -2 is outside" cost grouped-gemm --tokens 1,-2 --n 1 --k 1
expect 2 "--tokens: " cost grouped-gemm --experts 4 --tokens zipf:-1 --total 8 --n 1 --k 1
expect 2 "--gate-up: 'both'" cost grouped-gemm --experts 2 --tokens 1 --n 1 --k 1 --gate-up both
expect 2 "either --model NAME or an explicit shape" cost attention --batch 1 --context 1
expect 2 "--phase: 'decoder'" cost attention --model deepseek-v3 --phase decoder --batch 1 \
  --context 1
expect 2 "--kv-heads is required with --attention gqa" cost attention --attention gqa --heads 8 \
  --batch 1 --context 1
expect 2 "--kv-heads: 3 does not divide" cost attention --attention gqa --heads 8 --kv-heads 3 \
  --batch 1 --context 1
expect 2 "--cached: only with --phase prefill" cost attention --model deepseek-v3 --batch 1 \
  --context 1 --cached 4
expect 2 "--head-dim: the shape comes from --model" cost attention --model deepseek-v3 \
  --batch 1 --context 1 --head-dim 64
expect 2 "--rope-dim: only with --attention mla" cost attention --attention mha --heads 8 \
  --rope-dim 64 --batch 1 --context 1
expect 2 "--bytes is required" cost copy
expect 2 "--bytes" cost copy --bytes 0
expect 1 "" cost copy --bytes 1K --gpu no-such-gpu
expect 1 "" cost copy --bytes 1K --costs profile:no-such-profile
expect 1 "" cost copy --bytes 1K --json "$tmp/no/such/dir/x.json"

exit $fail
