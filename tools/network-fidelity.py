#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""network-fidelity.py - predicted vs published nccl-tests bus bandwidth (docs/models/collectives.md).

Usage: tools/network-fidelity.py [--csv FILE] [--check PERCENT] [--check-flow PERCENT]
                                 [--check-matched PERCENT] [--check-beyond-floor PERCENT]
                                 [--check-model PERCENT] [--quiet] [AFDSIM]
       (AFDSIM default: $AFDSIM or ./afdsim; FILE default: tools/data/nccl-published.csv
       next to this script)

Reads the published points (one nccl-tests out-of-place row each, with its source URL), runs
`afdsim collective` in both fidelities (`--network analytic` and `--network flow`) once per
(cluster, op, ranks, algo) group with all its sizes, and prints the Markdown fidelity table:
every row with published and predicted busbw and the relative error (predicted - published) /
published, then the median |error| per (system, nodes, op) group, per fidelity, and overall.

Published busbw: when the row carries the nccl-tests time, busbw is recomputed from it
(S / t x bus factor, the nccl-tests definition) because the printed busbw has two decimals
(0.06 GB/s is +-8 %); otherwise the printed busbw is used.

Harness floor: a row measured in nccl-tests' single-process mode (gpus_per_process > 1: one
thread launches every rank) may carry harness_floor_us, the same run's median time over its
sizes below 1 KiB (where NCCL moves no data to speak of): the harness cannot run an iteration
faster, so such a row is compared with max(model time, floor) (collectives.md, "Harness"). The
table marks where the floor applied; the summary gives the medians with it, over the rows
whose published time is above the floor (more than 10 %), and of the model alone.

Tuning and held-out rows (column "split"): the rows were split once, before any further
model change (issue #17), by a rule fixed here (split_of): every row of one source sweep (same
source_url, system, nodes, GPUs, op, algo, gpus_per_process) gets the same split, "holdout" when
the first byte of SHA-256("afdsim-fidelity-split-1:" + those fields joined by "|") is below 128,
else "tuning"; calibration rows are always "tuning". The CSV records the split and every read
checks it against the rule, so a row cannot move. Model choices are made on the tuning rows;
the headline is the held-out rows' median with the model alone (no harness floor), the
floor-adjusted held-out median beside it, labelled. A new source's split follows the rule.

Rows with role "excluded" are shown but kept out of every median (their notes say why);
"calibration" rows are the measurements behind GPU-file parameters (kept in the medians, and
the medians without them are printed too). Clusters that are not shipped are written with
`afdsim gen-cluster` into a temporary directory.

--check PERCENT: print only the summary and exit 1 when the overall median |error| of the
analytic fidelity (afdsim's default, the issue #3 goal; all rows but the excluded ones) exceeds
PERCENT; --check-flow PERCENT: the same bound for the flow fidelity (tests/test-fidelity.sh uses
it as a regression bound); --check-matched PERCENT: the same for the analytic median over the
rows whose harness matches what the model describes (gpus_per_process 1 or not stated, i.e.
not nccl-tests' single-process `-g N` mode, where one thread launches N ranks in turn);
--check-beyond-floor PERCENT: the analytic median over the rows whose published time is more
than 10 % above their harness floor (every row without one: the rows that test NCCL's time, not
the harness's); --check-model PERCENT: the analytic median of the model
alone, no floor applied; --check-holdout-model PERCENT: the analytic median of the model
alone over the held-out rows (the headline); any other failure (afdsim, a bad CSV) exits 2.
"""
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Clusters that are not shipped: gen-cluster arguments.
GENERATED = {
    "a100-2x8-4hdr": ["--gpu", "A100-SXM4-80GB", "--nodes", "2", "--nics-per-node", "4",
                      "--nic-bandwidth", "25e9", "--topology", "single-switch"],
    "h200-1x8": ["--gpu", "H200", "--nodes", "1", "--nics-per-node", "0", "--nvls", "yes"],
    "h20-1x8": ["--gpu", "H20", "--nodes", "1", "--nics-per-node", "0", "--nvls", "yes"],
    "h100-16x8": ["--gpu", "H100-SXM", "--nodes", "16", "--nic-bandwidth", "50e9", "--nvls", "yes"],
    "h100-8x8": ["--gpu", "H100-SXM", "--nodes", "8", "--nic-bandwidth", "50e9", "--nvls", "yes"],
    "h100-6x8": ["--gpu", "H100-SXM", "--nodes", "6", "--nic-bandwidth", "50e9", "--nvls", "yes"],
}


def bus_factor(op, n):
    if op == "all-reduce":
        return 2.0 * (n - 1) / n
    if op in ("all-gather", "reduce-scatter", "all-to-all"):
        return (n - 1) / n
    return 1.0


# The seed of the tuning/held-out split (see the module docstring); never change it.
SPLIT_SEED = "afdsim-fidelity-split-1:"


def split_of(r):
    """The split the rule gives row r: "holdout" or "tuning" (calibration rows: tuning)."""
    if r["role"] == "calibration":
        return "tuning"
    key = "|".join(str(r[k]) for k in ("source_url", "system", "nodes", "gpus", "op", "algo",
                                       "gpus_per_process"))
    digest = hashlib.sha256((SPLIT_SEED + key).encode()).digest()
    return "holdout" if digest[0] < 128 else "tuning"


def read_rows(path):
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    rows = []
    for i, r in enumerate(csv.DictReader(lines), 1):
        r["nodes"] = int(r["nodes"])
        r["gpus"] = int(r["gpus"])
        r["bytes"] = int(r["bytes"])
        g = r.get("gpus_per_process") or ""
        if g and not (g.isdigit() and int(g) >= 1):
            raise ValueError("%s: row %d: gpus_per_process '%s' is not a positive integer "
                             "(or empty: not stated)" % (path, i, g))
        r["single_process"] = bool(g) and int(g) > 1
        h = r.get("harness_floor_us") or ""
        try:
            r["floor_s"] = float(h) * 1e-6 if h else None
        except ValueError:
            r["floor_s"] = -1.0
        if r["floor_s"] is not None and not r["floor_s"] > 0:
            raise ValueError("%s: row %d: harness_floor_us '%s' is not a positive number of "
                             "microseconds (or empty: none)" % (path, i, h))
        if r["floor_s"] is not None and not r["single_process"]:
            raise ValueError("%s: row %d: harness_floor_us is for single-process runs "
                             "(gpus_per_process > 1); a per-GPU-process run's small-size time "
                             "is NCCL's own latency, which the model must predict" % (path, i))
        want = split_of({k: (r.get(k) or "") for k in ("source_url", "system", "nodes", "gpus",
                                                        "op", "algo", "gpus_per_process",
                                                        "role")})
        if r.get("split") != want:
            raise ValueError("%s: row %d: split '%s' is not what the rule gives (%s; "
                             "tools/network-fidelity.py, split_of)" % (path, i, r.get("split"),
                                                                       want))
        if r["time_us"]:
            r["published"] = (r["bytes"] / (float(r["time_us"]) * 1e-6)
                              * bus_factor(r["op"], r["gpus"]) / 1e9)
        else:
            r["published"] = float(r["busbw_GBps"])
        rows.append(r)
    if not any(r["role"] != "excluded" for r in rows):
        raise ValueError("%s: no rows to compare" % path)
    return rows


def run_group(afdsim, cluster, op, ranks, algo, sizes, network, tmp):
    out = os.path.join(tmp, "rows.json")
    subprocess.run([afdsim, "collective", "--cluster", cluster, "--op", op, "--ranks", str(ranks),
                    "--bytes", ",".join(str(s) for s in sizes), "--algo", algo,
                    "--network", network, "--json", out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return {row["bytes"]: row for row in json.load(f)}


def at_floor(r):
    """True when the row's published time is within 10 % of its run's harness floor."""
    if r["floor_s"] is None:
        return False
    t = r["bytes"] * bus_factor(r["op"], r["gpus"]) / (r["published"] * 1e9)
    return t <= 1.1 * r["floor_s"]


def fmt(x):
    return ("%.2f" % x) if x >= 0.1 else ("%.4f" % x)


# The --check options and the median each bounds.
CHECKS = {"--check": "analytic", "--check-flow": "flow",
          "--check-matched": "analytic, one process per GPU",
          "--check-model": "analytic, NCCL model alone",
          "--check-beyond-floor": "analytic, rows above their harness floor",
          "--check-holdout-model": "analytic, held-out rows, NCCL model alone"}


def median_pct(values):
    return 100 * statistics.median(values) if values else float("nan")


def main():
    args = sys.argv[1:]
    csv_path = os.path.join(HERE, "data", "nccl-published.csv")
    # --check-NAME PERCENT: the bound on one median (printed with its name at the end)
    checks = {}
    quiet = False
    afdsim = os.environ.get("AFDSIM", "./afdsim")
    while args:
        a = args.pop(0)
        if (a == "--csv" or a in CHECKS) and not args:
            raise ValueError("%s needs a value" % a)
        if a == "--csv":
            csv_path = args.pop(0)
        elif a in CHECKS:
            checks[CHECKS[a]] = float(args.pop(0))
            quiet = True
        elif a == "--quiet":
            quiet = True
        else:
            afdsim = a
    rows = read_rows(csv_path)
    with tempfile.TemporaryDirectory(prefix="afd-fidelity-") as tmp:
        paths = {}
        for name in sorted({r["cluster"] for r in rows}):
            if name in GENERATED:
                path = os.path.join(tmp, name + ".json")
                subprocess.run([afdsim, "gen-cluster", "--name", name, "-o", path]
                               + GENERATED[name], check=True, stdout=subprocess.DEVNULL)
                paths[name] = path
        groups = {}
        for r in rows:
            groups.setdefault((r["cluster"], r["op"], r["gpus"], r["algo"]), set()).add(r["bytes"])
        results = {}
        for (cluster, op, ranks, algo), sizes in sorted(groups.items()):
            for network in ("analytic", "flow"):
                got = run_group(afdsim, paths.get(cluster, cluster), op, ranks, algo,
                                sorted(sizes), network, tmp)
                for size, row in got.items():
                    results[(cluster, op, ranks, algo, size, network)] = row

    for r in rows:
        key = (r["cluster"], r["op"], r["gpus"], r["algo"], r["bytes"])
        r["analytic"] = results[key + ("analytic",)]
        r["flow"] = results[key + ("flow",)]
        for net in ("analytic", "flow"):
            pred = r[net]["busbw_bytes_per_s"] / 1e9
            r[net + "_model_err"] = (pred - r["published"]) / r["published"]
            r[net + "_floored"] = False
            if r["floor_s"] is not None and r[net]["time_s"] < r["floor_s"]:
                # the same run's harness cannot go below its own small-size time
                pred *= r[net]["time_s"] / r["floor_s"]
                r[net + "_floored"] = True
            r[net + "_pred"] = pred
            r[net + "_err"] = (pred - r["published"]) / r["published"]

    if not quiet:
        print("| # | system | nodes x GPUs | op | size (B) | published busbw (GB/s) | analytic (GB/s) "
              "| algo/proto | error | flow (GB/s) | flow error | harness floor (us) | role | source |")
        print("|---:|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|")
        for i, r in enumerate(rows, 1):
            src = r["source_url"].replace("https://github.com/", "")
            pub = fmt(r["published"]) + (" (%s us)" % r["time_us"] if r["time_us"] else "")
            floor = ""
            if r["floor_s"] is not None:
                floor = r["harness_floor_us"] + (" (applied)" if r["analytic_floored"]
                                                 else "")
            print("| %d | %s | %dx%d | %s%s | %d | %s | %s | %s/%s | %+.1f%% | %s | %+.1f%% | %s | %s%s | [%s](%s) |" % (
                i, r["system"], r["nodes"], r["gpus"] // r["nodes"], r["op"],
                "" if r["algo"] == "auto" else " (" + r["algo"] + ")", r["bytes"], pub,
                fmt(r["analytic_pred"]), r["analytic"]["algo"], r["analytic"]["proto"],
                100 * r["analytic_err"], fmt(r["flow_pred"]), 100 * r["flow_err"], floor,
                r["role"], "" if r["kind"] == "MEAS" else " " + r["kind"], src,
                r["source_url"]))
        print()

    used = [r for r in rows if r["role"] != "excluded"]
    held = [r for r in used if r["split"] == "holdout"]
    tuning = [r for r in used if r["split"] == "tuning"]
    holdout_model_a = median_pct([abs(r["analytic_model_err"]) for r in held])
    print("| headline: held-out rows (out of sample) | rows | median abs. error, analytic | "
          "median abs. error, flow |")
    print("|---|---:|---:|---:|")
    print("| **held-out rows, the NCCL model alone** | %d | **%.2f %%** | **%.2f %%** |" % (
        len(held), holdout_model_a, median_pct([abs(r["flow_model_err"]) for r in held])))
    print("| held-out rows, floor-adjusted (single-process rows vs max(model, harness floor)) "
          "| %d | %.2f %% | %.2f %% |" % (
              len(held), median_pct([abs(r["analytic_err"]) for r in held]),
              median_pct([abs(r["flow_err"]) for r in held])))
    print("| tuning rows (in sample), the NCCL model alone | %d | %.2f %% | %.2f %% |" % (
        len(tuning), median_pct([abs(r["analytic_model_err"]) for r in tuning]),
        median_pct([abs(r["flow_model_err"]) for r in tuning])))
    print("| tuning rows (in sample), floor-adjusted | %d | %.2f %% | %.2f %% |" % (
        len(tuning), median_pct([abs(r["analytic_err"]) for r in tuning]),
        median_pct([abs(r["flow_err"]) for r in tuning])))
    print()
    print("| group (system, nodes, op) | rows | median abs. error, analytic | median abs. error, flow |")
    print("|---|---:|---:|---:|")
    seen = []
    for r in used:
        g = (r["system"], r["nodes"], r["op"])
        if g not in seen:
            seen.append(g)
    for g in seen:
        sel = [r for r in used if (r["system"], r["nodes"], r["op"]) == g]
        print("| %s, %d node%s, %s | %d | %.2f %% | %.2f %% |" % (
            g[0], g[1], "" if g[1] == 1 else "s", g[2], len(sel),
            median_pct([abs(r["analytic_err"]) for r in sel]),
            median_pct([abs(r["flow_err"]) for r in sel])))
    tests = [r for r in used if r["role"] == "test"]
    overall_a = median_pct([abs(r["analytic_err"]) for r in used])
    overall_f = median_pct([abs(r["flow_err"]) for r in used])
    print("| **all rows but the excluded** | %d | **%.2f %%** | **%.2f %%** |" % (
        len(used), overall_a, overall_f))
    print("| test rows only (calibration rows left out) | %d | %.2f %% | %.2f %% |" % (
        len(tests), median_pct([abs(r["analytic_err"]) for r in tests]),
        median_pct([abs(r["flow_err"]) for r in tests])))
    matched = [r for r in used if not r["single_process"]]
    single = [r for r in used if r["single_process"]]
    matched_a = median_pct([abs(r["analytic_err"]) for r in matched])
    print("| rows measured one process per GPU (or not stated) | %d | %.2f %% | %.2f %% |" % (
        len(matched), matched_a, median_pct([abs(r["flow_err"]) for r in matched])))
    print("| rows measured single-process (`-g N`: one thread launches N ranks) | %d | %.2f %% "
          "| %.2f %% |" % (len(single), median_pct([abs(r["analytic_err"]) for r in single]),
                          median_pct([abs(r["flow_err"]) for r in single])))
    # Rows whose published time is the harness floor itself (within 10 %): there the
    # comparison only confirms that the model's time is below the floor.
    beyond = [r for r in used if not at_floor(r)]
    beyond_a = median_pct([abs(r["analytic_err"]) for r in beyond])
    print("| rows above their harness floor (published time > 1.1 x floor; every row without "
          "one) | %d | %.2f %% | %.2f %% |" % (
              len(beyond), beyond_a, median_pct([abs(r["flow_err"]) for r in beyond])))
    model_a = median_pct([abs(r["analytic_model_err"]) for r in used])
    print("| all rows, the NCCL model alone (no harness floor) | %d | %.2f %% | %.2f %% |" % (
        len(used), model_a, median_pct([abs(r["flow_model_err"]) for r in used])))
    print("| excluded rows (not in any median) | %d | | |" % (len(rows) - len(used)))
    failed = False
    medians = {"analytic": overall_a, "flow": overall_f, "analytic, one process per GPU": matched_a,
               "analytic, NCCL model alone": model_a,
               "analytic, rows above their harness floor": beyond_a,
               "analytic, held-out rows, NCCL model alone": holdout_model_a}
    for name, value in medians.items():
        bound = checks.get(name)
        if bound is None:
            continue
        if value > bound:
            print("FAIL: median |error| %s %.2f %% > %.1f %%" % (name, value, bound))
            failed = True
        else:
            print("ok: median |error| %s %.2f %% <= %.1f %%" % (name, value, bound))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as e:
        # Anything but a median above --check: exit 2 (tests/test-fidelity.sh: hard error).
        print("network-fidelity.py: %s" % e, file=sys.stderr)
        sys.exit(2)
