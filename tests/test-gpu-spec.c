/* SPDX-License-Identifier: MIT */
/* Tests for sim/gpu-spec.c: shipped GPU files load, bad inputs name file and key. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "sim/data-dir.h"
#include "sim/gpu-spec.h"
#include "tests/test-helpers.h"

/* The A100 file carries the datasheet values (hardware.md s1.1/s1.2) in base units. */
Test (gpu_spec, loads_a100_by_name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load ("A100-SXM4-80GB", &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (spec->name, "A100-SXM4-80GB");
  cr_assert_eq (spec->peak_flop_per_s[AFD_DTYPE_BF16], 312e12);
  cr_assert_eq (spec->peak_flop_per_s[AFD_DTYPE_FP8], 0.0, "A100 has no fp8 tensor cores");
  cr_assert_eq (spec->hbm_bandwidth_bytes_per_s, 2.039e12);
  /* 600 GB/s bidirectional NVLink 3.0 = 300 GB/s per direction. */
  cr_assert_eq (spec->nvlink_bandwidth_bytes_per_s, 300e9);
  cr_assert_eq (spec->sm_count, 108);
  cr_assert_eq (spec->efficiency.gemm_max_fraction, 0.869);
  cr_assert (strlen (spec->source) > 0);
}

/* GPU names match in any case (issue 13): "h800" is the shipped H800. */
Test (gpu_spec, loads_by_name_in_any_case)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load ("h800", &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (spec->name, "H800");
  g_autoptr (AfdGpuSpec) none = afd_gpu_spec_load ("h8000", &error);
  cr_assert_null (none);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "did you mean H800");
}

/* Every shipped GPU file loads, and its name matches its file stem. */
Test (gpu_spec, every_shipped_gpu_loads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = afd_data_list ("topologies/gpus", &error);
  afd_assert_no_error (error);
  static const char *const required[] = { "A100-SXM4-80GB", "H100-SXM", "H800", "H20",
                                          "H200",           "B200",     "GB200" };
  for (guint r = 0; r < G_N_ELEMENTS (required); r++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < names->len; i++)
        found = found || strcmp (names->pdata[i], required[r]) == 0;
      cr_assert (found, "GPU %s is not shipped", required[r]);
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (names->pdata[i], &error);
      afd_assert_no_error (error);
      cr_assert_str_eq (spec->name, names->pdata[i]);
      cr_assert (spec->peak_flop_per_s[AFD_DTYPE_BF16] > 0);
      cr_assert (spec->hbm_bytes > 0 && spec->hbm_bandwidth_bytes_per_s > 0);
    }
}

/* A copy is deep: freeing the original leaves the copy intact. */
Test (gpu_spec, copy_is_deep)
{
  g_autoptr (GError) error = NULL;
  AfdGpuSpec *spec = afd_gpu_spec_load ("H100-SXM", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdGpuSpec) copy = afd_gpu_spec_copy (spec);
  afd_gpu_spec_free (spec);
  cr_assert_str_eq (copy->name, "H100-SXM");
  cr_assert_eq (copy->peak_flop_per_s[AFD_DTYPE_FP8], 1979e12);
}

/* dtype names round-trip and element sizes are right (fp4 is half a byte). */
Test (gpu_spec, dtype_names_and_sizes)
{
  for (int i = 0; i < AFD_DTYPE_COUNT; i++)
    {
      AfdDtype d;
      cr_assert (afd_dtype_from_name (afd_dtype_name ((AfdDtype) i), &d));
      cr_assert_eq ((int) d, i);
    }
  AfdDtype d = AFD_DTYPE_FP32;
  cr_assert_not (afd_dtype_from_name ("bf17", &d));
  cr_assert_eq (d, AFD_DTYPE_FP32, "output untouched on failure");
  cr_assert_eq (afd_dtype_bytes (AFD_DTYPE_BF16), 2.0);
  cr_assert_eq (afd_dtype_bytes (AFD_DTYPE_FP4), 0.5);
  cr_assert_null (afd_dtype_name (AFD_DTYPE_COUNT));
}

/* Each bad GPU file fails with AFD_ERROR_TOPOLOGY naming the file and the key. */
Test (gpu_spec, rejects_bad_inputs)
{
  static const struct {
    const char *file;
    const char *needle;
  } cases[] = {
    { "gpu-unknown-key.json", "hbm_bandwith_bytes_per_s: unknown key" },
    { "gpu-missing-key.json", "sm_count: missing required key" },
    { "gpu-negative-bandwidth.json", "hbm_bandwidth_bytes_per_s: must be > 0" },
    { "gpu-bad-fraction.json", "efficiency.memory_fraction: must be in (0, 1]" },
    { "gpu-unknown-dtype.json", "peak_flop_per_s.bf17: unknown key" },
    { "gpu-grouped-partial.json", "efficiency.grouped_gemm.stream_fraction: missing required key" },
    { "gpu-bad-launch-class.json", "efficiency.launch_overhead_per_class_s.memory: must be > 0" },
    { "gpu-bad-nvlink-by-gpus.json", "nvlink_efficiency_by_gpus: key '1' is not a GPU count" },
    { "gpu-bad-nvlink-by-gpus-value.json", "nvlink_efficiency_by_gpus.4: must be in (0, 1]" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_build_filename (TEST_DATA, cases[i].file, NULL);
      g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (path, &error);
      cr_assert_null (spec, "%s should fail", cases[i].file);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
      afd_assert_error_contains (error, cases[i].file);
      afd_assert_error_contains (error, cases[i].needle);
    }
}

/* The launch overhead per kernel class: H200 gives all three (fitted) and an fp8 GEMM ceiling;
 * A100 gives none, and every class falls back to launch_overhead_s. */
Test (gpu_spec, launch_overhead_per_class)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) h200 = afd_gpu_spec_load ("H200", &error);
  afd_assert_no_error (error);
  cr_assert_float_eq (afd_gpu_spec_launch_overhead_s (h200, AFD_KERNEL_CLASS_GEMM), 8.3e-6, 1e-15);
  cr_assert_float_eq (afd_gpu_spec_launch_overhead_s (h200, AFD_KERNEL_CLASS_ATTENTION), 9.8e-6,
                      1e-15);
  cr_assert_float_eq (afd_gpu_spec_launch_overhead_s (h200, AFD_KERNEL_CLASS_MEMORY), 4.5e-6,
                      1e-15);
  cr_assert_float_eq (h200->efficiency.gemm_max_fraction_fp8, 0.7575, 1e-12);
  g_autoptr (AfdGpuSpec) a100 = afd_gpu_spec_load ("A100-SXM4-80GB", &error);
  afd_assert_no_error (error);
  cr_assert_eq (a100->efficiency.gemm_max_fraction_fp8, 0.0);
  for (int c = AFD_KERNEL_CLASS_GEMM; c <= AFD_KERNEL_CLASS_MEMORY; c++)
    cr_assert_eq (afd_gpu_spec_launch_overhead_s (a100, (AfdKernelClass) c),
                  a100->launch_overhead_s);
}

/* nvlink_efficiency_by_gpus on H200 ({2: 0.7261, 4: 0.7874}, nvlink_efficiency 0.82): exact at
 * 2 and 4, linear between (3: 0.75675) and up to (8, 0.82) (6: 0.8037), 0.82 from 8 and for a
 * single GPU per node; a GPU without the table (A100) keeps nvlink_efficiency everywhere. */
Test (gpu_spec, nvlink_efficiency_by_gpus)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) h200 = afd_gpu_spec_load ("H200", &error);
  afd_assert_no_error (error);
  const double want[][2] = { { 1, 0.82 },      { 2, 0.7261 }, { 3, 0.75675 }, { 4, 0.7874 },
                             { 6, 0.8037 },    { 8, 0.82 },   { 16, 0.82 } };
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    cr_assert_float_eq (afd_gpu_spec_nvlink_efficiency (h200, (guint) want[i][0]), want[i][1],
                        1e-12, "%g GPUs", want[i][0]);
  g_autoptr (AfdGpuSpec) a100 = afd_gpu_spec_load ("A100-SXM4-80GB", &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_gpu_spec_nvlink_efficiency (a100, 2), a100->nvlink_efficiency);
}

/* An unknown GPU name is a clear error, not a crash. */
Test (gpu_spec, rejects_unknown_name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load ("Z9000", &error);
  cr_assert_null (spec);
  afd_assert_error_contains (error, "Z9000");
}
