#!/bin/sh
# SPDX-License-Identifier: MIT
# bench.sh AFDSIM - every benchmark behind `make bench`; figures recorded in docs/performance.md.
set -eu
afdsim=${1:-./afdsim}
echo "== afdsim --version"; "$afdsim" --version
# Engine (issue 2): PHOLD at 1e5 and 1e3 pending, engine vs bare 4-ary heap loop; then the
# pending-event-set variants (docs/internals/engine.md, docs/performance.md).
echo "== afdsim bench engine --pending 100000 --events 20000000 --json"
"$afdsim" bench engine --pending 100000 --events 20000000 --json
echo "== afdsim bench engine --pending 1000 --events 20000000 --json"
"$afdsim" bench engine --pending 1000 --events 20000000 --json
builddir=$(dirname "$afdsim")
echo "== tests/bench-queue-variants 5000000"
(cd "$builddir" && ${MAKE:-make} -s tests/bench-queue-variants) && "$builddir/tests/bench-queue-variants" 5000000
# Models (issue 4): routing draws/s (top-k without replacement) and analytic op pricing ops/s
# (docs/models/routing.md, docs/models/roofline.md).
echo "== tests/bench-models 2000000"
(cd "$builddir" && ${MAKE:-make} -s tests/bench-models) && \
  AFDSIM_DATA_DIR="${AFDSIM_DATA_DIR:-$builddir/afdsim-data-uninstalled}" "$builddir/tests/bench-models" 2000000
# Network (issue 3): flow-mode all-to-all on 1024 GPUs, analytic on 8192 (docs/performance.md).
echo "== afdsim bench network --json"
"$afdsim" bench network --json
# Network scaling (issue 21): the flow all-to-all from 128 to 2048 GPUs, one process per point.
echo "== afdsim bench network --scaling --max-gpus 2048"
"$afdsim" bench network --scaling --max-gpus 2048
# Sweep (issue 6): 1000-point ratio sweep of the seeds' setup (every feasible MA Separation split
# k:(16-k) x 250 batch sizes) on 2 threads; points/s in the summary line (docs/performance.md).
sweep_tmp=$(mktemp -d)
echo "== afdsim sweep --attn-gpus 8,12,14,15 --total-gpus 16 --batch 8..2000/8 --jobs 2"
"$afdsim" sweep --attn-gpus 8,12,14,15 --total-gpus 16 --batch 8..2000/8 --jobs 2 -o "$sweep_tmp/sweep.jsonl"
rm -rf "$sweep_tmp"
# Strategies (issue 5): the default experiment and DeepSeek-V3 EP320 decode (docs/performance.md).
echo "== afdsim bench strategies --json"
"$afdsim" bench strategies --json
# Serving (issue 19): one hour of Poisson traffic at 10 requests/s (36 000 requests, prompts
# lognormal 1024, outputs lognormal 256) on DeepSeek-V3 EP16 over 16 H200, one thread; the goal
# is <= 10 s (docs/performance.md). Wall time of the whole command, step simulations included.
srcdir=$(cd "$(dirname "$0")/.." && pwd)
serve_tmp=$(mktemp -d)
echo "== afdsim serve --model deepseek-v3 --strategy ep --set ep=16 --rate 10 --duration 3600s"
t0=$(date +%s%N)
"$afdsim" serve --cluster "$srcdir/experiments/serve-dsv3-pd/h200-x2.json" --model deepseek-v3 \
  --strategy ep --set ep=16 --rate 10 --duration 3600s --prompt lognormal:1024:0.5 \
  --output lognormal:256:0.5 -q --json "$serve_tmp/serve.json"
t1=$(date +%s%N)
echo "serve: 36000 requests simulated in $(( (t1 - t0) / 1000000 )) ms wall"
rm -rf "$serve_tmp"
