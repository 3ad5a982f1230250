#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plots of `afdsim roofline` output (docs/models/afd-roofline.md).

  plot_roofline.py sweep ROOFLINE.json OUT.png   intensity and HFU bound vs N_F, regions shaded
  plot_roofline.py table TABLE.json OUT.png      HFU ceiling heatmap, model x GPU (--table --json)

Needs Python 3 and matplotlib (Debian: python3-matplotlib). Reads only the JSON keys that
`afdsim roofline --json` documents; writes one PNG.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REGION_COLOURS = {1: "#cfe8cf", 2: "#fdf1c4", 3: "#f6cccc", 4: "#d6e0f5"}
REGION_LABELS = {
    1: "1 scale-up bound",
    2: "2 stable intensity",
    3: "3 dead zone",
    4: "4 max intensity",
}


def shade_regions(ax, points):
    """Shades each run of consecutive N_F values that share a region."""
    seen = set()
    i = 0
    while i < len(points):
        region = points[i]["region"]
        j = i
        while j + 1 < len(points) and points[j + 1]["region"] == region:
            j += 1
        lo = points[i]["n_f"] / 1.19 if i == 0 else (points[i - 1]["n_f"] * points[i]["n_f"]) ** 0.5
        hi = (points[j]["n_f"] * 1.19 if j + 1 == len(points)
              else (points[j]["n_f"] * points[j + 1]["n_f"]) ** 0.5)
        label = REGION_LABELS[region] if region not in seen else None
        seen.add(region)
        ax.axvspan(lo, hi, color=REGION_COLOURS[region], alpha=0.8, lw=0, label=label)
        i = j + 1


def plot_sweep(data, out):
    """Two panels sharing N_F: arithmetic intensity, and the HFU bounds."""
    points = data["points"]
    inputs = data["inputs"]
    n_f = [p["n_f"] for p in points]
    fig, (ax_i, ax_h) = plt.subplots(2, 1, sharex=True, figsize=(7.5, 6.5))
    for ax in (ax_i, ax_h):
        shade_regions(ax, points)
        ax.set_xscale("log", base=2)
        ax.grid(True, which="both", alpha=0.3)
    ax_i.plot(n_f, [p["intensity_flop_per_byte"] for p in points], "k.-", label="I (FLOP/B)")
    ax_i.set_yscale("log")
    ax_i.set_ylabel("arithmetic intensity I (FLOP/byte)")
    ax_i.legend(loc="lower right", fontsize=8)
    ax_h.plot(n_f, [100 * p["hfu_comm_bound"] for p in points], "C0--", label="HFU comm bound")
    ax_h.plot(n_f, [100 * min(1.0, p["ofu_bound"]) for p in points], "C2:", label="OFU(I) HBM roofline")
    ax_h.plot(n_f, [100 * p["hfu_bound"] for p in points], "C3.-", label="HFU bound")
    bad = [p for p in points if not p["feasible"]]
    if bad:
        ax_h.plot([p["n_f"] for p in bad], [100 * p["hfu_bound"] for p in bad], "kx",
                  markersize=9, label="HBM-infeasible")
    ceiling = max(100 * p["hfu_comm_bound"] for p in points)
    ax_h.set_ylim(0, min(105, ceiling * 1.25 + 1))
    ax_h.set_ylabel("HFU upper bound (%)")
    ax_h.set_xlabel("N_F (FFN nodes of %d GPUs)" % inputs["gpus_per_node"])
    ax_h.legend(loc="upper right", fontsize=8)
    fig.suptitle("AFD communication roofline: %s on %s (t_B = %.1f us)"
                 % (inputs["model"], inputs["gpu"], data["t_b_s"] * 1e6), fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def plot_table(data, out):
    """Heatmap of the HFU ceiling, one row per model, one column per GPU."""
    models, gpus = data["models"], data["gpus"]
    cells = {(r["model"], r["gpu"]): r for r in data["rows"]}
    grid = []
    for m in models:
        row = []
        for g in gpus:
            v = cells[(m, g)]["hfu_ceiling"]
            row.append(float("nan") if v is None else 100 * v)
        grid.append(row)
    fig, ax = plt.subplots(figsize=(1.3 * len(gpus) + 3, 0.55 * len(models) + 2))
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("#bbbbbb")
    im = ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(gpus)), gpus, rotation=30, ha="right")
    ax.set_yticks(range(len(models)), models)
    for i, m in enumerate(models):
        for j, g in enumerate(gpus):
            r = cells[(m, g)]
            if r["hfu_ceiling"] is None:
                text = "HBM\nlimited"
            else:
                text = "%.1f%%\nN_F=%d%s" % (100 * r["hfu_ceiling"], r["n_f"],
                                             " m" if r["bound"] == "hbm-bandwidth" else "")
            v = grid[i][j]
            colour = "white" if v != v or v < 55 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    fig.colorbar(im, ax=ax, label="HFU ceiling (%)")
    ax.set_xlabel("GPU")
    ax.set_ylabel("model")
    inputs = data["inputs"]
    dtype = inputs.get("expert_dtype") or "model's own"
    ax.set_title("AFD HFU ceiling per model and GPU, with the N_F (FFN nodes) that reaches it\n"
                 "(SLO %g s, L_accept %g, t_g %g s, experts %s; m = HBM-bound)"
                 % (inputs["slo_s"], inputs["accept_length"], inputs["gap_s"], dtype), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("sweep", "table"):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[2], encoding="utf-8") as f:
        data = json.load(f)
    (plot_sweep if argv[1] == "sweep" else plot_table)(data, argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
