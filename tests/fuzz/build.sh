#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/build.sh OUTDIR [TARGET...] - builds the libFuzzer targets (tests/fuzz/fuzz-*.c).
#
# Compiles the afdsim sources straight from the source tree with clang,
# -fsanitize=fuzzer,address,undefined, plus GLib and cJSON from pkg-config. Independent of the
# autotools build: it writes its own minimal config.h into OUTDIR. Every tests/fuzz/fuzz-NAME.c
# is a target; it links against an archive of all of sim/, models/, backends/ and cli/ (but cli/main.c)
# (not cuda/), so a target needs no list of sources. Objects are rebuilt when their source or
# any header is newer. Environment: CC (default clang), FUZZ_CFLAGS (extra flags).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [TARGET...]" >&2; exit 2; }
out=$1; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz build: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

all_targets=$(cd "$top/tests/fuzz" && ls fuzz-*.c 2>/dev/null | sed 's/^fuzz-//; s/\.c$//')
targets=${*:-$all_targets}

mkdir -p "$out/include" "$out/obj"
version=$(sed -n 's/^AC_INIT(\[afdsim\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
cat >"$out/include/config.h.new" <<EOF
/* Written by tests/fuzz/build.sh: the subset of config.h the readers use. */
#define PACKAGE "afdsim"
#define PACKAGE_NAME "afdsim"
#define PACKAGE_VERSION "${version:-0}"
#define VERSION PACKAGE_VERSION
#define AFD_FEATURES ""
#define AFD_GIT_REVISION "fuzz"
EOF
cmp -s "$out/include/config.h.new" "$out/include/config.h" 2>/dev/null \
  && rm -f "$out/include/config.h.new" || mv "$out/include/config.h.new" "$out/include/config.h"

# shellcheck disable=SC2046
cflags="-g -O1 -std=gnu11 -fno-omit-frame-pointer -fsanitize=address,undefined \
-fno-sanitize-recover=undefined -I$top -I$out/include $(pkg-config --cflags glib-2.0 libcjson) \
-DG_LOG_DOMAIN=\"afdsim\" -DAFD_PKGDATADIR=\"$top\" -DAFD_FUZZ_SRCDIR=\"$top\" \
-DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74 \
-Wall -Wno-unused-parameter ${FUZZ_CFLAGS:-}"
libs="$(pkg-config --libs glib-2.0 libcjson) -lm"

# The afdsim sources go into one static archive, so each target links exactly the objects it
# needs. A source that does not compile (someone's half-finished file) is left out with a note;
# a target that needs it then fails to link and is reported.
newest_header=$(ls -t "$top"/sim/*.h "$top"/models/*.h "$top"/backends/*.h "$top"/cli/*.h \
  "$out/include/config.h" \
  2>/dev/null | head -1)
objs=""
for src in "$top"/sim/*.c "$top"/models/*.c "$top"/backends/*.c "$top"/cli/*.c; do
  rel=${src#"$top"/}
  case $rel in cli/main.c) continue ;; esac
  # MPI code is built only by configure --with-mpi; no reader lives there.
  grep -q '^#include <mpi.h>' "$src" && continue
  o="$out/obj/$(echo "$rel" | tr / _ | sed 's/\.c$/.o/')"
  if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then
    # shellcheck disable=SC2086
    if ! $CC $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$o" 2>"$o.err"; then
      echo "fuzz build: $rel does not compile; left out:"; head -n 5 "$o.err"
      rm -f "$o"
      continue
    fi
  fi
  objs="$objs $o"
done
rm -f "$out/libafd-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$out/libafd-fuzz.a" $objs

built=0
failed=0
for t in $targets; do
  main="tests/fuzz/fuzz-$t.c"
  [ -f "$top/$main" ] || { echo "fuzz build: no $main" >&2; failed=1; continue; }
  # shellcheck disable=SC2086
  if $CC $cflags -fsanitize=fuzzer "$top/$main" "$out/libafd-fuzz.a" $libs -o "$out/fuzz-$t"; then
    echo "fuzz build: $out/fuzz-$t"
    built=$((built + 1))
  else
    echo "fuzz build: fuzz-$t FAILED to build" >&2
    failed=1
  fi
done
[ "$built" -gt 0 ] && [ "$failed" -eq 0 ]
