#!/bin/sh
# SPDX-License-Identifier: MIT
# plots.sh AFDSIM [OUTDIR] - draw the PNG figures of the shipped experiments into OUTDIR
# (default ./plots; needs python3-matplotlib). `make plots` writes into the build tree
# (build/plots, or PLOTS_DIR=DIR); only `make update-doc-images` passes docs/img.
set -eu
afdsim=${1:-./afdsim}
img=${2:-plots}
# A python3 that has matplotlib (Debian's /usr/bin/python3 first: a pyenv shim may lack it).
python=${PYTHON:-}
if [ -z "$python" ]; then
  for p in /usr/bin/python3 python3; do
    if "$p" -c 'import matplotlib' 2>/dev/null; then python=$p; break; fi
  done
fi
[ -n "$python" ] || { echo "plots: no python3 with matplotlib (apt install python3-matplotlib)" >&2; exit 1; }
srcdir=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$img"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# AFD communication roofline (docs/models/afd-roofline.md): DSV3/H800 sweep and the ceiling heatmap.
"$afdsim" roofline --model deepseek-v3 --gpu H800 --json "$tmp/roofline.json" >/dev/null
"$python" "$srcdir/experiments/plots/plot_roofline.py" sweep "$tmp/roofline.json" "$img/roofline-dsv3-h800.png"
"$afdsim" roofline --table --expert-dtype fp8 --json "$tmp/roofline-table.json" >/dev/null
"$python" "$srcdir/experiments/plots/plot_roofline.py" table "$tmp/roofline-table.json" "$img/roofline-table.png"
echo "plots: $img/roofline-dsv3-h800.png $img/roofline-table.png"

# Sweep (docs/user/sweep.md): the seeds' 16-GPU setup at every k:(16-k) split, and the per-GPU
# busy/comm/idle split of the seeds' headline experiment.
"$afdsim" sweep seeds-ratio-sweep -q -o "$tmp/ratio.jsonl"
"$python" "$srcdir/experiments/plots/plot_sweep.py" "$tmp/ratio.jsonl" "$img/sweep-seeds-ratio.png"
"$afdsim" run seeds-headline -q --json "$tmp/headline.json" --trace "$tmp/headline-trace.json"
"$python" "$srcdir/experiments/plots/plot_gpus.py" "$tmp/headline.json" "$img/gpus-seeds-headline.png"
echo "plots: $img/sweep-seeds-ratio.png $img/gpus-seeds-headline.png"

# Serving (docs/user/serve.md): the serve experiments' deployments over time (their runs files'
# flags, run from the top of the source tree as the golden test runs them).
case "$afdsim" in /*) serve_afdsim=$afdsim ;; *) serve_afdsim="$(pwd)/$afdsim" ;; esac
for exp in serve-dsv3-pd serve-seeds; do
  names=$(sed -n 's/^\([a-z0-9-]*\): .*/\1/p' "$srcdir/experiments/$exp/runs")
  files=""
  mkdir -p "$tmp/$exp"
  for n in $names; do
    # shellcheck disable=SC2046
    (cd "$srcdir" && "$serve_afdsim" serve $(sed -n "s/^$n: //p" "experiments/$exp/runs") -q \
      --json "$tmp/$exp/$n.json")
    files="$files $tmp/$exp/$n.json"
  done
  # shellcheck disable=SC2086
  "$python" "$srcdir/experiments/plots/plot_serve.py" "$img/$exp.png" $files
  echo "plots: $img/$exp.png"
done
