#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""grouped-gemm-compare.py - the analytic grouped expert GEMM model (backends/analytic.c,
docs/models/roofline.md) against grouped GEMMs measured as fused MoE kernels run them
(tools/grouped-gemm-probe.py's TSV: one torch._grouped_mm / _scaled_grouped_mm launch over
all local experts), and a fit of the GPU file's efficiency.grouped_gemm block to them.

Usage: grouped-gemm-compare.py AFDSIM GPU.json MEASURED.tsv [--fit] [--write OUT.json]

Every row is priced with `AFDSIM cost grouped-gemm --gpu G --experts E --tokens LIST --n N
--k K --dtype D --json -` with the row's own per-expert counts (balanced or Zipf). The fit
is a coordinate search of (max_fraction_bf16, max_fraction_fp8, stream_fraction,
stream_fraction_fp8) on a grid
of 0.01 minimising the median |ln(model / measured)| over the balanced rows; the Zipf rows
(same totals, skewed) are not fitted and report how skew is priced. Prints the median and
90th-percentile |error| per dtype and distribution, before and after.
"""
import json, math, os, subprocess, sys, tempfile


def counts_for(E, total, dist):
    if dist == "balanced":
        return [total // E] * E
    w = [1.0 / (i + 1) for i in range(E)]
    s = sum(w)
    c = [int(total * x / s) for x in w]
    i = 0
    while sum(c) < total:
        c[i % E] += 1
        i += 1
    return c


def load(path):
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for n, line in enumerate(f, 2):
            v = dict(zip(head, line.rstrip("\n").split("\t")))
            try:
                rows.append(dict(shape=v["shape"], dtype=v["dtype"], E=int(v["experts"]),
                                 n=int(v["n"]), k=int(v["k"]), T=int(v["tokens"]),
                                 dist=v["dist"], t=float(v["median_s"])))
            except (KeyError, ValueError) as e:
                sys.exit(f"{path}:{n}: bad row ({e})")
    return rows


def price(afdsim, gpu_path, r, tmpdir):
    c = counts_for(r["E"], r["T"], r["dist"])
    js = os.path.join(tmpdir, "cost.json")
    out = subprocess.run([afdsim, "cost", "grouped-gemm", "--gpu", gpu_path, "--experts",
                          str(r["E"]), "--tokens", ",".join(map(str, c)), "--n", str(r["n"]),
                          "--k", str(r["k"]), "--dtype", r["dtype"], "--json", js],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"afdsim cost failed for {r}: {out.stderr.strip()}")
    with open(js) as f:
        return json.load(f)["time_s"]


def errors(afdsim, gpu, rows):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gpu.json")
        with open(path, "w") as f:
            json.dump(gpu, f)
        return [price(afdsim, path, r, d) / r["t"] - 1 for r in rows]


def med(xs):
    xs = sorted(abs(x) for x in xs)
    return xs[len(xs) // 2] if xs else float("nan")


def p90(xs):
    xs = sorted(abs(x) for x in xs)
    return xs[min(len(xs) - 1, math.ceil(0.9 * len(xs)) - 1)] if xs else float("nan")


def report(label, rows, errs):
    print(label)
    for d in ("bf16", "fp8"):
        for dist in ("balanced", "zipf1"):
            e = [x for r, x in zip(rows, errs) if r["dtype"] == d and r["dist"] == dist]
            sgn = sorted(e)[len(e) // 2] if e else float("nan")
            print(f"  {d:5s} {dist:9s} rows {len(e):3d}  median |err| {100*med(e):5.1f} %  "
                  f"p90 {100*p90(e):5.1f} %  median signed {100*sgn:+5.1f} %")


def main():
    a = sys.argv[1:]
    if len(a) < 3:
        sys.exit(__doc__)
    afdsim, gpu_path, tsv = a[:3]
    fit = "--fit" in a
    out = a[a.index("--write") + 1] if "--write" in a else None
    with open(gpu_path) as f:
        gpu = json.load(f)
    rows = load(tsv)
    report("model as in " + gpu_path, rows, errors(afdsim, gpu, rows))
    if not fit:
        return
    bal = [r for r in rows if r["dist"] == "balanced"]
    g = gpu["efficiency"].setdefault("grouped_gemm", {"max_fraction_bf16": 0.65,
                                                      "max_fraction_fp8": 0.5,
                                                      "stream_fraction": 0.58})
    def cost(gg):
        gpu["efficiency"]["grouped_gemm"] = gg
        return med([math.log1p(x) for x in errors(afdsim, gpu, bal)])
    best = dict(g)
    best.setdefault("stream_fraction_fp8", best["stream_fraction"])
    best_j = cost(best)
    for _ in range(3):
        for key in ("stream_fraction", "stream_fraction_fp8", "max_fraction_bf16",
                    "max_fraction_fp8"):
            for step in (0.08, 0.04, 0.02, 0.01):
                for sgn in (-1, 1):
                    while True:
                        cand = dict(best)
                        cand[key] = round(min(1.0, max(0.05, cand[key] + sgn * step)), 4)
                        if cand[key] == best[key]:
                            break
                        j = cost(cand)
                        if j < best_j - 1e-12:
                            best, best_j = cand, j
                        else:
                            break
    gpu["efficiency"]["grouped_gemm"] = best
    print("fitted grouped_gemm:", json.dumps(best))
    report("model after the fit", rows, errors(afdsim, gpu, rows))
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(gpu, f, indent=2)
            f.write("\n")
        os.replace(tmp, out)


if __name__ == "__main__":
    main()
