#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/build.sh OUTDIR [TARGET...] - builds the libFuzzer targets (tests/fuzz/fuzz-*.c).
#
# Compiles the afdsim sources each target needs straight from the source tree with clang,
# -fsanitize=fuzzer,address,undefined, plus GLib and cJSON from pkg-config. Independent of the
# autotools build: it writes its own minimal config.h into OUTDIR. A target is built only when
# its fuzz-NAME.c and every source it lists below exist, so targets for readers that have not
# landed yet are skipped with a note. Environment: CC (default clang), FUZZ_CFLAGS (extra).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [TARGET...]" >&2; exit 2; }
out=$1; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz build: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# sources_of TARGET: the afdsim sources (besides tests/fuzz/fuzz-TARGET.c) the target links.
sources_of() {
  case $1 in
    json) echo "sim/json.c sim/error.c" ;;
    cli) echo "sim/cli.c sim/error.c" ;;
    gpu-spec) echo "sim/gpu-spec.c sim/json.c sim/error.c sim/data-dir.c" ;;
    cluster) echo "sim/cluster.c sim/gpu-spec.c sim/json.c sim/error.c sim/data-dir.c" ;;
    llm) echo "sim/llm.c sim/gpu-spec.c sim/json.c sim/error.c sim/data-dir.c" ;;
    routing) echo "models/routing.c sim/json.c sim/error.c" ;;
    experiment)
      echo "sim/experiment.c sim/cluster.c sim/cost-model.c sim/data-dir.c sim/engine.c sim/error.c \
sim/event-queue.c sim/gpu-spec.c sim/json.c sim/llm.c sim/metrics.c sim/op.c sim/opgraph.c \
sim/replay.c sim/strategy.c sim/stream.c sim/trace.c sim/types.c sim/network.c sim/flow.c" ;;
    roofline-hardware)
      echo "models/roofline.c sim/llm.c sim/gpu-spec.c sim/cli.c sim/data-dir.c sim/json.c sim/error.c" ;;
    *) echo "" ;;
  esac
}

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

built=0
compiled=""
for t in $targets; do
  main="tests/fuzz/fuzz-$t.c"
  srcs=$(sources_of "$t")
  missing=""
  [ -f "$top/$main" ] || missing="$main"
  [ -n "$srcs" ] || missing="$missing (no source list in build.sh)"
  for s in $srcs; do [ -f "$top/$s" ] || missing="$missing $s"; done
  if [ -n "$missing" ]; then
    echo "fuzz build: skipping $t (missing:$missing)"
    continue
  fi
  objs=""
  for s in $srcs; do
    o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
    # Each source is compiled once per build.sh run, whichever targets share it.
    case " $compiled " in
      *" $o "*) ;;
      *)
        # shellcheck disable=SC2086
        $CC $cflags -fsanitize=fuzzer-no-link -c "$top/$s" -o "$o"
        compiled="$compiled $o" ;;
    esac
    objs="$objs $o"
  done
  # shellcheck disable=SC2086
  $CC $cflags -fsanitize=fuzzer "$top/$main" $objs $libs -o "$out/fuzz-$t"
  echo "fuzz build: $out/fuzz-$t"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || { echo "fuzz build: no target built" >&2; exit 1; }
