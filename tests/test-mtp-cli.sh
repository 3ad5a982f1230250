#!/bin/sh
# SPDX-License-Identifier: MIT
# test-mtp-cli.sh - --mtp, --accept and --price on run, compare and sweep (docs/models/mtp.md,
# docs/models/cost.md): accepted, recorded in the summary's workload block and the sweep's
# configuration, the roofline's budget on the same inputs equal to the run's step, and every
# bad value exits 2 with one line naming the flag.
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
common="--cluster h800-x40 --model deepseek-v3 --batch 1024 --context 1024"

# run: N, L and the price override reach the summary; TPOT = step / L.
"$AFDSIM" run $common --strategy ep --mtp 1 --accept 1.7 --price H800=2 -q --json "$tmp/r.json" \
  || { echo "FAIL: run --mtp"; fail=1; }
python3 - "$tmp/r.json" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
w, r = s["workload"], s["runs"][0]
assert w["mtp_draft_tokens"] == 1 and w["accept_tokens"] == 1.7, w
assert w["price_usd_per_gpu_hour"] == 2 and r["economics"]["price_usd_per_gpu_hour"] == 2
assert abs(r["tpot_s"] - r["iteration_time_s"] / 1.7) <= 1e-15, r["tpot_s"]
PY

# roofline on the same inputs (DeepSeek-V3, H800, L = 1.7, no gap, one micro-batch) with the
# run's TPOT as SLO: its budget over the 61 blocks is the run's step (docs/models/mtp.md).
slo=$(python3 -c 'import json,sys; print("%.17g" % json.load(open(sys.argv[1]))["runs"][0]["tpot_s"])' "$tmp/r.json")
"$AFDSIM" roofline --model deepseek-v3 --gpu H800 --slo "$slo" --accept 1.7 --gap 0 --bo 1 \
  --json "$tmp/roof.json" >/dev/null || { echo "FAIL: roofline"; fail=1; }
python3 - "$tmp/r.json" "$tmp/roof.json" <<'PY' || { echo "FAIL: roofline and run disagree"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
roof = json.load(open(sys.argv[2]))
step = roof["t_b_s"] * roof["inputs"]["n_layers"]
assert abs(step - r["iteration_time_s"]) <= 1e-12 * r["iteration_time_s"], (step, r["iteration_time_s"])
PY

# compare: every strategy gets the same N, L and price.
"$AFDSIM" compare $common --strategy ep --strategy afd --mtp 1 --accept 1.5 --price H800=2 \
  >"$tmp/c.txt" || { echo "FAIL: compare --mtp"; fail=1; }
grep -q 'MTP: 1 draft tokens per step, 1.5 accepted' "$tmp/c.txt" \
  || { echo "FAIL: compare prints no MTP line"; cat "$tmp/c.txt"; fail=1; }
[ "$(grep -c '  2.00 ' "$tmp/c.txt")" -eq 2 ] \
  || { echo "FAIL: compare cost table"; cat "$tmp/c.txt"; fail=1; }

# sweep: axes over mtp, accept and price land in every point's configuration.
"$AFDSIM" sweep $common --strategy ep --mtp 1 --accept 1,2 --price H800=2,H800=4 -q \
  -o "$tmp/s.jsonl" || { echo "FAIL: sweep --mtp"; fail=1; }
[ "$(grep -c '"mtp":1,"accept":2,"price":"H800=4"' "$tmp/s.jsonl")" -eq 1 ] \
  || { echo "FAIL: sweep configs"; cat "$tmp/s.jsonl"; fail=1; }
[ "$(grep -c '"usd_per_million_tokens":[0-9]' "$tmp/s.jsonl")" -eq 4 ] \
  || { echo "FAIL: sweep economics"; fail=1; }

# Bad values: exit 2, one line, naming the flag.
bad() {
  flag=$1; shift
  "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  st=$?
  if [ "$st" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q -- "$flag" "$tmp/err"; then
    echo "FAIL: $* -> exit $st:"; cat "$tmp/err"; fail=1
  fi
}
bad --mtp run $common --strategy ep --mtp -1
bad --mtp run $common --strategy ep --mtp 17
bad --mtp run $common --strategy ep --mtp x
bad --accept run $common --strategy ep --accept 1.5
bad --accept run $common --strategy ep --mtp 1 --accept 2.5
bad --accept run $common --strategy ep --mtp 1 --accept nan
bad --price run $common --strategy ep --price H800
bad --price run $common --strategy ep --price H800=0
bad --price run $common --strategy ep --price H800=inf
bad --price run $common --strategy ep --price Z9000=3
bad --mtp compare $common --mtp 99
bad --price compare $common --price =3
# A model without a draft module: exit 1 (the run fails), one line naming --mtp.
"$AFDSIM" run --strategy ep --mtp 1 >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q -- '--mtp: model masep-4l has no draft module' "$tmp/err" \
  || { echo "FAIL: model without MTP:"; cat "$tmp/err"; fail=1; }
exit $fail
