#!/bin/sh
# SPDX-License-Identifier: MIT
# test-show-model.sh - `afdsim show model`: text and JSON output of every shipped model, the
# JSON keys docs/user/model-format.md promises, and clear errors for bad input.
set -u
AFDSIM=${AFDSIM:-./afdsim}
top_srcdir=${top_srcdir:-.}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for m in $("$AFDSIM" list models); do
  if ! "$AFDSIM" show model "$m" >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL: show model $m"; cat "$tmp/err"; fail=1; continue
  fi
  for key in params_total params_active kv_bytes_per_token flops_per_token; do
    grep -q "^$key " "$tmp/out" || { echo "FAIL: show model $m: no $key line"; fail=1; }
  done
  if ! "$AFDSIM" show model "$m" --json >"$tmp/json" 2>"$tmp/err"; then
    echo "FAIL: show model $m --json"; cat "$tmp/err"; fail=1; continue
  fi
  for key in '"params_total"' '"params_active"' '"flops_per_token"' '"kv_bytes_per_token"' \
             '"context_tokens"' '"architecture"'; do
    grep -q "$key:" "$tmp/json" || { echo "FAIL: show model $m --json lacks $key"; fail=1; }
  done
done

# --context changes the context used; a file path works like a name.
"$AFDSIM" show model "$top_srcdir/models/llm/deepseek-v3.json" --json --context 8192 >"$tmp/a" || fail=1
grep -q '"context_tokens":	8192' "$tmp/a" || { echo "FAIL: --context 8192 not used"; fail=1; }
# DeepSeek-V3: 671,026,404,352 parameters (docs/user/model-format.md).
grep -q '"params_total":	671026404352' "$tmp/a" || { echo "FAIL: deepseek-v3 params_total"; fail=1; }

# expect STATUS PATTERN ARGS...
expect() {
  want=$1; pattern=$2; shift 2
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: afdsim $*: status $got (want $want), stderr:"; cat "$tmp/err"; fail=1
  fi
}
expect 2 "expected a model NAME" show model
expect 2 "--context" show model masep-4l --context -1
expect 2 "--context" show model masep-4l --context 12abc
expect 1 "no-such-model" show model no-such-model
expect 1 "attention.heads: must be > 0" show model "$top_srcdir/tests/data/llm-zero-heads.json"
exit $fail
