#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Queue length, running requests and KV occupancy over time, one line per `afdsim serve` run.

  plot_serve.py OUT.png SUMMARY.json [SUMMARY.json ...]

Reads the "series" block of each summary (docs/user/serve.md): samples every interval_s of the
requests queued (waiting for admission or a KV transfer), running (admitted) and the KV
cache occupancy of the pool that decodes. A line's label is the file name without ".json",
followed by its p99 TTFT, p99 TPOT and goodput per GPU. Needs Python 3 and matplotlib
(Debian: python3-matplotlib); writes one PNG and prints one line per run.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: plot_serve.py OUT.png SUMMARY.json [SUMMARY.json ...]")
    out, paths = argv[1], argv[2:]
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        s, r = d["series"], d["results"]
        name = os.path.basename(path)[:-5] if path.endswith(".json") else os.path.basename(path)
        label = "%s (p99 TTFT %.0f ms, p99 TPOT %.1f ms, %.3f good req/s/GPU)" % (
            name, 1e3 * r["ttft_s"]["p99"], 1e3 * r["tpot_s"]["p99"],
            r["goodput_requests_per_s_per_gpu"])
        t = s["time_s"]
        axes[0].plot(t, s["queued_requests"], label=label)
        axes[1].plot(t, s["running_requests"], label=label)
        axes[2].plot(t, [100 * k for k in s["kv_occupancy"]], label=label)
        print("plot_serve: %s: %d samples every %g s" % (name, len(t), s["interval_s"]))
    axes[0].set_ylabel("queued requests")
    axes[1].set_ylabel("running requests")
    axes[2].set_ylabel("KV occupancy (%)")
    axes[2].set_xlabel("simulated time (s)")
    axes[0].legend(fontsize=7)
    for a in axes:
        a.grid(alpha=0.3)
    fig.suptitle("afdsim serve: queue, batch and KV cache over time")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv)
