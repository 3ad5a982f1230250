#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-GPU busy / communication / idle time of each run of a summary JSON.

  plot_gpus.py SUMMARY.json OUT.png

Reads the summary `afdsim run --json` writes (docs/user/output-format.md): for every run, one
panel (all on one time scale) with a stacked bar per GPU, in milliseconds, labelled with the
GPU's id and role: compute busy (busy_s),
communication not hidden behind compute (iteration - busy_s - idle_s) and idle (idle_s) add up
to the iteration; a black tick marks the GPU's total transfer time comm_s (overlapped or not).
Needs Python 3 and matplotlib (Debian: python3-matplotlib); writes one PNG.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

def parts(gpu, iteration_s):
    """busy, exposed comm (transfer or wait not hidden behind compute) and idle: they add up
    to the iteration, since idle = iteration - |busy U transfer| (docs/user/metrics.md)."""
    busy = gpu.get("busy_s", 0)
    idle = gpu.get("idle_s", 0)
    return busy, max(0.0, iteration_s - busy - idle), idle


COLOURS = (("compute busy", "#4c72b0"), ("communication (not overlapped)", "#dd8452"),
           ("idle", "#cccccc"))


def main(path, out_png):
    summary = json.load(open(path, encoding="utf-8"))
    runs = summary.get("runs", [])
    if not runs:
        sys.exit("plot_gpus: %s has no runs" % path)
    phase = summary.get("workload", {}).get("phase", "decode")
    # One time scale for every panel (sharey), so a 20 ms and an 8 ms step differ in height.
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.9 * len(runs) + 1.2), squeeze=False,
                             sharey=True)
    for ax, run in zip(axes[:, 0], runs):
        gpus = run["gpus"]
        xs = list(range(len(gpus)))
        split = [parts(g, run["iteration_time_s"]) for g in gpus]
        bottom = [0.0] * len(gpus)
        for i, (label, colour) in enumerate(COLOURS):
            vals = [p[i] * 1e3 for p in split]
            ax.bar(xs, vals, bottom=bottom, color=colour, label=label)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.plot(xs, [g.get("comm_s", 0) * 1e3 for g in gpus], "k_", markersize=10,
                label="comm transfer (total, overlapped or not)")
        ax.set_xticks(xs)
        ax.set_xticklabels(["%d %s" % (g["id"], g.get("role", "")) for g in gpus], fontsize=8,
                           rotation=90)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel("time in the step (ms)", fontsize=9)
        ax.set_xlabel("GPU (id and role)", fontsize=9)
        used = run.get("gpus_used", len(gpus))
        ax.set_title("%s: per-GPU time in one %s step; %s %.3f ms, utilisation %.1f %% of %d GPUs "
                     "used" % (run.get("label", run.get("strategy", "")), phase,
                               "TTFT" if phase == "prefill" else "TPOT",
                               run["iteration_time_s"] * 1e3 if phase == "prefill"
                               else run["tpot_s"] * 1e3,
                               run["utilisation"] * 100, used), fontsize=10)
    # The legend above the panels, where it covers no bar.
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=9, ncol=4, loc="upper center", frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_size_inches()[1]))
    fig.savefig(out_png, dpi=110)
    print("plot_gpus: %s: %d panels, y range (ms) %s" % (
        out_png, len(runs), " ".join("%.3f-%.3f" % a.get_ylim() for a in axes[:, 0])))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
