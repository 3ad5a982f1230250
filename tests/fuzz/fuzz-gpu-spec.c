/* SPDX-License-Identifier: MIT */
/*
 * fuzz-gpu-spec.c - libFuzzer target for sim/gpu-spec.c: afd_gpu_spec_load on arbitrary bytes
 * written to a scratch file (the loader only takes a name or a path).
 *
 * Rules checked: a loaded spec has a non-empty UTF-8 name and source, finite quantities that
 * are positive where the format says so (docs/user/topology-format.md) and efficiencies in
 * (0, 1]; a refused file gives AFD_ERROR_TOPOLOGY, _CONFIG or _IO with one line naming the
 * file. A copy of a loaded spec is freed cleanly (ASan/LSan check both).
 */
#include <math.h>

#include "sim/gpu-spec.h"
#include "tests/fuzz/fuzz-common.h"

static const int codes[] = { AFD_ERROR_TOPOLOGY, AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* TRUE when @v is finite and > 0. */
static gboolean
positive (double v)
{
  return isfinite (v) && v > 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("gpu.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (path, &error);
  if (spec == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (error == NULL, "success with an error set");
  fuzz_assert (spec->name && spec->name[0] && g_utf8_validate (spec->name, -1, NULL), "bad name");
  fuzz_assert (spec->source && g_utf8_validate (spec->source, -1, NULL), "bad source");
  fuzz_assert (positive (spec->peak_flop_per_s[AFD_DTYPE_BF16]), "bf16 peak not positive");
  for (int i = 0; i < AFD_DTYPE_COUNT; i++)
    fuzz_assert (isfinite (spec->peak_flop_per_s[i]) && spec->peak_flop_per_s[i] >= 0,
                 "peak %d negative or not finite", i);
  fuzz_assert (positive (spec->hbm_bytes) && positive (spec->hbm_bandwidth_bytes_per_s)
                 && positive (spec->l2_bytes),
               "memory quantities not positive");
  fuzz_assert (isfinite (spec->nvlink_bandwidth_bytes_per_s)
                 && spec->nvlink_bandwidth_bytes_per_s >= 0,
               "nvlink bandwidth negative");
  fuzz_assert (isfinite (spec->launch_overhead_s) && spec->launch_overhead_s >= 0,
               "launch overhead negative");
  fuzz_assert (spec->sm_count >= 1, "no SMs");
  const AfdGpuEfficiency *e = &spec->efficiency;
  fuzz_assert (e->gemm_max_fraction > 0 && e->gemm_max_fraction <= 1 && e->memory_fraction > 0
                 && e->memory_fraction <= 1 && e->attention_max_fraction > 0
                 && e->attention_max_fraction <= 1 && positive (e->gemm_half_m),
               "efficiency outside (0, 1]");
  g_autoptr (AfdGpuSpec) copy = afd_gpu_spec_copy (spec);
  fuzz_assert (strcmp (copy->name, spec->name) == 0, "copy differs");
  return 0;
}
