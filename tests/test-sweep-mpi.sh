#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sweep-mpi.sh - a sweep under `mpirun -np 2` writes exactly what a local run writes, also
# when it resumes a partial file (docs/user/sweep.md). Skipped (77) when afdsim was built
# without --with-mpi or mpirun is missing; such a binary must refuse to run under a launcher.
set -u
AFDSIM=${AFDSIM:-./afdsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
axes="--ratio 1:1,3:1,7:1,15:1,2:1 --batch 64..1024/64 --strategy masep"

if ! "$AFDSIM" --version | grep -q '^features:.*\bmpi\b'; then
  # Without MPI a launched binary refuses instead of running the whole sweep on every rank.
  OMPI_COMM_WORLD_SIZE=2 "$AFDSIM" sweep --batch 64 -o "$tmp/x.jsonl" 2>"$tmp/err"
  st=$?
  if [ "$st" -ne 1 ] || ! grep -q 'built without MPI' "$tmp/err"; then
    echo "FAIL: a binary without MPI started with OMPI_COMM_WORLD_SIZE=2 exited $st:"; cat "$tmp/err"
    exit 1
  fi
  echo "afdsim built without --with-mpi: mpirun comparison skipped"
  exit 77
fi
command -v mpirun >/dev/null 2>&1 || { echo "mpirun not installed (apt install openmpi-bin): skipped"; exit 77; }

fail=0
"$AFDSIM" sweep $axes -j 2 -q -o "$tmp/local.jsonl" --csv "$tmp/local.csv" || { echo "FAIL: local run"; exit 1; }
mpi() {
  mpirun -np 2 --oversubscribe --allow-run-as-root "$AFDSIM" sweep $axes -j 1 -q "$@"
}
mpi -o "$tmp/mpi.jsonl" --csv "$tmp/mpi.csv" || { echo "FAIL: mpirun -np 2 afdsim sweep"; fail=1; }
cmp -s "$tmp/local.jsonl" "$tmp/mpi.jsonl" || { echo "FAIL: MPI JSONL differs from the local run"; fail=1; }
cmp -s "$tmp/local.csv" "$tmp/mpi.csv" || { echo "FAIL: MPI CSV differs from the local run"; fail=1; }

# Resume under MPI from the first 17 lines (the ranks' round-robin then starts at point 17).
head -n 17 "$tmp/local.jsonl" >"$tmp/resume.jsonl"
mpi -o "$tmp/resume.jsonl" || { echo "FAIL: MPI resume"; fail=1; }
cmp -s "$tmp/local.jsonl" "$tmp/resume.jsonl" || { echo "FAIL: MPI resume differs from the local run"; fail=1; }
exit $fail
