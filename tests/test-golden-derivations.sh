#!/bin/sh
# SPDX-License-Identifier: MIT
# test-golden-derivations.sh - each golden experiment's README derives at least one of its
# headline numbers by hand (section "Checked by hand"); this test recomputes those numbers
# from the formulas and the GPU and model files alone (not from afdsim's code) and compares
# them with expected/ — so a golden file is more than a re-recording.
# The decode attention core (docs/models/operators.md) reads, per GPU and layer, the KV of its
# heads for every sequence and key: keys = sequences·(context + 1), bytes =
# keys·2·heads·d·2 + the queries, outputs and appended KV of the new tokens; it is
# memory-bound on these shapes, t = launch + bytes / (HBM bandwidth · memory_fraction).
# Exit 1: a number differs; 77: no python3.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
python3 - "$top" <<'PY'
import json, sys
top = sys.argv[1]
gpu = json.load(open(top + "/topologies/gpus/A100-SXM4-80GB.json"))
model = json.load(open(top + "/models/llm/masep-4l.json"))
bw = gpu["hbm_bandwidth_bytes_per_s"] * gpu["efficiency"]["memory_fraction"]
launch = gpu["launch_overhead_s"]
heads = model["attention"]["heads"]
d = model["hidden_size"] // heads  # head_dim 128 (the model file's default: H / heads)
a = 2  # bf16 activations and KV
fail = 0


def attention_decode_s(seqs, heads, context):
    keys = seqs * (context + 1)
    kv_per_token = 2 * heads * d            # K and V of the GPU's heads
    read = keys * kv_per_token * a + seqs * heads * d * a
    written = seqs * heads * d * a + seqs * kv_per_token * a
    return launch + (read + written) / bw


def op_seconds(summary, label, name):
    run = [r for r in summary["runs"] if r["label"] == label][0]
    return [o["seconds"] for o in run["critical_path"]["ops"] if o["name"] == name][0]


def check(what, got, want, rel=1e-9, ops=0):
    """got (expected/) against want (by hand): within rel, plus 1 ns per op (afdsim rounds
    every op's time to whole nanoseconds)."""
    global fail
    ok = abs(got - want) <= rel * abs(want) + ops * 1e-9
    print("%s: %s: expected/ %.9g, by hand %.9g" % ("ok" if ok else "FAIL", what, got, want))
    fail |= not ok


layers = model["layers"]

# seeds-headline: MA Separation 12:4 splits 32 heads over 12 GPUs (8 GPUs of 3, 4 of 2); the
# critical path runs through a 3-head GPU: 4 layers × attention over 1024 sequences, context 2048.
s = json.load(open(top + "/experiments/seeds-headline/expected/summary.json"))
check("seeds-headline masep-12x4 attention_decode (4 layers, 3 heads)",
      op_seconds(s, "masep-12x4", "attention_decode"), layers * attention_decode_s(1024, 3, 2048),
      ops=layers)
# ... and the KV cache one step reads: 1024 × 2049 keys × 4 layers × 2 × 4096 × 2 B = 137.5 GB.
kv_total = 1024 * 2049 * layers * 2 * heads * d * a
check("seeds-headline KV bytes per step (README: 137 GB)", 137.5e9, kv_total, rel=0.001)

# faults-masep: with attention_redundancy 2 each replica set has 6 GPUs, 32 heads -> 6 on the
# first two; the healthy iteration's attention is twice the 3-head one.
f = json.load(open(top + "/experiments/faults-masep/expected/summary.json"))
check("faults-masep masep-12x4-r2 attention_decode (4 layers, 6 heads)",
      op_seconds(f, "masep-12x4-r2", "attention_decode"), layers * attention_decode_s(1024, 6, 2048),
      ops=layers)
check("faults-masep masep-12x4 attention_decode = seeds-headline's",
      op_seconds(f, "masep-12x4", "attention_decode"), layers * attention_decode_s(1024, 3, 2048),
      ops=layers)

# strategies-flow-small: EP16 gives each GPU 256/16 = 16 sequences with all 32 heads, in 2
# micro-batches of 8: 8 attention ops (2 micro-batches × 4 layers) at context 1024.
g = json.load(open(top + "/experiments/strategies-flow-small/expected/summary.json"))
check("strategies-flow-small ep16-two-stage attention_decode (8 ops of 8 sequences)",
      op_seconds(g, "ep16-two-stage", "attention_decode"), 8 * attention_decode_s(8, 32, 1024),
      ops=8)

# seeds-ratio-sweep: MA Separation k:(16−k) is feasible exactly when m = 16 − k divides the
# 16 experts (k = 8, 12, 14, 15), and every ok line has tokens/s = 1024 / TPOT and per GPU / 16.
rows = [json.loads(line) for line in open(top + "/experiments/seeds-ratio-sweep/expected/sweep.jsonl")]
for r in rows:
    c = r["config"]
    if c["strategy"] == "masep":
        m = c["options"]["moe_gpus"]
        want = "ok" if model["moe"]["routed_experts"] % m == 0 else "infeasible"
        if r["status"] != want:
            print("FAIL: seeds-ratio-sweep %s: status %s, by the rule %s" % (c["label"], r["status"], want))
            fail = 1
    if r["status"] == "ok":
        check("seeds-ratio-sweep %s tokens/s = 1024 / TPOT" % c["label"], r["tokens_per_s"],
              1024 / r["tpot_s"], rel=1e-9)
        check("seeds-ratio-sweep %s tokens/s per GPU = tokens/s / 16" % c["label"],
              r["tokens_per_s_per_gpu"], r["tokens_per_s"] / 16, rel=1e-9)
sys.exit(1 if fail else 0)
PY
