#!/bin/sh
# SPDX-License-Identifier: MIT
# test-docs-commands.sh - every `afdsim ...` command in a code block (fenced or indented) of
# README.md and docs/**/*.md runs against the shipped data, so the docs and the program cannot
# drift (issue 13). Rules, in order:
#   - a line that is a synopsis, not a command (it holds '[', '…', '|', '$' or '/path/to/') is
#     skipped and counted;
#   - GPU commands (calibrate, validate, --backend cuda) are skipped: no GPU in the test;
#   - MPI commands (mpirun ...) must carry Open MPI's root switch (--allow-run-as-root, or
#     OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1), since the quick start runs as
#     root; they run when afdsim was built with MPI and mpirun exists (with --oversubscribe);
#   - a command whose next line in the block starts with "afdsim:" (the error it prints) must
#     exit non-zero; every other command must exit 0.
# Commands run in a scratch folder holding a copy of experiments/, topologies/ and models/llm/
# (so relative paths in the docs resolve and nothing is written into the source tree), each
# under a 300 s limit. A trailing "# comment" is removed.
set -u
AFDSIM=${AFDSIM:-./afdsim}
src=${top_srcdir:-..}
case "$AFDSIM" in /*) ;; *) AFDSIM="$(pwd)/$AFDSIM" ;; esac
case "$src" in /*) ;; *) src="$(pwd)/$src" ;; esac
command -v python3 >/dev/null 2>&1 || { echo "python3 missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/models" && cp -R "$src/experiments" "$src/topologies" "$tmp/" \
  && cp -R "$src/models/llm" "$tmp/models/" || exit 1
mpi=no
if "$AFDSIM" --version | grep -q '^features:.*\bmpi\b' && command -v mpirun >/dev/null 2>&1; then
  mpi=yes
fi
cd "$tmp" || exit 1
AFDSIM="$AFDSIM" SRC="$src" MPI="$mpi" python3 - <<'PY'
import os, re, shlex, subprocess, sys, glob

src, afdsim, mpi = os.environ["SRC"], os.environ["AFDSIM"], os.environ["MPI"] == "yes"
pages = [os.path.join(src, "README.md")] + sorted(
    glob.glob(os.path.join(src, "docs", "**", "*.md"), recursive=True))
CMD = re.compile(r"^(?:\$ )?((?:mpirun\s.*?)?(?:\./|build/)?afdsim(?:\s.*)?)$")


def code_lines(path):
    """(line number, text, next line in the block) of every line in a code block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, fence, block = [], False, []
    def flush():
        for k, (n, t) in enumerate(block):
            out.append((n, t, block[k + 1][1] if k + 1 < len(block) else ""))
        block.clear()
    for i, l in enumerate(lines):
        if l.lstrip().startswith("```"):
            fence = not fence
            flush()
            continue
        indented = not fence and l.startswith("    ") and (block or i == 0 or lines[i - 1].strip() == "")
        if fence or indented:
            block.append((i + 1, l.strip()))
        else:
            flush()
    flush()
    return out


def commands(path):
    cur = None
    for n, text, nxt in code_lines(path):
        if cur is not None:
            cur[1] += " " + text.rstrip("\\").strip()
            if not text.endswith("\\"):
                yield cur[0], cur[1], nxt
                cur = None
            continue
        m = CMD.match(text)
        if not m:
            continue
        if text.endswith("\\"):
            cur = [n, m.group(1).rstrip("\\").strip()]
        else:
            yield n, m.group(1), nxt


ran = skipped = failed = 0
for page in pages:
    rel = os.path.relpath(page, src)
    for n, cmd, nxt in commands(page):
        cmd = re.sub(r"\s+#.*$", "", cmd).strip()
        where = "%s:%d" % (rel, n)
        if re.search(r"[\[…|$]|/path/to/", cmd):
            skipped += 1
            continue
        if re.search(r"\bafdsim (calibrate|validate)\b|--backend cuda", cmd):
            print("skip (needs a GPU): %s: %s" % (where, cmd))
            skipped += 1
            continue
        argv = shlex.split(cmd)
        if argv[0] == "mpirun":
            root_ok = "--allow-run-as-root" in argv or (
                "OMPI_ALLOW_RUN_AS_ROOT=1" in cmd and "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" in cmd)
            if not root_ok:
                print("FAIL: %s: MPI example without Open MPI's root switch "
                      "(--allow-run-as-root): %s" % (where, cmd))
                failed += 1
                continue
            if not mpi:
                print("skip (needs an MPI build and mpirun): %s: %s" % (where, cmd))
                skipped += 1
                continue
            if "--oversubscribe" not in argv:
                argv.insert(1, "--oversubscribe")
        i = next(k for k, a in enumerate(argv) if re.search(r"(^|/)afdsim$", a))
        argv[i] = afdsim
        want_fail = nxt.startswith("afdsim:")
        try:
            p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=300)
            rc, err = p.returncode, p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            rc, err = -1, "timed out after 300 s"
        ran += 1
        if (rc != 0) != want_fail:
            print("FAIL: %s: %s\n  exit %d (expected %s): %s" % (
                where, cmd, rc, "non-zero" if want_fail else "0", err.strip()[:400]))
            failed += 1
print("docs-commands: %d ran, %d skipped (synopses, GPU, MPI), %d failed" % (ran, skipped, failed))
sys.exit(1 if failed else 0)
PY
