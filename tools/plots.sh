#!/bin/sh
# SPDX-License-Identifier: MIT
# plots.sh AFDSIM - build the PNG figures behind `make plots` (needs python3-matplotlib).
set -eu
afdsim=${1:-./afdsim}
echo "plots: nothing to plot yet"
