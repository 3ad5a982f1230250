#!/bin/sh
# SPDX-License-Identifier: MIT
# test-validate-cli.sh - `afdsim validate` and `afdsim run --backend cuda` from the command
# line on a machine without a GPU (or a build without --enable-cuda): they end at once (no
# hang) with one line on stderr and exit status 1; bad flags are exit status 2; `run` without
# --backend (or with --backend sim) is still the simulator's run.
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if "$AFDSIM" version 2>/dev/null | grep -q cuda && command -v nvidia-smi >/dev/null 2>&1 \
   && nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: a GPU is visible: this test checks the no-GPU path"
  exit 77
fi

# expect STATUS PATTERN ARGS...: exit status, stderr pattern, and one line of stderr.
expect() {
  want=$1; pattern=$2; shift 2
  timeout 60 "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: afdsim $* exited $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: stderr lacks '$pattern':"; cat "$tmp/err"; fail=1; return
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim $*: expected exactly one line on stderr:"; cat "$tmp/err"; fail=1
  fi
}

w="--cluster h200-1x4 --model masep-4l --batch 16"
expect 1 "CUDA" validate $w --strategy ep --ep 4
expect 1 "CUDA" run --backend cuda $w --strategy tppp --tp 4 --pp 1
expect 1 "CUDA" run --backend=cuda $w --strategy masep --attn-gpus 3 --moe-gpus 1
expect 2 "--backend" run --backend gpu $w --strategy ep --ep 4
expect 2 "--iterations" validate $w --strategy ep --ep 4 --iterations 0
expect 2 "--timeout" validate $w --strategy ep --ep 4 --timeout nan
expect 2 "exclusive" validate --strategy ep seeds-headline
expect 2 "--strategy" validate $w
expect 2 "--set" validate $w --strategy ep --set noequals
# A placement the strategy rejects fails before any GPU is touched.
expect 1 "needs 8 GPUs" validate $w --strategy tppp --tp 4 --pp 2
# The simulator's run is unchanged, with or without --backend sim.
for b in "" "--backend sim"; do
  if ! timeout 60 "$AFDSIM" run $b $w --strategy ep --ep 4 --quiet --json "$tmp/s.json" \
       2>"$tmp/err" || ! grep -q iteration_time_s "$tmp/s.json"; then
    echo "FAIL: afdsim run $b did not simulate:"; cat "$tmp/err"; fail=1
  fi
done
exit $fail
