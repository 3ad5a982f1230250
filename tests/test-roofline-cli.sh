#!/bin/sh
# SPDX-License-Identifier: MIT
# test-roofline-cli.sh - `afdsim roofline`: the DeepSeek-V3/H800 experiment's expected output,
# the JSON keys docs/models/afd-roofline.md promises, --table, and strict flag parsing (every
# bad flag exits 2 with one line naming it).
set -u
AFDSIM=${AFDSIM:-./afdsim}
srcdir=${top_srcdir:-.}
fail=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$AFDSIM" list models 2>/dev/null | grep -qx deepseek-v3; then
  echo "test-roofline-cli: model deepseek-v3 not shipped; skipping"
  exit 77
fi

# expect STATUS PATTERN ARGS... : run afdsim roofline, check status and stderr.
expect() {
  want=$1; pattern=$2; shift 2
  n=$((n + 1))
  "$AFDSIM" roofline "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: afdsim roofline $* exited $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim roofline $*: stderr lacks '$pattern':"; cat "$tmp/err"; fail=1; return
  fi
  if [ "$want" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim roofline $*: expected one line on stderr:"; cat "$tmp/err"; fail=1
  fi
}

# The experiment's stdout is reproduced byte for byte (a golden of the reference sweep).
expect 0 "" --model deepseek-v3 --gpu H800 --nf 1..64 --json "$tmp/r.json"
n=$((n + 1))
if ! cmp -s "$tmp/out" "$srcdir/experiments/roofline-dsv3-h800/roofline-output.txt"; then
  echo "FAIL: roofline-dsv3-h800 output differs:"
  diff "$srcdir/experiments/roofline-dsv3-h800/roofline-output.txt" "$tmp/out" | head -20
  fail=1
fi
# The JSON has one point per N_F and the documented keys.
n=$((n + 1))
[ "$(grep -c '"n_f":' "$tmp/r.json")" -eq 65 ] || { echo "FAIL: expected 64 points + ceiling"; fail=1; }
for key in t_b_s points region b_rank experts_per_gpu intensity_flop_per_byte hfu_bound \
           provenance sha256 scale_up_bytes_per_s peak_flop_source; do
  n=$((n + 1))
  grep -q "\"$key\":" "$tmp/r.json" || { echo "FAIL: JSON lacks \"$key\""; fail=1; }
done
# The 33.1 % ceiling at N_F = 2 and the 10.35 % dead zone show in the text.
n=$((n + 1))
grep -q '^ceiling: HFU 33.12% at N_F = 2 ' "$tmp/out" || { echo "FAIL: ceiling line"; fail=1; }
grep -q 'dead zone (HFU 10.35%)' "$tmp/out" || { echo "FAIL: dead-zone line"; fail=1; }

# Suffixed durations equal SI seconds; --flops overrides the peak (GB200 at NVIDIA's 5 PF).
expect 0 "" --model deepseek-v3 --gpu H800 --slo 50ms --gap 15000us --nf 2
grep -q 't_B = 382.51 us' "$tmp/out" || { echo "FAIL: --slo 50ms --gap 15000us"; fail=1; }
expect 0 "" --model deepseek-v3 --gpu GB200 --nf 1 --flops 5e15
grep -q 'ceiling: HFU 58.98%' "$tmp/out" || { echo "FAIL: --flops 5e15 on GB200"; fail=1; }
expect 0 "" --model deepseek-v3 --gpu GB200 --nf 1
grep -q 'ceiling: HFU 65.54%' "$tmp/out" || { echo "FAIL: GB200 65.5 %"; fail=1; }

# --table covers every shipped model x roofline GPU.
expect 0 "" --table --json "$tmp/t.json"
grep -q '"rows":' "$tmp/t.json" || { echo "FAIL: --table JSON lacks rows"; fail=1; }
grep -q '^deepseek-v3 .* 33.1%@2 ' "$tmp/out" || { echo "FAIL: --table H800 cell"; fail=1; }
# At FP8 the H800 column is the reconstruction's (afd-roofline.md s5): Step-3 77.6 %, Qwen3-Coder 41.4 %.
expect 0 "" --table --expert-dtype fp8 --nf 1..8
grep -q '^step-3 \[fp8\] *77.6%@1 ' "$tmp/out" || { echo "FAIL: --table step-3"; fail=1; }
grep -q '^qwen3-coder-480b \[fp8\] *41.4%@1 ' "$tmp/out" || { echo "FAIL: --table qwen3-coder"; fail=1; }

# --imbalance prints the s2.8 table (AFD 5:1 catches EP lambda=4 only at sigma 0.8).
expect 0 "" --imbalance --json "$tmp/i.json"
grep -q '^AFD 5:1 (lambda=5) *0.960 *0.960 *0.960 *0.960 *0.900$' "$tmp/out" || { echo "FAIL: --imbalance AFD 5:1"; fail=1; }
grep -q '^EP lambda=4 *0.990 *0.978 *0.966 *0.952 *0.921$' "$tmp/out" || { echo "FAIL: --imbalance EP 4"; fail=1; }
grep -q '"alpha_floor":' "$tmp/i.json" || { echo "FAIL: --imbalance JSON"; fail=1; }
expect 2 "--sigma" --imbalance --sigma 1.2
expect 2 "--sigma" --imbalance --sigma 0
expect 2 "--afd" --imbalance --afd 5-1
expect 2 "--afd" --imbalance --afd 0:1
expect 2 "--imbalance takes no" --imbalance --gpu H800

# Bad input: status 2 and one line naming the flag; unknown names are status 1.
expect 2 "--slo" --model deepseek-v3 --gpu H800 --slo abc
expect 2 "--slo" --model deepseek-v3 --gpu H800 --slo 5xs
expect 2 "--slo" --model deepseek-v3 --gpu H800 --slo 0
expect 2 "--gap" --model deepseek-v3 --gpu H800 --gap -1
expect 2 "--accept" --model deepseek-v3 --gpu H800 --accept 0.5
expect 2 "--nf" --model deepseek-v3 --gpu H800 --nf 0
expect 2 "--nf" --model deepseek-v3 --gpu H800 --nf 8..2
expect 2 "--nf" --model deepseek-v3 --gpu H800 --nf 1..
expect 2 "--nf" --model deepseek-v3 --gpu H800 --nf 1,,2
expect 2 "--flops" --model deepseek-v3 --gpu H800 --flops nan
expect 2 "--scale-out-bw" --model deepseek-v3 --gpu H800 --scale-out-bw 0
expect 2 "--bo" --model deepseek-v3 --gpu H800 --bo 1.5
expect 2 "--expert-dtype" --model deepseek-v3 --gpu H800 --expert-dtype fp9
expect 2 "--model and --gpu" --gpu H800
expect 2 "drop --model" --table --model deepseek-v3
expect 2 "nknown option" --model deepseek-v3 --gpu H800 --no-such-flag
expect 1 "no-such-gpu" --model deepseek-v3 --gpu no-such-gpu
expect 1 "t_g" --model deepseek-v3 --gpu H800 --gap 0.1
# A malformed hardware file is rejected naming the file and the key.
printf '{"source": "x", "hardware": [{"gpu": "H800", "scale_up_bytes_per_s": -1, "scale_out_bytes_per_s": 5e10, "gpus_per_node": 8, "source": "x"}]}\n' >"$tmp/hw.json"
expect 1 "scale_up_bytes_per_s" --model deepseek-v3 --gpu H800 --hardware "$tmp/hw.json"
printf '{"source": "x", "hardware": [{"gpu": "H800", "scale_up_bytes_per_s": 1, "scale_out_bytes_per_s": 5e10, "gpus_per_node": 8, "source": "x", "bw": 1}]}\n' >"$tmp/hw.json"
expect 1 "bw" --model deepseek-v3 --gpu H800 --hardware "$tmp/hw.json"
# A GPU without an entry needs explicit bandwidths.
printf '{"source": "x", "hardware": [{"gpu": "B200", "scale_up_bytes_per_s": 1, "scale_out_bytes_per_s": 1, "gpus_per_node": 8, "source": "x"}]}\n' >"$tmp/hw.json"
expect 1 "--scale-up-bw" --model deepseek-v3 --gpu H800 --hardware "$tmp/hw.json"
expect 0 "" --model deepseek-v3 --gpu H800 --hardware "$tmp/hw.json" --scale-up-bw 160e9 \
  --scale-out-bw 50e9 --gpus-per-node 8 --nf 2
grep -q 'ceiling: HFU 33.12% at N_F = 2' "$tmp/out" || { echo "FAIL: explicit bandwidths"; fail=1; }

echo "test-roofline-cli: $n checks"
exit $fail
