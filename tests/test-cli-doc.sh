#!/bin/sh
# SPDX-License-Identifier: MIT
# test-cli-doc.sh - docs/user/cli.md is exactly what tools/cli-doc.sh prints for this afdsim,
# so every flag and default in the reference matches the program.
set -u
# The same UTF-8 locale tools/cli-doc.sh pins (it also holds for the diff below), so the check
# passes with no LANG/LC_* set at all.
LC_ALL=C.UTF-8
export LC_ALL
AFDSIM=${AFDSIM:-./afdsim}
src=${top_srcdir:-.}
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
sh "$src/tools/cli-doc.sh" "$AFDSIM" >"$tmp" || { echo "cli-doc: generation failed"; exit 1; }
if ! cmp -s "$tmp" "$src/docs/user/cli.md"; then
  echo "docs/user/cli.md is out of date; regenerate with: sh tools/cli-doc.sh build/afdsim > docs/user/cli.md"
  diff -u "$src/docs/user/cli.md" "$tmp" | head -40
  exit 1
fi
echo "cli-doc: docs/user/cli.md matches afdsim"
