#!/bin/sh
# SPDX-License-Identifier: MIT
# quickstart.sh run|test - from a fresh Debian 12 machine (as root) to a running afdsim.
#
#   run   install dependencies, build in ./build, run the default experiment
#   test  install dependencies, build in ./build, run the whole test suite (make check)
#
# Idempotent: packages already installed are not fetched again; the build is incremental.
# Environment: CFLAGS (default "-O2 -g"), CONFIGURE_FLAGS (extra ./configure flags),
# JOBS (default: number of cores).
set -eu
mode=${1:-run}
case "$mode" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

packages="build-essential autoconf automake pkg-config libglib2.0-dev libcjson-dev \
libcriterion-dev python3 python3-matplotlib openmpi-bin libopenmpi-dev git man-db"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p build
cd build
if [ ! -f config.status ]; then
  # shellcheck disable=SC2086
  ../configure -q CFLAGS="${CFLAGS:--O2 -g}" ${CONFIGURE_FLAGS:-}
fi
make -s -j"$jobs"

if [ "$mode" = run ]; then
  ./afdsim
else
  make -s -j"$jobs" check
fi
