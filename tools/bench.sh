#!/bin/sh
# SPDX-License-Identifier: MIT
# bench.sh AFDSIM - every benchmark behind `make bench`; figures recorded in docs/performance.md.
set -eu
afdsim=${1:-./afdsim}
echo "== afdsim --version"; "$afdsim" --version
