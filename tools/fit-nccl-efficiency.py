#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fit-nccl-efficiency.py - the one-host NVLink ring efficiency per GPU count and the socket
transport's multi-connection bandwidth, fitted from the project's own device measurements
(docs/models/collectives.md, "NVLink efficiency per GPU count").

Usage: tools/fit-nccl-efficiency.py [--check AFDSIM] [DATA_DIR]
       (DATA_DIR: the source tree's top, default .)

1. NVLink: for each GPU count n of topologies/profiles/H200.json's intra-node all_reduce
   tables (NVIDIA H200, NCCL 2.28.3, NVLS off), a relative least-squares alpha-beta fit
       t(S) = alpha + 2(n-1)/n * S / B_n,   minimising sum ((t_model - t) / t)^2
   over the sizes >= 64 MiB (bandwidth-bound; NCCL's ring on NVLink), and
       nvlink_efficiency(n) = B_n / nvlink_bandwidth_bytes_per_s (topologies/gpus/H200.json).
   The 2-GPU value is cross-checked against tools/data/nccl-probe/h200x2-nccl2.28.3 (the same
   fit on the probe's one-thread-per-GPU ring all-reduces, median over its repeats).
2. Socket: the same fit, t = alpha + (n-1)/n * S / B, on the ring collectives all_gather and
   reduce_scatter of topologies/profiles/H200-2x2-loopback.json (4 ranks over 2 groups of
   NET/Socket), sizes >= 1 MiB, both ops in one fit: B is the bandwidth a multi-connection
   ring reaches across the groups, against the single-connection send/recv (same fit on
   send_recv, t = alpha + S / B).

With --check AFDSIM, runs `AFDSIM collective --cluster h200-1x4 --ranks n --op OP --algo ring`
for the profile's all-reduce, all-gather and reduce-scatter sizes at n = 2 and 4 and prints
the median |error| of the modelled time against the profile's medians (sizes >= 4 MiB, and
all sizes), for the GPU file as it is.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile


def fit_alpha_beta(points, factor):
    """Relative least squares of t = a + factor*S*x over (S, t); returns (a, 1/x)."""
    # minimise sum ((a + factor*S*x - t)/t)^2: linear in (a, x) with rows (1/t, factor*S/t).
    s11 = s12 = s22 = b1 = b2 = 0.0
    for size, t in points:
        u, v = 1.0 / t, factor * size / t
        s11 += u * u
        s12 += u * v
        s22 += v * v
        b1 += u
        b2 += v
    det = s11 * s22 - s12 * s12
    a = (b1 * s22 - b2 * s12) / det
    x = (s11 * b2 - s12 * b1) / det
    return a, 1.0 / x


def table(profile, op, gpus, tier):
    for c in profile["collectives"]:
        if c["op"] == op and c["gpus"] == gpus and c["tier"] == tier:
            return [(p["size_bytes"], p["time_median_s"]) for p in c["points"]]
    raise SystemExit("no %s table for %d GPUs (%s)" % (op, gpus, tier))


def probe_all_reduce(directory):
    runs = {}
    for r in (1, 2, 3):
        path = os.path.join(directory, "harness-all-reduce-threads-g2-r%d.tsv" % r)
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                c = line.rstrip("\n").split("\t")
                runs.setdefault(int(c[3]), []).append(float(c[4]) * 1e-6)
    return [(s, statistics.median(t)) for s, t in sorted(runs.items()) if s > 0]


def main(argv):
    check = None
    if len(argv) >= 2 and argv[0] == "--check":
        check, argv = argv[1], argv[2:]
    top = argv[0] if argv else "."
    load = lambda rel: json.load(open(os.path.join(top, rel)))
    prof = load("topologies/profiles/H200.json")
    gpu = load("topologies/gpus/H200.json")
    line = gpu["nvlink_bandwidth_bytes_per_s"]
    print("NVLink ring all-reduce, topologies/profiles/H200.json, sizes >= 64 MiB:")
    print("| GPUs | alpha (us) | B = busbw (GB/s) | nvlink_efficiency |")
    print("|---:|---:|---:|---:|")
    for n in (2, 4):
        pts = [(s, t) for s, t in table(prof, "all_reduce", n, "intra_node") if s >= 64 << 20]
        a, b = fit_alpha_beta(pts, 2.0 * (n - 1) / n)
        print("| %d | %.1f | %.1f | %.4f |" % (n, a * 1e6, b / 1e9, b / line))
    pts = [(s, t) for s, t in probe_all_reduce(
        os.path.join(top, "tools/data/nccl-probe/h200x2-nccl2.28.3")) if s >= 64 << 20]
    a, b = fit_alpha_beta(pts, 1.0)
    print("| 2 (nccl-probe, cross-check) | %.1f | %.1f | %.4f |" % (a * 1e6, b / 1e9, b / line))

    loop = load("topologies/profiles/H200-2x2-loopback.json")
    ring = [(s, t) for op in ("all_gather", "reduce_scatter")
            for s, t in table(loop, op, 4, "inter_node") if s >= 1 << 20]
    a, b = fit_alpha_beta(ring, 3.0 / 4.0)
    sr = [(s, t) for s, t in table(loop, "send_recv", 4, "inter_node") if s >= 1 << 20]
    a1, b1 = fit_alpha_beta(sr, 1.0)
    print("\nSocket transport, topologies/profiles/H200-2x2-loopback.json, sizes >= 1 MiB:")
    print("| transfers | alpha (us) | B (GB/s) |")
    print("|---|---:|---:|")
    print("| ring all-gather + reduce-scatter (several connections) | %.1f | %.3f |"
          % (a * 1e6, b / 1e9))
    print("| send/recv (one connection) | %.1f | %.3f |" % (a1 * 1e6, b1 / 1e9))
    print("| ratio | | %.2f |" % (b / b1))

    if check is None:
        return 0
    print("\nModel (%s collective --cluster h200-1x4 --algo ring) vs the profile:" % check)
    print("| GPUs | op | median abs. error, >= 4 MiB | all sizes |")
    print("|---:|---|---:|---:|")
    names = {"all_reduce": "all-reduce", "all_gather": "all-gather",
             "reduce_scatter": "reduce-scatter"}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (2, 4):
            for op, cli in names.items():
                pts = table(prof, op, n, "intra_node")
                out = os.path.join(tmp, "c.json")
                subprocess.run([check, "collective", "--cluster", "h200-1x4", "--ranks", str(n),
                                "--op", cli, "--algo", "ring", "--bytes",
                                ",".join(str(s) for s, _ in pts), "--json", out],
                               check=True, stdout=subprocess.DEVNULL)
                rows = json.load(open(out))
                rows = rows["rows"] if isinstance(rows, dict) else rows
                model = {int(r["bytes"]): r["time_s"] for r in rows}
                err = [(model[s] - t) / t for s, t in pts]
                big = [abs(e) for (s, _), e in zip(pts, err) if s >= 4 << 20]
                print("| %d | %s | %.1f %% | %.1f %% |" % (
                    n, cli, 100 * statistics.median(big),
                    100 * statistics.median([abs(e) for e in err])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
