#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""network-fidelity.py - predicted vs published nccl-tests bus bandwidth (docs/models/collectives.md).

Usage: tools/network-fidelity.py [AFDSIM]   (default: $AFDSIM or ./afdsim)

Runs `afdsim collective` in both fidelities for every published point below (clusters that are
not shipped are written with `afdsim gen-cluster`), prints the Markdown fidelity table with the
relative error of busbw, (predicted - published) / published, and the median absolute error.
Every row names its source; [MEAS] rows are measurements published in the cited thread,
[EST] rows are expectations derived from published per-NIC measurements and the maintainers'
rule for all-to-all (busbw = N/(N-1) x per-GPU NIC bandwidth, nccl-tests#130).
Calibrated parameters (topologies/gpus/*.json): nvlink_efficiency of A100 on row "DGX-A100 1x8
AR 4G" and of H100 on row "DGX-H100 1x8 AR 4G ring", nvls_efficiency of H100 on row "DGX-H100
1x8 AR 4G (NVLS)" (all three as hardware.md s1.3 states them); every other row is a test point.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

AFDSIM = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AFDSIM", "./afdsim")

# Clusters that are not shipped: gen-cluster arguments.
GENERATED = {
    "a100-2x8-4hdr": ["--gpu", "A100-SXM4-80GB", "--nodes", "2", "--nics-per-node", "4",
                      "--nic-bandwidth", "25e9", "--topology", "single-switch"],
    "h200-1x8": ["--gpu", "H200", "--nodes", "1", "--nics-per-node", "0", "--nvls", "yes"],
    "h20-1x8": ["--gpu", "H20", "--nodes", "1", "--nics-per-node", "0", "--nvls", "yes"],
    "h100-16x8": ["--gpu", "H100-SXM", "--nodes", "16", "--nic-bandwidth", "50e9", "--nvls", "yes"],
    "h100-6x8": ["--gpu", "H100-SXM", "--nodes", "6", "--nic-bandwidth", "50e9", "--nvls", "yes"],
}

G = 1 << 30
# (label, cluster, op, ranks, bytes, algo, published busbw GB/s or None, published time us or
#  None, kind, source, calibrated)
ROWS = [
    ("DGX-A100 1x8 AR 4G", "dgx-a100-x2", "all-reduce", 8, 4 * G, "auto", 232.54, None, "MEAS",
     "nccl-tests#175 (single node, 4 GiB)", True),
    ("DGX-A100 2x8 AR 4G", "dgx-a100-x2", "all-reduce", 16, 4 * G, "auto", 192.0, None, "MEAS",
     "nccl#812 (maintainer: 8x200Gb/s IB, 192 GB/s)", False),
    ("A100 2x8, 4 HDR/node, AR 4G", "a100-2x8-4hdr", "all-reduce", 16, 4 * G, "auto", 86.0, None,
     "MEAS", "nccl-tests#175 (two nodes, 4 x 200 Gb/s)", False),
    ("DGX-H100 1x8 AR 4G (NVLS)", "dgx-h100-x4", "all-reduce", 8, 4 * G, "auto", 480.0, None,
     "MEAS", "nccl-tests#212 (maintainer: peak ~480, algbw ~275)", True),
    ("DGX-H100 1x8 AR 4G ring", "dgx-h100-x4", "all-reduce", 8, 4 * G, "ring", 370.0, None,
     "MEAS", "nccl-tests#212 (maintainer: NCCL_ALGO=RING ~370)", True),
    ("HGX-H100 1x8 AR 2G ring", "dgx-h100-x4", "all-reduce", 8, 2 * G, "ring", None, 10100.0,
     "EST", "ASTRA-sim HGX-H100 validation plot, read off (hardware.md 5.3)", False),
    ("H200 1x8 AR 4G", "h200-1x8", "all-reduce", 8, 4 * G, "auto", 475.0, None, "MEAS",
     "nccl-tests#272 (8x H200, NCCL 2.20.3, peak)", False),
    ("H800 1x8 AR (NVLS) 4G", "h800-x40", "all-reduce", 8, 4 * G, "auto", 215.0, None, "MEAS",
     "nccl#1374 (8x H800, NVLS busbw 215)", False),
    ("H100 16x8 AR 1K", "h100-16x8", "all-reduce", 128, 1024, "auto", None, 73.73, "MEAS",
     "nccl#1469 (16 H100 nodes, NCCL 2.20.5)", False),
    ("H100 16x8 AR 2K", "h100-16x8", "all-reduce", 128, 2048, "auto", None, 76.84, "MEAS",
     "nccl#1469", False),
    ("H100 16x8 AR 4K", "h100-16x8", "all-reduce", 128, 4096, "auto", None, 76.61, "MEAS",
     "nccl#1469", False),
    ("H100 16x8 AR 64M", "h100-16x8", "all-reduce", 128, 64 << 20, "auto", 150.0, None, "MEAS",
     "nccl#1469 ('normal value like 150GB/s')", False),
    ("H20 1x8 AR 1K", "h20-1x8", "all-reduce", 8, 1024, "auto", None, 16.38, "MEAS",
     "DeepEP#303 (H20 intra-node all_reduce_perf)", False),
    ("H20 1x8 AR 2K", "h20-1x8", "all-reduce", 8, 2048, "auto", None, 16.49, "MEAS",
     "DeepEP#303", False),
    ("H20 1x8 AR 4K", "h20-1x8", "all-reduce", 8, 4096, "auto", None, 16.69, "MEAS",
     "DeepEP#303", False),
    ("DGX-A100 2x8 A2A 1G", "dgx-a100-x2", "all-to-all", 16, G, "auto", 2 * 24.0, None, "EST",
     "nccl-tests#130 rule x HDR 24 GB/s (nccl#412)", False),
    ("DGX-H100 2x8 A2A 1G", "dgx-h100-x4", "all-to-all", 16, G, "auto", 2 * 48.5, None, "EST",
     "nccl-tests#130 rule x NDR 48-49 GB/s (nccl-tests#267)", False),
    ("H100 6x8 A2A 1G", "h100-6x8", "all-to-all", 48, G, "auto", 6 / 5 * 48.5, None, "EST",
     "nccl-tests#130 rule, 6 nodes (nccl-tests#267: 'all numbers look good')", False),
    ("H800 8x8 A2A 8M", "h800-x40", "all-to-all", 64, 8 << 20, "auto", None, 337.8, "MEAS",
     "nccl#1531 (8 H800 nodes, first row)", False),
]


def bus_factor(op, n):
    if op == "all-reduce":
        return 2.0 * (n - 1) / n
    if op in ("all-gather", "reduce-scatter", "all-to-all"):
        return (n - 1) / n
    return 1.0


def main():
    tmp = tempfile.mkdtemp(prefix="afd-fidelity-")
    paths = {}
    for name, args in GENERATED.items():
        path = os.path.join(tmp, name + ".json")
        subprocess.run([AFDSIM, "gen-cluster", "--name", name, "-o", path] + args, check=True)
        paths[name] = path
    print("| row | published busbw (GB/s) | kind | analytic busbw (GB/s) | algo/proto | error | flow busbw (GB/s) | flow error | source |")
    print("|---|---:|---|---:|---|---:|---:|---:|---|")
    errors, test_errors, flow_errors = [], [], []
    for (label, cluster, op, ranks, size, algo, busbw, time_us, kind, source, calib) in ROWS:
        out = os.path.join(tmp, "row.json")
        subprocess.run([AFDSIM, "collective", "--cluster", paths.get(cluster, cluster), "--op", op,
                        "--ranks", str(ranks), "--bytes", str(size), "--algo", algo, "--json", out],
                       check=True, stdout=subprocess.DEVNULL)
        row = json.load(open(out))[0]
        subprocess.run([AFDSIM, "collective", "--cluster", paths.get(cluster, cluster), "--op", op,
                        "--ranks", str(ranks), "--bytes", str(size), "--algo", algo,
                        "--network", "flow", "--json", out],
                       check=True, stdout=subprocess.DEVNULL)
        frow = json.load(open(out))[0]
        if busbw is None:
            busbw = size / (time_us * 1e-6) * bus_factor(op, ranks) / 1e9
        pred = row["busbw_bytes_per_s"] / 1e9
        err = (pred - busbw) / busbw
        errors.append(abs(err))
        fpred = frow["busbw_bytes_per_s"] / 1e9
        ferr = (fpred - busbw) / busbw
        flow_errors.append(abs(ferr))
        if not calib:
            test_errors.append(abs(err))
        shown = ("%.2f" % busbw) if busbw >= 0.1 else ("%.4f" % busbw)
        pshown = ("%.2f" % pred) if pred >= 0.1 else ("%.4f" % pred)
        fshown = ("%.2f" % fpred) if fpred >= 0.1 else ("%.4f" % fpred)
        print("| %s%s | %s%s | %s | %s | %s/%s | %+.1f%% | %s | %+.1f%% | %s |" % (
            label, " (calibration)" if calib else "", shown,
            " (%.2f us)" % time_us if time_us else "", kind, pshown, row["algo"], row["proto"],
            100 * err, fshown, 100 * ferr, source))
    print()
    print("Median |error|, analytic: all %d rows %.1f%%; %d test rows (calibration rows excluded)"
          " %.1f%%. Flow: all rows %.1f%%." % (
              len(errors), 100 * statistics.median(errors), len(test_errors),
              100 * statistics.median(test_errors), 100 * statistics.median(flow_errors)))


if __name__ == "__main__":
    main()
