#!/bin/sh
# SPDX-License-Identifier: MIT
# test-serve-golden.sh - for every experiments/serve-*/runs line "NAME: FLAGS": run
# `afdsim serve FLAGS -q --json` from the top of the source tree and compare the summary byte
# for byte with experiments/serve-*/expected/NAME.json, after replacing provenance.version,
# git_revision, features and command_line by "X" on both sides (as tests/golden.sh does).
# Update the expected files with: tests/test-serve-golden.sh --update (AFDSIM set).
set -u
afdsim=${AFDSIM:-./afdsim}
case "$afdsim" in /*) ;; *) afdsim="$(pwd)/$afdsim" ;; esac
src=${top_srcdir:-.}
update=no
[ "${1:-}" = "--update" ] && update=yes
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
norm() {
  sed -E 's/^([[:space:]]*"(version|git_revision|features|command_line)":[[:space:]]*)"([^"\\]|\\.)*"/\1"X"/' "$1"
}
cd "$src" || exit 1
status=0
n=0
for runs in experiments/serve-*/runs; do
  [ -f "$runs" ] || continue
  dir=$(dirname "$runs")
  while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    name=${line%%:*}
    flags=${line#*:}
    n=$((n + 1))
    out="$tmp/$name.json"
    # --update writes the expected file itself (its command line then names no scratch path).
    [ $update = yes ] && mkdir -p "$dir/expected" && out="$dir/expected/$name.json"
    # shellcheck disable=SC2086
    if ! "$afdsim" serve $flags -q --json "$out"; then
      echo "serve-golden: $dir/$name: afdsim failed"
      status=1
      continue
    fi
    if [ $update = yes ]; then
      echo "serve-golden: $dir/$name: updated"
      continue
    fi
    norm "$dir/expected/$name.json" >"$tmp/$name.expected"
    norm "$tmp/$name.json" >"$tmp/$name.got"
    if cmp -s "$tmp/$name.expected" "$tmp/$name.got"; then
      echo "serve-golden: $dir/$name: ok"
    else
      echo "serve-golden: $dir/$name: summary differs from expected/$name.json:"
      diff -u "$tmp/$name.expected" "$tmp/$name.got" | head -40
      status=1
    fi
  done <"$runs"
done
[ $n -gt 0 ] || { echo "serve-golden: no runs found"; exit 1; }
echo "serve-golden: $n run(s) checked"
exit $status
