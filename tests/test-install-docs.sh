#!/bin/sh
# SPDX-License-Identifier: MIT
# test-install-docs.sh - `make install` (into a DESTDIR) installs the man page and every docs/
# page the man page names, and `man` finds the page there (issue 13). Skips (77) when the build
# folder has no Makefile (not run from make check).
set -u
builddir=${top_builddir:-.}
src=${top_srcdir:-..}
[ -f "$builddir/Makefile" ] || { echo "no Makefile in $builddir"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# A separate make, not the jobs of the make check that runs this test.
(cd "$builddir" && env -u MAKEFLAGS -u MFLAGS make -s install DESTDIR="$tmp" >"$tmp/log" 2>&1) \
  || { echo "FAIL: make install DESTDIR=..."; cat "$tmp/log"; exit 1; }
man1=$(find "$tmp" -path '*/man/man1/afdsim.1' | head -1)
[ -n "$man1" ] || { echo "FAIL: afdsim.1 not installed"; exit 1; }
docdir=$(find "$tmp" -type d -path '*/doc/afdsim' | head -1)
[ -n "$docdir" ] || { echo "FAIL: no doc/afdsim folder installed"; exit 1; }
# Every docs/... page the man page names is installed under the same relative path.
for page in $(grep -o 'docs/[A-Za-z0-9_./-]*\.md' "$src/docs/afdsim.1" | sort -u); do
  [ -f "$docdir/$page" ] || { echo "FAIL: the man page names $page, not installed"; fail=1; }
  [ -f "$src/$page" ] || { echo "FAIL: the man page names $page, which does not exist"; fail=1; }
done
[ -f "$docdir/README.md" ] || { echo "FAIL: README.md not installed"; fail=1; }
if command -v man >/dev/null 2>&1; then
  mandir=$(dirname "$(dirname "$man1")")
  MANPATH=$mandir man -w afdsim >"$tmp/w" 2>&1 || { echo "FAIL: man -w afdsim"; cat "$tmp/w"; fail=1; }
  MANPATH=$mandir MANPAGER=cat MANWIDTH=80 man afdsim 2>/dev/null | grep -q 'discrete-event' \
    || { echo "FAIL: man afdsim does not show the page"; fail=1; }
else
  echo "man is not installed here (tools/quickstart.sh installs man-db); page checks only"
fi
[ $fail -eq 0 ] && echo "install-docs: man page and the pages it names are installed"
exit $fail
