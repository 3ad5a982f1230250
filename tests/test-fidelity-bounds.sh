#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fidelity-bounds.sh - regression bounds under the issue #3 goal (test-fidelity.sh;
# docs/models/collectives.md, Fidelity): the NCCL model alone (no harness floor) stays at most
# 12.5 % analytic over all rows (12.08 % today) and the flow fidelity's all-rows median at most
# 11 % (10.60 %), and the headline -- the held-out rows (split = holdout), the model alone --
# at most 15.5 % (15.09 %), so the fit cannot silently regress.
# Exit 1: a median above its bound; exit 99: anything else went wrong; exit 77: no python3.
set -u
AFDSIM=${AFDSIM:-./afdsim}
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
python3 "$top/tools/network-fidelity.py" --csv "$top/tools/data/nccl-published.csv" \
  --check-model 12.5 --check-flow 11 --check-holdout-model 15.5 "$AFDSIM"
rc=$?
case $rc in
  0) exit 0 ;;
  1) exit 1 ;;
  *) echo "ERROR: tools/network-fidelity.py exited $rc"; exit 99 ;;
esac
