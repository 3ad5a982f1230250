#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fidelity-data.sh - the data behind docs/models/collectives.md's fidelity section:
#  1. the Hopper per-channel rates in sim/collective.c are the committed nccl-probe
#     measurements (tools/data/nccl-probe/h200x2-nccl2.28.3: ring all-reduce on one channel,
#     slope from 256 KiB to 1 MiB, to 0.1 GB/s);
#  2. tools/network-fidelity.py refuses a bad harness_floor_us or gpus_per_process with one
#     message naming the file and the row (exit 2), a harness floor on a row measured one
#     process per GPU, and a split column that is not the rule's;
#  3. tools/nccl-probe-compare.py compares the committed measurements with the built afdsim,
#     and refuses a folder without them.
# Exit 1: a check failed; exit 77 (skip): no python3.
set -u
AFDSIM=${AFDSIM:-./afdsim}
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/afd-fiddata-XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

# 1. rates
python3 - "$top" <<'EOF' || fail=1
import re, sys
top = sys.argv[1]
data = top + "/tools/data/nccl-probe/h200x2-nccl2.28.3"
def slope(proto):
    t = {}
    for line in open("%s/channels-%s-c1-g2.tsv" % (data, proto)):
        if not line.startswith("#"):
            c = line.split("\t")
            t[int(c[3])] = float(c[4]) * 1e-6
    a, b = 262144, 1048576
    return (b - a) / (t[b] - t[a]) / 1e9  # 2 ranks: busbw = algbw
measured = [round(slope(p), 1) for p in ("LL", "LL128", "Simple")]
src = open(top + "/sim/collective.c").read()
m = re.search(r"channel_rate\[3\]\[3\] = \{ \{[^}]*\}, \{ ([^}]*) \}", src)
shipped = [float(x) for x in m.group(1).split(",")]
if measured != shipped:
    print("FAIL: Hopper channel rates: measured %s, sim/collective.c has %s" % (measured, shipped))
    sys.exit(1)
print("ok: Hopper per-channel rates %s GB/s match the committed measurements" % shipped)
EOF

# 2. refused CSV rows
csv="$top/tools/data/nccl-published.csv"
grep -m1 -v '^#' "$csv" > "$tmp/head.csv"
refused() {  # NAME ROW EXPECTED-TEXT
  { cat "$tmp/head.csv"; printf '%s\n' "$2"; } > "$tmp/$1.csv"
  python3 "$top/tools/network-fidelity.py" --csv "$tmp/$1.csv" --quiet "$AFDSIM" \
    > "$tmp/$1.out" 2>&1
  rc=$?
  if [ $rc -ne 2 ] || ! grep -q "$tmp/$1.csv: row 1: $3" "$tmp/$1.out"; then
    echo "FAIL: $1: exit $rc, expected 2 and '$3':"; cat "$tmp/$1.out"; fail=1
  else
    echo "ok: $1 refused: $(cat "$tmp/$1.out")"
  fi
}
row='DGX-A100,1,8,all-reduce,1024,0.05,36.07,auto,dgx-a100-x2,test,MEAS,,8'
refused floor-text "$row,abc,https://example.org,x" "harness_floor_us 'abc' is not a positive"
refused floor-zero "$row,0,https://example.org,x" "harness_floor_us '0' is not a positive"
refused floor-one-process \
  'DGX-A100,1,8,all-reduce,1024,0.05,36.07,auto,dgx-a100-x2,test,MEAS,,1,30,https://example.org,x' \
  "harness_floor_us is for single-process runs"
refused gpus-per-process \
  'DGX-A100,1,8,all-reduce,1024,0.05,36.07,auto,dgx-a100-x2,test,MEAS,,two,,https://example.org,x' \
  "gpus_per_process 'two' is not a positive integer"
# A row whose split is not the rule's (tools/network-fidelity.py, split_of) is refused: the
# tuning/held-out split cannot be moved by hand. The same row with the rule's split loads.
refused split-moved "$row,,https://example.org,x,tuning" \
  "split 'tuning' is not what the rule gives (holdout"
{ cat "$tmp/head.csv"; printf '%s\n' "$row,,https://example.org,x,holdout"; } > "$tmp/split.csv"
if python3 "$top/tools/network-fidelity.py" --csv "$tmp/split.csv" --quiet "$AFDSIM" \
     > "$tmp/split.out" 2>&1 && grep -q "held-out rows, the NCCL model alone\*\* | 1 |" \
     "$tmp/split.out"; then
  echo "ok: the rule's split loads and counts as held out"
else
  echo "FAIL: split row:"; cat "$tmp/split.out"; fail=1
fi

# 3. the comparison with our own measurements
if python3 "$top/tools/nccl-probe-compare.py" "$top/tools/data/nccl-probe/h200x2-nccl2.28.3" \
     "$AFDSIM" > "$tmp/cmp.out" 2>&1 && grep -q "^median |error| all: " "$tmp/cmp.out" \
   && [ "$(grep -c '^| all-reduce | 2 |' "$tmp/cmp.out")" -eq 21 ]; then
  echo "ok: nccl-probe-compare: $(grep '^median |error| all' "$tmp/cmp.out")"
else
  echo "FAIL: nccl-probe-compare:"; cat "$tmp/cmp.out"; fail=1
fi
mkdir "$tmp/empty"
python3 "$top/tools/nccl-probe-compare.py" "$tmp/empty" "$AFDSIM" > "$tmp/empty.out" 2>&1
rc=$?
if [ $rc -ne 2 ] || ! grep -q "no harness-OP-threads-gG-rR.tsv files" "$tmp/empty.out"; then
  echo "FAIL: empty folder: exit $rc:"; cat "$tmp/empty.out"; fail=1
else
  echo "ok: empty folder refused: $(cat "$tmp/empty.out")"
fi
exit $fail
