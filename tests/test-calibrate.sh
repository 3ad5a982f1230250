#!/bin/sh
# SPDX-License-Identifier: MIT
# test-calibrate.sh - `afdsim calibrate` and `--costs profile:…` from the command line: on a
# machine without a GPU (or a build without --enable-cuda) calibrate ends at once with one line
# on stderr and exit status 1; bad flags are exit status 2; a bad profile names its file.
set -u
AFDSIM=${AFDSIM:-./afdsim}
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect STATUS PATTERN ARGS...: exit status, stderr pattern, and one line of stderr.
expect() {
  want=$1; pattern=$2; shift 2
  timeout 60 "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: afdsim $* exited $got, expected $want"; cat "$tmp/err"; fail=1; return
  fi
  if ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: stderr lacks '$pattern':"; cat "$tmp/err"; fail=1; return
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL: afdsim $*: expected exactly one line on stderr:"; cat "$tmp/err"; fail=1
  fi
}

expect 2 "--gpus" calibrate --gpus 0
expect 2 "--timeout" calibrate --timeout nan
expect 2 "--repetitions" calibrate --repetitions 0
expect 2 "no-such-flag" calibrate --no-such-flag
expect 1 "profile-syntax.json" run -q --costs "profile:$top/tests/data/profile-syntax.json"
expect 1 "unknown profile 'no-such-gpu'" run -q --costs profile:no-such-gpu
# Without a usable GPU: one clear line, no profile written. With a GPU, this case is skipped.
if "$AFDSIM" version | grep -q 'features:.*cuda' && command -v nvidia-smi >/dev/null 2>&1 \
   && nvidia-smi >/dev/null 2>&1; then
  echo "SKIP: a GPU is visible; the no-GPU case of calibrate is not checked"
else
  expect 1 "CUDA" calibrate --quick --out "$tmp/p.json"
  [ -e "$tmp/p.json" ] && { echo "FAIL: a failed calibrate left $tmp/p.json"; fail=1; }
fi
[ $fail -eq 0 ] && echo "test-calibrate: ok"
exit $fail
