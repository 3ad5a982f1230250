#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run.sh SECONDS [TARGET...] - fuzzes every target for SECONDS each, one at a time.
#
# Builds the targets (tests/fuzz/build.sh) into $FUZZ_BUILD (default /tmp/afd-fuzz-build),
# replays the seed corpus tests/fuzz/corpus/TARGET and the regression inputs
# tests/data/robust-*.json, then fuzzes with -max_len=65536. New inputs go to a scratch corpus
# ($FUZZ_WORK, default a temporary folder; set it to keep the grown corpus between runs), never
# into the source tree. Fails on any crash, leak, sanitizer report or timeout, printing the
# artifact that reproduces it; prints executions per target. Environment: FUZZ_BUILD,
# FUZZ_WORK, FUZZ_ARTIFACTS (default $FUZZ_BUILD/artifacts), FUZZ_NICE (default 10), FUZZ_SEED
# (default 1: the mutation sequence is fixed, so a CI run explores the same inputs each time;
# set FUZZ_SEED=0 for a random seed in long local runs).
set -u
[ $# -ge 1 ] || { echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2; }
seconds=$1; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-/tmp/afd-fuzz-build}
work=${FUZZ_WORK:-}
cleanup=""
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/afd-fuzz-work.XXXXXX")
  cleanup=$work
fi
# Crash inputs outlive the scratch corpus: they go next to the binaries that replay them.
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}
# The scratch files the targets write their inputs to (tmpfs when there is one).
scratch_base=/dev/shm
[ -d "$scratch_base" ] && [ -w "$scratch_base" ] || scratch_base=${TMPDIR:-/tmp}
export AFD_FUZZ_SCRATCH="$scratch_base/afd-fuzz-run-$$"
mkdir -p "$work" "$artifacts" "$AFD_FUZZ_SCRATCH"
trap 'rm -rf "$AFD_FUZZ_SCRATCH"; [ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT

sh "$top/tests/fuzz/build.sh" "$build" "$@" || { echo "fuzz: build failed" >&2; exit 1; }
export AFDSIM_DATA_DIR=${AFDSIM_DATA_DIR:-$top}
# Sanitizer reports abort; UBSan prints a stack. (libFuzzer sets its own ASan defaults.)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
total=0
for bin in "$build"/fuzz-*; do
  [ -x "$bin" ] || continue
  t=${bin##*/fuzz-}
  if [ $# -gt 0 ]; then
    case " $* " in *" $t "*) ;; *) continue ;; esac
  fi
  seeds="$top/tests/fuzz/corpus/$t"
  mkdir -p "$work/$t" "$seeds"
  dict=""
  case $t in
    cli) dict="-dict=$top/tests/fuzz/cli.dict" ;;
    *) dict="-dict=$top/tests/fuzz/json.dict" ;;
  esac
  log="$work/$t.log"
  # Whole simulated runs take longer than one file read.
  timeout=10
  case $t in experiment-run) timeout=30 ;; esac

  # 1. Replay: every seed and regression input once (a regression shows up here, fast).
  # libFuzzer takes either folders or files, so the regression inputs go into a folder.
  regress="$work/regress-$t"
  mkdir -p "$regress"
  case $t in cli) ;; *) cp "$top"/tests/data/robust-*.json "$regress"/ 2>/dev/null ;; esac
  if ! nice -n "${FUZZ_NICE:-10}" "$bin" -runs=0 -max_len=65536 -timeout=$timeout \
      -artifact_prefix="$artifacts/$t-" "$seeds" "$regress" >"$log" 2>&1; then
    echo "fuzz $t: FAILED replaying the corpus"; tail -n 40 "$log"; status=1; continue
  fi

  # 2. Fuzz for $seconds.
  # shellcheck disable=SC2086
  nice -n "${FUZZ_NICE:-10}" "$bin" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" \
    -max_len=65536 -timeout=$timeout -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" $dict \
    "$work/$t" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  corpus=$(ls "$work/$t" | wc -l)
  total=$((total + ${execs:-0}))
  if [ $rc -ne 0 ]; then
    echo "fuzz $t: FAILED after ${execs:-?} executions (exit $rc)"
    grep -E 'ERROR|SUMMARY|fuzz rule broken|runtime error|Test unit written' "$log" | head -n 20
    tail -n 30 "$log"
    status=1
  else
    echo "fuzz $t: ok, ${execs:-?} executions in ${seconds} s, $cov, grown corpus $corpus inputs"
  fi
done
echo "fuzz: $total executions in total"
exit $status
