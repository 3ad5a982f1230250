#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layering.sh - dependencies point inward (docs/internals/architecture.md):
#   sim/*.c (except main.c) and sim/*.h include nothing from models/ or backends/;
#   models/ and backends/ never include each other;
#   CUDA/NCCL/MPI headers and AFD_HAVE_CUDA/NCCL appear only under backends/cuda/
#   (MPI may also appear in sim/mpi-*.c, the one place sweeps talk to MPI).
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
fail=0
bad() { echo "layering: $1"; fail=1; }

for f in $(find sim -name '*.[ch]' ! -name main.c 2>/dev/null); do
  if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(models|backends)/' "$f"; then
    bad "$f includes models/ or backends/ (only sim/main.c may)"
  fi
done
for f in $(find models -name '*.[ch]' 2>/dev/null); do
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"backends/' "$f" && bad "$f includes backends/"
done
for f in $(find backends -name '*.[ch]' 2>/dev/null); do
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"models/' "$f" && bad "$f includes models/"
done
for f in $(find sim models backends tests -name '*.[ch]' 2>/dev/null | grep -v '^backends/cuda/'); do
  if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](cuda|cuda_runtime|cuda_runtime_api|nccl|cublas_v2|cublasLt)\.h' "$f"; then
    bad "$f includes a CUDA/NCCL header outside backends/cuda/"
  fi
  if grep -nE 'AFD_HAVE_(CUDA|NCCL)' "$f" >/dev/null; then
    case "$f" in backends/*) ;; *) bad "$f uses AFD_HAVE_CUDA/NCCL outside backends/";; esac
  fi
done
for f in $(find sim models backends -name '*.[ch]' 2>/dev/null); do
  case "$f" in backends/cuda/*|sim/mpi-*) continue;; esac
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<mpi\.h>' "$f" && bad "$f includes mpi.h outside sim/mpi-*.c and backends/cuda/"
done
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
