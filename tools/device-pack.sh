#!/bin/sh
# SPDX-License-Identifier: MIT
# device-pack.sh - pack what a GPU machine without GLib/cJSON needs to run afdsim.
#
# Usage: tools/device-pack.sh BUILD_DIR [DEST]     (DEST defaults to .devcarry in the source tree)
#
# BUILD_DIR must be a build configured with --enable-cuda --with-nccl. DEST receives:
#   bin/afdsim              the program (and bin/test-* for the GPU-side tests and
#                           bin/nccl-probe, if built)
#   lib/                    the shared libraries the GPU machine lacks (GLib, PCRE2, cJSON,
#                           Criterion and its dependencies) — never CUDA, cuBLAS or NCCL,
#                           which come from the GPU machine's own toolkit
#   run.sh                  finds the GPU machine's CUDA/cuBLAS/NCCL libraries, sets
#                           LD_LIBRARY_PATH and NCCL_NVLS_ENABLE=0, then runs bin/afdsim "$@"
# DEST must be a git-ignored path (/.devcarry/ is in .gitignore); the whole carry must stay
# under 64 MiB (the script prints its size). docs/backends/cuda.md shows the full workflow.
set -eu
build=${1:?usage: tools/device-pack.sh BUILD_DIR [DEST]}
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${2:-$top/.devcarry}
[ -x "$build/afdsim" ] || { echo "device-pack: $build/afdsim not built" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib"
cp "$build/afdsim" "$dest/bin/"
for t in test-cuda-nogpu test-profile; do
  [ -x "$build/tests/$t" ] && cp "$build/tests/$t" "$dest/bin/"
done
# nccl-probe (--with-nccl builds): nccl-tests' timing, run as `run.sh --test nccl-probe ARGS`
if [ -x "$build/nccl-probe" ]; then cp "$build/nccl-probe" "$dest/bin/"; fi
# Copy every non-system, non-CUDA shared library the binaries need.
for b in "$dest"/bin/*; do
  ldd "$b" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|libresolv.so*|libnsl.so*|libutil.so*|ld-linux*) ;;
    libgcc_s.so*|libstdc++.so*|libz.so*) ;;  # present on the GPU machine, newer there
    libcuda*|libcublas*|libnccl*|libnvidia*) ;;
    *) cp -L "$lib" "$dest/lib/" ;;
  esac
done
cat > "$dest/run.sh" <<'RUN'
#!/bin/sh
# run.sh - run the packed afdsim (or a packed test: run.sh --test NAME ARGS) on a GPU machine.
here=$(cd "$(dirname "$0")" && pwd)
export NCCL_NVLS_ENABLE=0
libdirs=""
for name in libcudart.so.13 libcublasLt.so.13 libcublas.so.13 libnccl.so.2; do
  # The usual places first, then a search of /usr and /opt (pip wheels ship NCCL and cuBLAS).
  found=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/lib/x86_64-linux-gnu; do
    [ -e "$d/$name" ] && { found=$d; break; }
  done
  [ -n "$found" ] || found=$(dirname "$(find /usr /opt -name "$name" 2>/dev/null | head -1)" 2>/dev/null)
  [ -n "$found" ] && [ "$found" != "." ] || { echo "run.sh: $name not found on this machine" >&2; exit 1; }
  case ":$libdirs:" in *":$found:"*) ;; *) libdirs="$libdirs:$found";; esac
done
export LD_LIBRARY_PATH="$here/lib$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "${1:-}" = "--test" ]; then
  shift; t=$1; shift
  exec "$here/bin/$t" "$@"
fi
exec "$here/bin/afdsim" "$@"
RUN
chmod +x "$dest/run.sh"
echo "device-pack: $(du -sh "$dest" | cut -f1) in $dest:"
ls -la "$dest/bin" "$dest/lib"
