#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layering.sh - dependencies point inward (docs/internals/architecture.md):
#   sim/*.c and sim/*.h include nothing from models/, backends/ or cli/;
#   models/ and backends/ never include each other, nor cli/ (the commands and the composition
#   root cli/main.c, which may include everything);
#   sim/ names no strategy and no strategy option key in its code (the names and keys are
#   collected from the parameter tables of models/strategy-*.c);
#   CUDA/NCCL/MPI headers and AFD_HAVE_CUDA/NCCL appear only under backends/cuda/
#   (MPI may also appear in sim/mpi-*.c, the one place sweeps talk to MPI).
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
fail=0
bad() { echo "layering: $1"; fail=1; }

for f in $(find sim -name '*.[ch]' 2>/dev/null); do
  if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(models|backends|cli)/' "$f"; then
    bad "$f includes models/, backends/ or cli/ (only cli/ may)"
  fi
done
for f in $(find models -name '*.[ch]' 2>/dev/null); do
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(backends|cli)/' "$f" && bad "$f includes backends/ or cli/"
done
for f in $(find backends -name '*.[ch]' 2>/dev/null); do
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(models|cli)/' "$f" && bad "$f includes models/ or cli/"
done
[ -f cli/main.c ] || bad "cli/main.c is missing (the composition root)"
for f in $(find sim models backends -name 'cmd-*.c' -o -name main.c 2>/dev/null); do
  bad "$f: commands live in cli/"
done

# Strategy names ("masep") and option keys ("attn_gpus") of the parameter tables. A few keys
# are also words of sim/'s own formats and stay allowed there as quoted strings: moe (the
# model file's block), dispatch (its dtype), barrier (a collective kind).
names=$(sed -n 's/^[[:space:]]*\.name = "\([a-z0-9-]*\)".*/\1/p' models/strategy-*.c)
keys=$(sed -n 's/.*\.key = "\([a-z_]*\)".*/\1/p' models/strategy-*.c | sort -u)
[ -n "$names" ] && [ -n "$keys" ] || bad "no strategy names or keys found in models/strategy-*.c"
code=$(mktemp) || exit 1
trap 'rm -f "$code"' EXIT
for f in $(find sim -name '*.[ch]' 2>/dev/null); do
  # Code lines only: drop comment lines and the comment tail of a line.
  sed -e 's@/\*.*\*/@@g' -e 's@/\*.*@@' -e '/^[[:space:]]*\*/d' "$f" | grep -n '"' \
    | sed "s@^@$f:@" >>"$code"
done
for w in $names; do
  # The name as a word inside any string literal ("masep", "masep, tppp"; not "masep-4l").
  grep -E "\"([^\"]*[^-a-z0-9_])?$w([^-a-z0-9_][^\"]*)?\"" "$code" \
    && bad "sim/ names strategy '$w' (strategy names come from the registry)"
done
for k in $keys; do
  case $k in moe|dispatch|barrier) continue ;; esac
  grep -F "\"$k\"" "$code" && bad "sim/ names strategy option '$k' (keys come from the tables)"
done
for f in $(find sim models backends cli tests -name '*.[ch]' 2>/dev/null | grep -v '^backends/cuda/'); do
  if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](cuda|cuda_runtime|cuda_runtime_api|nccl|cublas_v2|cublasLt)\.h' "$f"; then
    bad "$f includes a CUDA/NCCL header outside backends/cuda/"
  fi
  if grep -nE 'AFD_HAVE_(CUDA|NCCL)' "$f" >/dev/null; then
    case "$f" in backends/*) ;; *) bad "$f uses AFD_HAVE_CUDA/NCCL outside backends/";; esac
  fi
done
for f in $(find sim models backends cli -name '*.[ch]' 2>/dev/null); do
  case "$f" in backends/cuda/*|sim/mpi-*) continue;; esac
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<mpi\.h>' "$f" && bad "$f includes mpi.h outside sim/mpi-*.c and backends/cuda/"
done
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
