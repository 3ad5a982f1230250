#!/bin/sh
# SPDX-License-Identifier: MIT
# test-provenance-cli.sh - every JSON result opens its provenance block with the same keys
# (version, git_revision, features, command, command_line, inputs with SHA-256):
# run, compare and the three roofline forms (docs/user/output-format.md "Provenance").
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$AFDSIM" run -q --strategy ep --batch 64 --context 512 --json "$tmp/run.json" || fail=1
"$AFDSIM" compare -q --batch 64 --context 512 --json "$tmp/compare.json" || fail=1
"$AFDSIM" roofline --model deepseek-v3 --gpu H800 --nf 1..4 --json "$tmp/roofline.json" >/dev/null || fail=1
"$AFDSIM" roofline --table --json "$tmp/table.json" >/dev/null || fail=1
"$AFDSIM" roofline --imbalance --json "$tmp/imbalance.json" >/dev/null || fail=1
for f in run compare roofline table imbalance; do
  python3 - "$tmp/$f.json" "$f" <<'PY' || fail=1
import json, re, sys
p = json.load(open(sys.argv[1]))["provenance"]
keys = list(p)[:6]
want = ["version", "git_revision", "features", "command", "command_line", "inputs"]
if keys != want:
    sys.exit("FAIL %s: provenance keys %s, want %s" % (sys.argv[2], keys, want))
if not p["command_line"].startswith("afdsim "):
    sys.exit("FAIL %s: command_line %r" % (sys.argv[2], p["command_line"]))
for i in p["inputs"]:
    if sorted(i) != ["path", "sha256"] or not re.fullmatch("[0-9a-f]{64}", i["sha256"]):
        sys.exit("FAIL %s: input %r" % (sys.argv[2], i))
if sys.argv[2] in ("run", "compare", "roofline") and not p["inputs"]:
    sys.exit("FAIL %s: no inputs" % sys.argv[2])
print("ok %s" % sys.argv[2])
PY
done
exit $fail
