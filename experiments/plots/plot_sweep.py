#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TPOT, tokens/s and utilisation vs the attention:MoE GPU ratio, one line per strategy.

  plot_sweep.py SWEEP.jsonl OUT.png

Reads the JSONL of `afdsim sweep` (docs/user/sweep.md). The ratio of a point is taken from
its "roles": GPUs with role "attention" against the others, so MA Separation (attention:moe)
and AFD (attention:ffn) share one axis. Strategies without an attention role (TP x PP, EP) are
drawn as horizontal reference lines. Points with status "infeasible" that name attn_gpus and
moe_gpus, attn_gpus and total_gpus, or a ratio (flag-form sweeps) are marked with a grey
cross on the x axis. Lines are grouped by strategy and by
every other configuration value that varies in the file (batch, routing, ...). Needs Python 3
and matplotlib (Debian: python3-matplotlib); writes one PNG.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SPLIT_KEYS = {"attn_gpus", "moe_gpus", "attn_nodes", "ffn_nodes", "ratio", "label", "total_gpus"}


def flat_config(config):
    """The configuration as flat key -> value, options and overrides included."""
    out = {k: v for k, v in config.items() if k not in ("options", "set")}
    out.update(config.get("options", {}))
    out.update(config.get("set", {}))
    return out


def infeasible_split(f):
    """(attention, MoE) GPUs of an infeasible point, from any form a sweep writes: attn_gpus
    with moe_gpus (sweep files, runs), attn_gpus with total_gpus (--attn-gpus --total-gpus),
    or a ratio "A:B" (--ratio). None when the point names no split."""
    if "attn_gpus" in f and "moe_gpus" in f:
        return f["attn_gpus"], f["moe_gpus"]
    if "attn_gpus" in f and "total_gpus" in f and f["total_gpus"] > f["attn_gpus"]:
        return f["attn_gpus"], f["total_gpus"] - f["attn_gpus"]
    ratio = f.get("ratio")
    if isinstance(ratio, str) and ":" in ratio:
        try:
            a, b = (float(v) for v in ratio.split(":", 1))
        except ValueError:
            return None
        if a > 0 and b > 0:
            return a, b
    return None


def main(path, out_png):
    lines = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if not lines:
        sys.exit("plot_sweep: %s has no points" % path)
    flats = [flat_config(l["config"]) for l in lines]
    keys = sorted({k for f in flats for k in f})
    # Keys every point has (not one strategy's options) whose value varies name the lines.
    varying = [k for k in keys if k not in SPLIT_KEYS and k != "strategy"
               and all(k in f for f in flats)
               and len({json.dumps(f.get(k)) for f in flats}) > 1]

    def group(f):
        extra = ", ".join("%s=%s" % (k, f.get(k)) for k in varying)
        return f["strategy"] + (" (" + extra + ")" if extra else "")

    series, refs, crosses = {}, {}, []
    ticks = {}
    for line, f in zip(lines, flats):
        if line["status"] != "ok":
            split = infeasible_split(f)
            if split is not None:
                x = split[0] / (split[0] + split[1])
                crosses.append(x)
                ticks.setdefault(round(x, 4), "%g:%g" % split)
            continue
        roles = line.get("roles", {})
        attn = roles.get("attention", 0)
        values = (line["tpot_s"] * 1e3, line["tokens_per_s"], line["utilisation"] * 100)
        if attn == 0 or attn == line["gpus"]:
            refs.setdefault(group(f), values)
            continue
        x = attn / line["gpus"]
        series.setdefault(group(f), []).append((x, attn, line["gpus"] - attn, values))

    fig, axes = plt.subplots(3, 1, figsize=(8, 10), sharex=True)
    titles = ("TPOT (ms)", "tokens/s (placement)", "GPU utilisation (%)")
    for name, pts in sorted(series.items()):
        pts.sort()
        for i, ax in enumerate(axes):
            ax.plot([p[0] for p in pts], [p[3][i] for p in pts], marker="o", label=name)
        for p in pts:
            ticks[round(p[0], 4)] = "%d:%d" % (p[1], p[2])
    for j, (name, values) in enumerate(sorted(refs.items())):
        for i, ax in enumerate(axes):
            ax.axhline(values[i], linestyle="--", color="C%d" % ((len(series) + j) % 10),
                       label=name + " (no split)")
    for i, ax in enumerate(axes):
        ax.set_ylabel(titles[i], fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(True, alpha=0.3)
        if crosses:
            lo = ax.get_ylim()[0]
            ax.plot(crosses, [lo] * len(crosses), "x", color="grey", clip_on=False,
                    label="infeasible split" if i == 0 else None)
    axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("attention share of the GPUs (ticks: attention:MoE GPUs)")
    if ticks:
        xs = sorted(ticks)
        axes[-1].set_xticks(xs)
        axes[-1].set_xticklabels([ticks[x] for x in xs], rotation=45, fontsize=8)
    fig.suptitle("TPOT, tokens/s and utilisation vs the attention:MoE GPU split\n(afdsim sweep %s;"
                 " grey crosses: infeasible splits)" % path.split("/")[-1], fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    print("plot_sweep: %s: %d points, %d infeasible splits drawn" % (out_png, len(lines),
                                                                      len(crosses)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
