#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nccl-probe-compare.py - afdsim's analytic collective model against nccl-probe measurements.

Usage: tools/nccl-probe-compare.py [--cluster NAME] DIR [AFDSIM]
       (cluster default h200-1x4; AFDSIM default $AFDSIM or ./afdsim)

Reads DIR/harness-OP-threads-gG-rR.tsv (tools/nccl-probe-sweep.sh's one-thread-per-GPU runs:
nccl-tests' timing, as one process per GPU), takes the median time over the repeats R of each
size from 1 KiB, runs `afdsim collective --network analytic` for the same op, ranks and sizes
on the cluster (all-reduce forced to ring: the probe runs with NCCL_NVLS_ENABLE=0), and prints
a Markdown table of measured and modelled time and busbw with the relative busbw error
(modelled - measured) / measured, then the median |error| per op and overall.
"""
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile


def read_probe(path):
    rows = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            try:
                size, t = int(c[3]), float(c[4]) * 1e-6
            except (IndexError, ValueError):
                size, t = -1, 0.0
            if len(c) != 6 or size < 0 or not t >= 0:
                raise ValueError("%s: line %d: not a nccl-probe row (mode, gpus, op, bytes, "
                                 "time_us, busbw): %r" % (path, n, line.rstrip("\n")))
            rows[size] = t
    return rows


def main():
    args = sys.argv[1:]
    cluster = "h200-1x4"
    if args[:1] == ["--cluster"]:
        if len(args) < 2:
            raise ValueError("--cluster needs a value")
        cluster = args[1]
        args = args[2:]
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    folder = args[0]
    afdsim = args[1] if len(args) > 1 else os.environ.get("AFDSIM", "./afdsim")
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "harness-*-threads-g*-r*.tsv"))):
        m = re.search(r"harness-(.+)-threads-g(\d+)-r\d+\.tsv$", path)
        if m is None:
            raise ValueError("%s: not named harness-OP-threads-gG-rR.tsv" % path)
        runs.setdefault((m.group(1), int(m.group(2))), []).append(read_probe(path))
    if not runs:
        raise ValueError("%s: no harness-OP-threads-gG-rR.tsv files" % folder)
    print("| op | GPUs | size (B) | measured (us) | model (us) | measured busbw (GB/s) "
          "| model busbw (GB/s) | error |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    errors = {}
    with tempfile.TemporaryDirectory(prefix="afd-probe-") as tmp:
        for (op, gpus), reps in sorted(runs.items()):
            sizes = sorted(s for s in reps[0] if s >= 1024 and all(s in r for r in reps))
            out = os.path.join(tmp, "rows.json")
            subprocess.run([afdsim, "collective", "--cluster", cluster, "--op", op,
                            "--ranks", str(gpus), "--bytes", ",".join(map(str, sizes)),
                            "--algo", "ring" if op == "all-reduce" else "auto",
                            "--network", "analytic", "--json", out],
                           check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                model = {row["bytes"]: row for row in json.load(f)}
            factor = 2.0 * (gpus - 1) / gpus if op == "all-reduce" else (gpus - 1) / gpus
            for s in sizes:
                t = statistics.median(r[s] for r in reps)
                bw = s / t * factor / 1e9
                mbw = model[s]["busbw_bytes_per_s"] / 1e9
                err = (mbw - bw) / bw
                errors.setdefault(op, []).append(abs(err))
                print("| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %+.1f%% |" % (
                    op, gpus, s, t * 1e6, model[s]["time_s"] * 1e6, bw, mbw, 100 * err))
    print()
    for op, e in sorted(errors.items()):
        print("median |error| %s: %.1f %% (%d sizes)" % (op, 100 * statistics.median(e), len(e)))
    every = [x for e in errors.values() for x in e]
    print("median |error| all: %.1f %% (%d sizes)" % (100 * statistics.median(every), len(every)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as e:
        print("nccl-probe-compare.py: %s" % e, file=sys.stderr)
        sys.exit(2)
