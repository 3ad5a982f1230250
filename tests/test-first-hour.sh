#!/bin/sh
# SPDX-License-Identifier: MIT
# test-first-hour.sh - what a new user meets first (issue 13): the default command and global
# flags, names typed in any case with "did you mean", `run` without --strategy, defaults
# derived from the cluster, per-GPU figures over the GPUs used, prefill columns, units, and
# "bound by" in roofline terms with the paper named (docs/getting-started.md).
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
cd "$tmp" || exit 1
case "$AFDSIM" in /*) ;; *) AFDSIM="$OLDPWD/$AFDSIM" ;; esac

# check STATUS ARGS...: run afdsim; the exit status must be STATUS.
check() {
  want=$1; shift
  "$AFDSIM" "$@" >out 2>err
  got=$?
  [ "$got" -eq "$want" ] || { echo "FAIL: afdsim $* exited $got, expected $want"; cat err; fail=1; }
}
has() { grep -q -- "$1" "$2" || { echo "FAIL: $2 lacks '$1':"; cat "$2"; fail=1; }; }
lacks() { ! grep -q -- "$1" "$2" || { echo "FAIL: $2 has '$1':"; cat "$2"; fail=1; }; }

# 4. One default command: help, man page and code agree; flags alone go to it.
check 0 help
has "With no command, runs 'run'" out
lacks "default command" out
check 0 -q
[ -s out ] && { echo "FAIL: afdsim -q printed something"; cat out; fail=1; }
check 0 --json s.json -q
has '"runs"' s.json
man=${top_srcdir:-$OLDPWD/..}/docs/afdsim.1
if [ -f "$man" ]; then
  lacks "the default command for now" "$man"
fi

# 3. run with cluster/model flags and no --strategy: one message, no file the user did not name.
check 2 run --model deepseek-v3 --cluster h800-x40
has "needs --strategy" err
lacks "experiment.json" err
[ "$(wc -l <err)" -eq 1 ] || { echo "FAIL: more than one line"; cat err; fail=1; }
# A workload flag on the default experiment that makes it fail names no file either.
check 1 run --context 100000000
has "the default experiment (seeds-headline)" err
lacks "experiment.json" err
# A file's runs carry their placements: a placement flag beside a file is refused, not ignored.
check 2 run seeds-headline --tp 4
has "applies to a --strategy run" err
# Commands: any case; a typo suggests the nearest.
check 0 RUN -q
check 2 rnu
has "did you mean run" err

# 5. Names in any case; unknown names suggest the nearest.
check 0 run --strategy MASEP --cluster A100-4x4-HDR --model MASEP-4L --batch 64 -q
check 0 gen-cluster --gpu h800 --nodes 1 --gpus-per-node 8 -o h800.json
check 1 run --strategy tppp --cluster h800x40 --model deepseek-v3
has "did you mean h800-x40" err
check 1 gen-cluster --gpu h8000
has "did you mean.*H800" err
check 1 run --strategy maesp
has "did you mean masep" err

# 6. Defaults derived from the cluster, and printed: tp 1 on one GPU gives pp 1; tp 8 on 16
# GPUs still gives pp 2.
check 0 gen-cluster --gpu A100-SXM4-80GB --nodes 1 --gpus-per-node 1 -o one.json
check 0 run --cluster one.json --strategy tppp --tp 1 --model masep-4l --batch 8
has "tp=1 pp=1 dp=1" out
check 0 run --cluster a100-4x4-hdr --strategy tppp --tp 8 --model masep-4l --batch 64
has "tp=8 pp=2 dp=1 micro_batches=2" out
# Every strategy prints the sizes it derived (dgx-a100-x2: 2 nodes x 8 GPUs).
check 0 run --cluster dgx-a100-x2 --strategy ep --batch 64
has "ep: ep=16 " out
check 0 run --cluster dgx-a100-x2 --strategy masep --batch 64
has "masep: attn_gpus=12 moe_gpus=4 " out
check 0 run --cluster dgx-a100-x2 --strategy afd --batch 64
has "afd: attn_nodes=1 ffn_nodes=1 " out

# 7. GPUs used out of the cluster's; per-GPU figures over them; prefill columns; units.
check 0 run --cluster h800-x40 --model deepseek-v3 --strategy ep --ep 64 --batch 256 --json ep.json
has " 64/320 " out
python3 - <<'PY' || fail=1
import json, sys
s = json.load(open("ep.json"))
r = s["runs"][0]
ok = r["gpus_used"] == 64 and r["gpus_in_cluster"] == 320
ok = ok and abs(r["tokens_per_s_per_gpu"] - r["tokens_per_s"] / 64) < 1e-6 * r["tokens_per_s"]
used = [g for g in r["gpus"] if g["busy_s"] > 0 or g["comm_s"] > 0]
mean = sum(g["utilisation"] for g in r["gpus"]) / 64
ok = ok and abs(r["utilisation"] - mean) < 1e-9 and r["utilisation"] > 0.3
if not ok:
    print("FAIL: per-GPU figures are not over the 64 GPUs used:", r["gpus_used"],
          r["gpus_in_cluster"], r["utilisation"], mean, len(used))
    sys.exit(1)
PY
check 0 run --cluster one.json --strategy tppp --tp 1 --model masep-4l --batch 8 --phase prefill --context 64 --json pre.json
has "TTFT ms" out
has "prefill tok/s" out
lacks "TPOT ms" out
has "(1 GPU)" out
has '"ttft_s"' pre.json
has '"prefill_tokens_per_s"' pre.json
check 0 gen-cluster --gpu A100-SXM4-80GB --nodes 1 --gpus-per-node 2 -o two.json
check 0 collective --cluster two.json --bytes 1K
has "(1 node)" out

# 2. Bound by, in roofline terms; the paper named; the README pointed to.
check 0 run --json h.json
has "memory (attention_decode)" out
lacks "compute (attention_decode)" out
has "ridge point, 153 FLOP/byte" out
has "Claimed by the paper: MA Separation: A Novel Parallel Strategy" out
has "seeds-headline/README.md" out
python3 - <<'PY' || fail=1
import json, sys
s = json.load(open("h.json"))
for r in s["runs"]:
    cp = r["critical_path"]
    att = [o for o in cp["ops"] if o["name"] == "attention_decode"][0]
    if cp["bound_by"] != "memory" or att["bound"] != "memory" \
       or not att["arithmetic_intensity_flop_per_byte"] < cp["ridge_point_flop_per_byte"]:
        print("FAIL: %s: bound_by %s, attention %s" % (r["label"], cp["bound_by"], att))
        sys.exit(1)
PY
# At short contexts the MA Separation step is bound by the hand-off traffic: communication.
check 0 run --strategy masep --attn-gpus 12 --moe-gpus 4 --context 256
has "communication (" out

[ $fail -eq 0 ] && echo "first-hour: all checks passed"
exit $fail
