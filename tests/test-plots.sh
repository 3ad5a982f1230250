#!/bin/sh
# SPDX-License-Identifier: MIT
# test-plots.sh - `tools/plots.sh` (make plots) writes only into the folder it is given, never
# into the tracked docs/img/; the per-GPU plot's panels share one y scale; a flag-form sweep's
# infeasible splits are drawn (issue 13). Skipped (77) without a python3 that has matplotlib.
set -u
AFDSIM=${AFDSIM:-./afdsim}
src=${top_srcdir:-..}
python=
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import matplotlib' 2>/dev/null; then python=$p; break; fi
done
[ -n "$python" ] || { echo "no python3 with matplotlib: skipped"; exit 77; }
case "$AFDSIM" in /*) ;; *) AFDSIM="$(pwd)/$AFDSIM" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
before=$(cd "$src/docs/img" && ls -l --time-style=+%s . | md5sum)
(cd "$tmp" && PYTHON=$python sh "$src/tools/plots.sh" "$AFDSIM" out >"$tmp/log" 2>&1) \
  || { echo "FAIL: plots.sh"; cat "$tmp/log"; exit 1; }
after=$(cd "$src/docs/img" && ls -l --time-style=+%s . | md5sum)
[ "$before" = "$after" ] || { echo "FAIL: plots.sh changed docs/img/"; fail=1; }
for f in roofline-dsv3-h800 roofline-table sweep-seeds-ratio gpus-seeds-headline serve-dsv3-pd serve-seeds; do
  [ -s "$tmp/out/$f.png" ] || { echo "FAIL: $f.png not written into the named folder"; fail=1; }
done
# One y scale over the panels of the per-GPU plot.
ranges=$(sed -n 's/^plot_gpus: .* y range (ms) //p' "$tmp/log")
[ -n "$ranges" ] || { echo "FAIL: plot_gpus printed no y ranges"; cat "$tmp/log"; fail=1; }
[ "$(echo "$ranges" | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] \
  || { echo "FAIL: per-GPU panels have different y scales: $ranges"; fail=1; }
# A flag-form sweep: every infeasible split is drawn.
"$AFDSIM" sweep --attn-gpus 1..15 --total-gpus 16 -q -o "$tmp/r.jsonl" || fail=1
want=$(grep -c '"status":"infeasible"' "$tmp/r.jsonl")
"$python" "$src/experiments/plots/plot_sweep.py" "$tmp/r.jsonl" "$tmp/r.png" >"$tmp/s" || fail=1
grep -q " $want infeasible splits drawn" "$tmp/s" \
  || { echo "FAIL: expected $want infeasible splits drawn:"; cat "$tmp/s"; fail=1; }
"$AFDSIM" sweep --ratio 1:1,3:1,5:1 -q -o "$tmp/q.jsonl" || fail=1
"$python" "$src/experiments/plots/plot_sweep.py" "$tmp/q.jsonl" "$tmp/q.png" >"$tmp/s" || fail=1
grep -q " 1 infeasible splits drawn" "$tmp/s" \
  || { echo "FAIL: --ratio 5:1 on 16 GPUs not drawn as infeasible:"; cat "$tmp/s"; fail=1; }
[ $fail -eq 0 ] && echo "plots: written where asked, one y scale, infeasible splits drawn"
exit $fail
