#!/bin/sh
# SPDX-License-Identifier: MIT
# test-no-clobber.sh - issue #14, "nothing lost, nothing silently wrong" (docs/reliability.md,
# "Outputs and special files", "The simulated-time horizon"): every case below was reproduced
# on the release build before the fix and failed there.
#   outputs: the same file twice or an input as an output (exit 2, one line naming both flags,
#   nothing written); device nodes, FIFOs, /dev/stdout and /dev/null written directly; a
#   symbolic link kept; a second sweep on a locked output refused naming the holder's PID;
#   SIGTERM removes temporary files and folders; a multi-run experiment writes all or none.
#   inputs: /dev/zero, FIFOs and oversized files refused; 200 000 keys refused promptly.
#   values: routing counts near DBL_MAX, fault values, context 0, huge durations (the 2^62 ns
#   horizon), non-finite roofline figures, empty lists, ' 5' in sweep lists.
set -u
AFDSIM=${AFDSIM:-./afdsim}
case "$AFDSIM" in /*) ;; *) AFDSIM="$(pwd)/$AFDSIM" ;; esac
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
cd "$tmp" || exit 1
run_args="run -q --strategy masep --attn-gpus 12 --moe-gpus 4"

ok () { n=$((n + 1)); echo "ok $1"; }
bad () { n=$((n + 1)); echo "FAIL $1"; [ -f "$tmp/err" ] && sed 's/^/  | /' "$tmp/err"; fail=1; }

# expect NAME STATUS NEEDLE -- ARGS...: exit STATUS, one stderr line holding NEEDLE, no GLib
# warning or critical anywhere in it.
expect () {
  name=$1 want=$2 needle=$3
  shift 4
  timeout 120 "$AFDSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc, expected $want"; return; fi
  if grep -q "CRITICAL\|WARNING" "$tmp/err"; then bad "$name: GLib message"; return; fi
  if [ -n "$needle" ] && { [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qF -- "$needle" "$tmp/err"; }; then
    bad "$name: expected one line with '$needle'"; return
  fi
  ok "$name"
}

# ---- point 1: outputs against each other and against inputs ----
expect same-json-trace 2 "--json and --trace name the same file (X)" -- $run_args --json X --trace X
[ -e X ] && bad "same-json-trace: X was written" || ok "same-json-trace: nothing written"
ln -s X Xlink
expect same-via-link 2 "--json and --trace name the same file (X and Xlink)" -- $run_args --json X --trace Xlink
expect sweep-output-csv 2 "--output and --csv name the same file (s.jsonl)" -- sweep -q --batch 64,128 -o s.jsonl --csv s.jsonl
[ -e s.jsonl ] && bad "sweep-output-csv: s.jsonl was written" || ok "sweep-output-csv: nothing written"
cp "$top_srcdir/models/llm/masep-4l.json" m.json
cp m.json m.ref
expect model-as-output 2 "--json and --model name the same file (m.json)" -- $run_args --model m.json --json m.json
cmp -s m.json m.ref && ok "model-as-output: model untouched" || bad "model-as-output: model changed"
cp "$top_srcdir/topologies/gpus/H800.json" g.json
cp g.json g.ref
expect roofline-gpu-as-output 2 "--json and --gpu name the same file (g.json)" -- roofline --model deepseek-v3 --gpu g.json --json g.json
cmp -s g.json g.ref && ok "roofline-gpu-as-output: GPU file untouched" || bad "roofline-gpu-as-output: GPU file changed"
expect sweep-model-as-csv 2 "--csv and the sweep's model name the same file" -- sweep -q --batch 64 --model m.json -o t.jsonl --csv m.json
cmp -s m.json m.ref && ok "sweep-model-as-csv: model untouched" || bad "sweep-model-as-csv: model changed"
# The other commands that write files: validate, cost, fit, collective.
expect validate-json-trace 2 "--json and --trace name the same file (V)" -- validate --cluster h200-1x4 --model masep-4l --strategy ep --ep 4 --json V --trace V
expect cost-gpu-as-output 2 "--json and --gpu name the same file (g.json)" -- cost gemm --m 1 --n 16 --k 16 --gpu g.json --json g.json
cmp -s g.json g.ref && ok "cost-gpu-as-output: GPU file untouched" || bad "cost-gpu-as-output: GPU file changed"
expect fit-json-write 2 "--json and --write name the same file (F)" -- fit --profile H200 --json F --write F
cp "$top_srcdir/topologies/profiles/H200.json" p.json
cp p.json p.ref
expect fit-profile-as-output 2 "--write and --profile name the same file (p.json)" -- fit --profile p.json --gpu H200 --write p.json
cmp -s p.json p.ref && ok "fit-profile-as-output: profile untouched" || bad "fit-profile-as-output: profile changed"
cp "$top_srcdir/topologies/clusters/h200-1x4.json" c.json
cp c.json c.ref
expect collective-cluster-as-output 2 "--json and --cluster name the same file (c.json)" -- collective --cluster c.json --json c.json
cmp -s c.json c.ref && ok "collective-cluster-as-output: cluster untouched" || bad "collective-cluster-as-output: cluster changed"

# ---- point 2: special files written directly, links kept ----
if mknod node c 1 3 2>/dev/null; then
  for out in "--json node" "--trace node"; do
    expect "device $out" 0 "" -- $run_args $out
    [ -c node ] && ok "device $out: still a device" || bad "device $out: replaced by a regular file"
  done
  expect "device roofline --json" 0 "" -- roofline --model deepseek-v3 --gpu H800 --json node
  [ -c node ] && ok "device roofline: still a device" || bad "device roofline: replaced"
  expect "device sweep -o" 0 "" -- sweep -q --batch 64 -o node
  [ -c node ] && ok "device sweep -o: still a device" || bad "device sweep -o: replaced"
  expect "device sweep --csv" 0 "" -- sweep -q --batch 64 -o d.jsonl --csv node
  [ -c node ] && ok "device sweep --csv: still a device" || bad "device sweep --csv: replaced"
else
  echo "skip: mknod not permitted (device node cases)"
fi
# /dev/null itself is left alone: a broken build run as root would replace it (it did).
if mknod null c 1 3 2>/dev/null; then
  expect "null device --json --trace" 0 "" -- $run_args --json null --trace null
  [ -c null ] && ok "null device: still a device" || bad "null device: replaced"
fi
# /dev/fd/1 and /proc/self/fd/1 live in procfs, where a broken build cannot create or rename
# anything; /dev/stdout only when not root (a broken build run as root replaced it by a file).
stdout_paths="/dev/fd/1 /proc/self/fd/1"
[ "$(id -u)" -ne 0 ] && stdout_paths="$stdout_paths /dev/stdout"
for p in $stdout_paths; do
  rm -f stdout.json
  "$AFDSIM" $run_args --json $p >stdout.json 2>"$tmp/err"
  grep -q '"provenance"' stdout.json && ok "$p to a file" || bad "$p to a file"
  "$AFDSIM" $run_args --json $p 2>"$tmp/err" | grep -q '"provenance"' && ok "$p to a pipe" || bad "$p to a pipe"
done
mkfifo fifo
timeout 120 cat fifo >from-fifo &
reader=$!
expect "fifo --json" 0 "" -- $run_args --json fifo
wait $reader
[ -p fifo ] && grep -q '"provenance"' from-fifo && ok "fifo --json: read through the FIFO" || bad "fifo --json"
timeout 120 cat fifo >from-fifo &
reader=$!
expect "fifo sweep -o" 0 "" -- sweep -q --batch 64,128 -o fifo
wait $reader
[ -p fifo ] && [ "$(wc -l <from-fifo)" -eq 2 ] && ok "fifo sweep -o: two lines" || bad "fifo sweep -o"
echo old >real.json
ln -s real.json lnk
expect "symlink --json" 0 "" -- $run_args --json lnk
[ -L lnk ] && grep -q '"provenance"' real.json && ok "symlink: link kept, target replaced" || bad "symlink"
ls | grep -q 'tmp-' && bad "temporary file left" || ok "no temporary file left"

# ---- point 3: one sweep per output ----
: >locked.jsonl
flock -x locked.jsonl sleep 60 &
holder=$!
i=0
while [ $i -lt 100 ] && ! grep -q FLOCK /proc/locks 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
expect sweep-locked 1 "another sweep (PID $holder) is writing this output" -- sweep -q --batch 64 -o locked.jsonl
[ -s locked.jsonl ] && bad "sweep-locked: wrote into the locked output" || ok "sweep-locked: output untouched"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- point 4: readers ----
expect routing-dev-zero 1 "/dev/zero: is a character device, not a regular file" -- $run_args --routing file:/dev/zero
timeout 30 "$AFDSIM" $run_args --routing file:fifo >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "fifo: is a FIFO, not a regular file" "$tmp/err" && ok "routing-fifo" || bad "routing-fifo"
truncate -s 300M big.json
expect oversized 1 "bytes for an input file" -- $run_args --routing file:big.json
awk 'BEGIN { printf "{\"strategy\": \"masep\""; for (i = 0; i < 200000; i++) printf ", \"k%d\": 1", i; print "}" }' >keys.json
timeout 60 "$AFDSIM" run -q keys.json >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "k0: unknown key" "$tmp/err" && ok "200000 keys refused" || bad "200000 keys"

# ---- point 5: the horizon ----
for set in gpu.peak_flop_per_s.bf16=1 gpu.launch_overhead_s=1e9 gpu.hbm_bandwidth_bytes_per_s=1; do
  rm -f h.jsonl
  expect "horizon $set" 1 "the simulated-time horizon (2^62 ns" -- sweep -q --strategy ep --ep 16 --set "$set" -o h.jsonl
done
rm -f h.jsonl
expect "horizon latency" 1 "latency_s must be within the simulated-time horizon" -- sweep -q --strategy ep --ep 16 --set cluster.generator.scale_out.latency_s=1e19 -o h.jsonl
# A faulted run's clock over its iterations: each iteration fits, 100 of them do not.
sed 's/"launch_overhead_s": [^,]*/"launch_overhead_s": 4e6/' "$top_srcdir/topologies/gpus/A100-SXM4-80GB.json" >g4.json
sed 's|"gpu": "A100-SXM4-80GB"|"gpu": "./g4.json"|' "$top_srcdir/topologies/clusters/a100-4x4-hdr.json" >c4.json
expect "horizon fault clock" 1 "ends at 4.636e+09 s, beyond the simulated-time horizon" -- run -q --cluster c4.json --strategy masep --attn-gpus 12 --moe-gpus 4 --fault straggler:1:2@iter1 --iterations 100
# The flow network's own times: 8 GiB all-reduced over 1 B/s links ends past the horizon;
# a run of a flow-network iteration whose flows do ends with the same message (no hang).
"$AFDSIM" gen-cluster --gpu H200 --nodes 2 --gpus-per-node 2 --nic-bandwidth 1 --scale-up-bandwidth 1 -o slow.json
expect "horizon flow collective" 1 "flow network: a flow's transfer of" -- collective --cluster slow.json --network flow --bytes 8G --op all-reduce
# 3 layers of hidden 40960 with tiny experts: each all-to-all moves GBs over 1 B/s links.
sed -e 's/"layers": 4/"layers": 3/' -e 's/"hidden_size": 4096/"hidden_size": 40960/' \
  -e 's/"expert_intermediate_size": 16384/"expert_intermediate_size": 64/' \
  "$top_srcdir/models/llm/masep-4l.json" >wide.json
expect "horizon flow run" 1 "flow network: a flow's transfer of" -- run -q --cluster slow.json --model wide.json --strategy ep --ep 4 --network flow --batch 65536 --context 1
rm -f h.jsonl
expect "sweep names the user's file" 1 "a100-4x4-hdr.json (with the point's --set cluster.* values)" -- sweep -q --set cluster.generator.nodes=0 -o h.jsonl
grep -q "afdsim-sweep-" h.jsonl "$tmp/err" && bad "a private temporary path in a message" || ok "no private temporary path"

# ---- point 6: values ----
printf '{"expert_tokens": [%s1e308]}\n' "$(printf '1e308, %.0s' $(seq 15))" >huge.json
printf '{"expert_tokens": [%s1]}\n' "$(printf '1, %.0s' $(seq 15))" >ones.json
"$AFDSIM" $run_args --routing file:huge.json --json huge.out 2>"$tmp/err" &&
  "$AFDSIM" $run_args --routing file:ones.json --json ones.out 2>>"$tmp/err" &&
  [ "$(grep '"tpot_s"' huge.out)" = "$(grep '"tpot_s"' ones.out)" ] &&
  ok "routing counts near DBL_MAX = equal counts" || bad "routing counts near DBL_MAX"
expect fault-flag-fraction 2 "FRACTION must be 0 < FRACTION < 1 (got -0.5)" -- $run_args --fault link:n0.nic0:-0.5
printf '{"strategy": "masep", "attn_gpus": 12, "moe_gpus": 4, "faults": [{"kind": "link", "link": "n0.nic0", "fraction": -0.5}]}\n' >f1.json
expect fault-json-fraction 1 "FRACTION must be 0 < FRACTION < 1 (got -0.5)" -- run -q f1.json
printf '{"strategy": "masep", "attn_gpus": 12, "moe_gpus": 4, "faults": [{"kind": "gpu", "gpu": 1, "factor": -7}]}\n' >f2.json
expect fault-json-gpu-factor 1 "faults[0].factor: not allowed for kind gpu" -- run -q f2.json
printf '{"strategy": "masep", "attn_gpus": 12, "moe_gpus": 4, "faults": [{"kind": "straggler", "gpu": 1, "factor": -2}]}\n' >f3.json
expect fault-json-straggler 1 "FACTOR must be 1 < FACTOR <= 1e6 (got -2; 1 would change nothing)" -- run -q f3.json
expect fault-flag-straggler 2 "FACTOR must be 1 < FACTOR <= 1e6 (got -2; 1 would change nothing)" -- $run_args --fault straggler:1:-2
expect context-0 2 "--context" -- $run_args --phase prefill --context 0
expect sweep-context-0 2 "--context" -- sweep -q --context 0 -o c.jsonl
sed 's/"bf16": [0-9.e+]*/"bf16": 5e-324/; s/"fp8": [0-9.e+]*/"fp8": 5e-324/' \
  "$top_srcdir/topologies/gpus/H800.json" >tiny.json
expect roofline-non-finite 1 "is not a finite number" -- roofline --model deepseek-v3 --gpu tiny.json

# ---- point 7: resume retries errors, signals, all or none ----
"$AFDSIM" sweep -q --batch 64,128 -o r.jsonl 2>"$tmp/err"
cp r.jsonl r.ref
sed '1s/"status":"ok"/"status":"error"/' r.ref >r.jsonl
"$AFDSIM" sweep --batch 64,128 -o r.jsonl >r.out 2>"$tmp/err"
cmp -s r.jsonl r.ref && grep -q "(0 resumed, 2 run" r.out && ok "resume retries an error point" || bad "resume retries an error point"
mkdir t
TMPDIR="$tmp/t" "$AFDSIM" sweep -q --batch 1..4000 -j 1 --set gpu.launch_overhead_s=1e-6 -o sig.jsonl >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 200 ] && [ -z "$(ls t)" ] && kill -0 $pid 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
if [ -n "$(ls t)" ]; then
  kill -TERM $pid
  wait $pid
  rc=$?
  [ $rc -eq 143 ] && [ -z "$(ls t)" ] && ok "SIGTERM removes the sweep's temporary folder" ||
    { ls -la t; bad "SIGTERM: exit $rc, temporary folder left"; }
else
  wait $pid
  echo "skip: the sweep ended before its temporary folder was seen"
fi
cat >two.json <<'EOF'
{"trace": "two-trace.json", "runs": [{"label": "good", "strategy": "masep", "attn_gpus": 12, "moe_gpus": 4},
                                     {"label": "bad", "strategy": "ep", "ep": 32}]}
EOF
"$AFDSIM" run -q two.json >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && [ -z "$(ls | grep '^two-trace')" ] && ok "a failed multi-run experiment writes no trace" ||
  bad "multi-run experiment left outputs: $(ls | grep '^two-trace')"

# ---- smaller ----
expect bytes-empty 2 "--bytes: empty" -- collective --bytes ''
expect nf-empty 2 "--nf: empty" -- roofline --model deepseek-v3 --gpu H800 --nf ''
expect sweep-space 2 "' 5'" -- sweep -q --batch ' 5' -o sp.jsonl
expect roofline-hardware-typo 1 "no such roofline hardware file" -- roofline --model deepseek-v3 --gpu H800 --hardware nowhere/x.json
grep -q "file file" "$tmp/err" && bad "'file file' in the message" || ok "no 'file file'"

echo "test-no-clobber: $n checks"
exit $fail
