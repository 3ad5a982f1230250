#!/bin/sh
# SPDX-License-Identifier: MIT
# nccl-probe-sweep.sh - the nccl-probe runs behind docs/models/collectives.md's harness and
# per-channel measurements, on a GPU machine with 2 or more GPUs.
#
# Usage (on the GPU machine, after tools/device-pack.sh here):
#   sh tools/nccl-probe-sweep.sh .devcarry/run.sh OUTDIR [GPUS]
# Writes OUTDIR/harness-*.tsv (nccl-tests' timing, one thread for all GPUs vs one thread per
# GPU, sizes 0 B..1 GiB, three repeats) and OUTDIR/channels-*.tsv (ring all-reduce at a forced
# protocol and channel count). Every file starts with nccl-probe's header (NCCL version,
# device, NCCL_* settings). NCCL_NVLS_ENABLE=0 comes from run.sh.
set -eu
run=${1:?usage: nccl-probe-sweep.sh RUN_SH OUTDIR [GPUS]}
out=${2:?usage: nccl-probe-sweep.sh RUN_SH OUTDIR [GPUS]}
gpus=${3:-2}
mkdir -p "$out"
# probe FILE ARGS...: one nccl-probe run into FILE, written whole or not at all
probe() {
  f=$1; shift
  if sh "$run" --test nccl-probe "$@" > "$f.tmp"; then
    mv "$f.tmp" "$f"
  else
    rm -f "$f.tmp"
    echo "nccl-probe-sweep: nccl-probe $* failed; $f not written" >&2
    exit 1
  fi
}

for rep in 1 2 3; do
  for op in all-reduce all-to-all; do
    for mode in single threads; do
      probe "$out/harness-$op-$mode-g$gpus-r$rep.tsv" \
        --mode $mode --gpus "$gpus" --op $op --min 0 --max 1073741824
    done
  done
  probe "$out/harness-all-reduce-single-g1-r$rep.tsv" \
    --mode single --gpus 1 --op all-reduce --min 0 --max 1048576
done

for proto in LL LL128 Simple; do
  for ch in 1 2 4 8 16 32; do
    (export NCCL_ALGO=Ring NCCL_PROTO=$proto NCCL_MIN_NCHANNELS=$ch NCCL_MAX_NCHANNELS=$ch
     probe "$out/channels-$proto-c$ch-g$gpus.tsv" \
       --mode threads --gpus "$gpus" --op all-reduce --min 65536 --max 268435456 \
       --iters 20 --warmup 5)
  done
done
echo "nccl-probe-sweep: done, $(ls "$out" | wc -l) files in $out"
