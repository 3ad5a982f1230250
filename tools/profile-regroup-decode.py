#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""profile-regroup-decode.py - rewrite a profile written before decode tables were split per
batch size (each attention_decode table held points over (batch, context)) into the current
format (one table per batch, points over context). Measurements are copied unchanged; only
their grouping changes, and provenance.notes says so.

Usage: tools/profile-regroup-decode.py IN.json OUT.json
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
p = json.load(open(src))
tables = []
for t in p.get("attention_decode", []):
    batches = sorted({q["batch"] for q in t["points"]})
    for b in batches:
        nt = {k: v for k, v in t.items() if k != "points"}
        nt["batch"] = b
        pts = [{k: v for k, v in q.items() if k != "batch"} for q in t["points"] if q["batch"] == b]
        nt["points"] = sorted(pts, key=lambda q: q["context"])
        tables.append(nt)
p["attention_decode"] = tables
note = ("attention_decode regrouped into one table per batch by tools/profile-regroup-decode.py "
        "(measurements unchanged)")
prov = p["provenance"]
prov["notes"] = (prov["notes"] + "; " + note) if "notes" in prov else note
with open(dst, "w") as f:
    json.dump(p, f, indent=2)
    f.write("\n")
