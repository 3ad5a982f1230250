#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sweep-kill.sh - a sweep killed with SIGKILL loses at most the points in flight and leaves
# no corrupt line; resuming it (also after a partial last line) gives exactly the output of an
# uninterrupted run; a resume with other axes is refused (docs/user/sweep.md).
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
axes="--attn-gpus 8,12,14,15 --total-gpus 16 --batch 8..2400/8 --routing uniform,zipf:1.1"

# The uninterrupted reference (2 threads).
"$AFDSIM" sweep $axes -j 2 -q -o "$tmp/ref.jsonl" --csv "$tmp/ref.csv" || { echo "FAIL: reference run"; exit 1; }
total=$(wc -l <"$tmp/ref.jsonl")
[ "$total" -eq 2400 ] || { echo "FAIL: reference has $total lines, expected 2400"; exit 1; }

# The same sweep on one thread, killed with SIGKILL once it has written 100 lines.
"$AFDSIM" sweep $axes -j 1 -q -o "$tmp/out.jsonl" &
pid=$!
tries=0
while :; do
  n=$(cat "$tmp/out.jsonl" 2>/dev/null | wc -l)
  [ "$n" -ge 100 ] && break
  tries=$((tries + 1))
  [ "$tries" -gt 2000 ] && { echo "FAIL: the sweep wrote no 100 lines in time"; exit 1; }
  sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
done_lines=$(wc -l <"$tmp/out.jsonl")
echo "killed after $done_lines of $total lines"
if [ "$done_lines" -ge "$total" ]; then
  echo "FAIL: the sweep finished before it was killed; the test did not interrupt it"; fail=1
fi
# No corrupt line: the file ends with a newline and is a prefix of the reference.
if [ -s "$tmp/out.jsonl" ] && [ "$(tail -c 1 "$tmp/out.jsonl" | od -An -c | tr -d ' ')" != '\n' ]; then
  echo "FAIL: the killed sweep left a partial last line"; fail=1
fi
head -n "$done_lines" "$tmp/ref.jsonl" | cmp -s - "$tmp/out.jsonl" || { echo "FAIL: killed output is not a prefix of the reference"; fail=1; }

# A partial line as a kill in the middle of write(2) would leave it; resume drops it.
printf '{"index":%d,"id":"0123' "$done_lines" >>"$tmp/out.jsonl"
"$AFDSIM" sweep $axes -j 2 -q -o "$tmp/out.jsonl" --csv "$tmp/out.csv" || { echo "FAIL: resume"; fail=1; }
cmp -s "$tmp/ref.jsonl" "$tmp/out.jsonl" || { echo "FAIL: resumed JSONL differs from the uninterrupted run"; fail=1; }
cmp -s "$tmp/ref.csv" "$tmp/out.csv" || { echo "FAIL: resumed CSV differs from the uninterrupted run"; fail=1; }

# Running it again computes nothing; a resume with other axes is refused, naming the line.
"$AFDSIM" sweep $axes -o "$tmp/out.jsonl" >"$tmp/again" || fail=1
grep -q '(2400 resumed, 0 run' "$tmp/again" || { echo "FAIL: a finished sweep re-ran points:"; cat "$tmp/again"; fail=1; }
"$AFDSIM" sweep --attn-gpus 12 --batch 16 -o "$tmp/out.jsonl" 2>"$tmp/err"
st=$?
[ "$st" -eq 1 ] && grep -q 'line 1: .*different sweep' "$tmp/err" \
  || { echo "FAIL: resume with other axes: exit $st"; cat "$tmp/err"; fail=1; }
cmp -s "$tmp/ref.jsonl" "$tmp/out.jsonl" || { echo "FAIL: a refused resume changed the file"; fail=1; }
exit $fail
