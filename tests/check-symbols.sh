#!/bin/sh
# SPDX-License-Identifier: MIT
# check-symbols.sh - every global symbol defined in libafdsim.a starts with afd_ (or is a
# gcov/sanitizer artefact), so the library can never clash with a user's code; and a name says
# its room (STYLE 2.2): every symbol of FILE.o starts with afd_FILE (dashes as underscores),
# except the kinds of name listed below and a written-down list of files not renamed yet.
set -u
lib=${top_builddir:-.}/libafdsim.a
[ -f "$lib" ] || { echo "check-symbols: $lib not built"; exit 1; }
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF >= 3 { print $3 }' \
      | grep -v -E '^(afd_|_?_?gcov|__asan|__ubsan|__odr_asan|__sancov)' | sort -u)
if [ -n "$bad" ]; then
  echo "check-symbols: global symbols without the afd_ prefix in $lib:"
  echo "$bad"
  exit 1
fi
# Stems: which prefixes each object may export besides afd_STEM.
#   any file: afd_*_name / afd_*_from_name (an enum's names, next to the type's home file)
#   cli/cmd-*.o: afd_command_* (the command entries of the table) and afd_NAME_* for cmd-NAME
#   registry.o: the lookups of the registries it holds; *-stub.o: the interface it stubs
#   cost-model classes: afd_cost_model_*_class
# Not renamed yet (TODO(#15 point 7)): listed with the prefix they export.
allowed() { # allowed STEM SYMBOL
  case $2 in afd_*_name|afd_*_from_name|afd_cost_model_*_class) return 0 ;; esac
  case $1 in
    cmd_*) case $2 in afd_command_*|afd_"${1#cmd_}"_*) return 0 ;; esac ;;
    registry) case $2 in afd_strategy_list|afd_strategy_lookup|afd_cost_model_*) return 0 ;; esac ;;
    mpi_stub|mpi_sweep) case $2 in afd_sweep_mpi_*) return 0 ;; esac ;;
    cuda_stub) case $2 in afd_cuda_*) return 0 ;; esac ;;
    experiment_keys) case $2 in afd_experiment_key_*) return 0 ;; esac ;;
    # not renamed yet:
    types) case $2 in afd_time_*) return 0 ;; esac ;;
    json) case $2 in afd_file_write_atomic) return 0 ;; esac ;;
    files) case $2 in afd_file_*|afd_output_*) return 0 ;; esac ;;
    data_dir) case $2 in afd_data_*) return 0 ;; esac ;;
    engine) case $2 in afd_rng_*) return 0 ;; esac ;;
    gpu_spec) case $2 in afd_dtype_*) return 0 ;; esac ;;
    collective_flow) case $2 in afd_netsim_*) return 0 ;; esac ;;
    collective) case $2 in afd_group_info_*) return 0 ;; esac ;;
    routing) case $2 in afd_imbalance_*) return 0 ;; esac ;;
    calibrate_nodes) case $2 in afd_calibrate_*) return 0 ;; esac ;;
    exec_plan) case $2 in afd_cuda_exec_*) return 0 ;; esac ;;
    # backends/cuda/ (built with --enable-cuda): the folder's afd_cuda_ prefix
    cuda_context|cuda_gemm|cuda_attention|cuda_calibrate|cuda_nccl|cuda_nccl_none)
      case $2 in afd_cuda_*) return 0 ;; esac ;;
    exec_nccl|exec_nccl_none) case $2 in afd_exec_*|afd_cuda_*) return 0 ;; esac ;;
    serve_workload) case $2 in afd_serve_arrival_*|afd_serve_length_*) return 0 ;; esac ;;
  esac
  return 1
}
misplaced=$(nm -g --defined-only "$lib" 2>/dev/null | awk '
  /^[^ ]+\.o:$/ { obj = $1; sub(/\.o:$/, "", obj); sub(/^libafdsim_a-/, "", obj); gsub(/-/, "_", obj) }
  NF >= 3 && $2 ~ /^[TDRB]$/ && $3 ~ /^afd_/ { print obj, $3 }' | while read -r stem sym; do
    case $sym in "afd_${stem}"|"afd_${stem}"_*) continue ;; esac
    allowed "$stem" "$sym" || echo "  $sym (in $stem.o)"
  done)
if [ -n "$misplaced" ]; then
  echo "check-symbols: symbols whose prefix is not their file's stem (STYLE 2.2):"
  echo "$misplaced"
  exit 1
fi
echo "check-symbols: ok ($(nm -g --defined-only "$lib" | awk 'NF >= 3' | wc -l) symbols)"
