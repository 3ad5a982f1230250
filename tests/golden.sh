#!/bin/sh
# SPDX-License-Identifier: MIT
# golden.sh - for every experiments/<x>/ with expected/summary.json: run `afdsim run` on its
# experiment.json (fixed seed inside; traces go to a temporary folder) and compare the
# summary byte for byte, after replacing
# provenance.version, git_revision, features and command_line by "X" on both sides (they
# change with every commit, configuration or output path; everything else, input SHA-256
# included, must match). Update an expected file with:
#   afdsim run experiments/<x>/experiment.json -q --json experiments/<x>/expected/summary.json
set -u
afdsim=${AFDSIM:-./afdsim}
src=${top_srcdir:-.}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
norm() {
  sed -E 's/^([[:space:]]*"(version|git_revision|features|command_line)":[[:space:]]*)"([^"\\]|\\.)*"/\1"X"/' "$1"
}
status=0
n=0
for exp in "$src"/experiments/*/; do
  [ -f "$exp/expected/summary.json" ] || continue
  name=$(basename "$exp")
  n=$((n + 1))
  if ! "$afdsim" run "$exp/experiment.json" -q --json "$tmp/$name.json" \
      --trace "$tmp/$name-trace.json"; then
    echo "golden: $name: afdsim failed"
    status=1
    continue
  fi
  norm "$exp/expected/summary.json" > "$tmp/$name.expected"
  norm "$tmp/$name.json" > "$tmp/$name.got"
  if cmp -s "$tmp/$name.expected" "$tmp/$name.got"; then
    echo "golden: $name: ok"
  else
    echo "golden: $name: summary differs from expected/summary.json:"
    diff -u "$tmp/$name.expected" "$tmp/$name.got" | head -40
    status=1
  fi
done
echo "golden: $n experiment(s) checked"
exit $status
