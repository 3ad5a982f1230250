/* SPDX-License-Identifier: MIT */
/*
 * gpu-spec.c - loads one GPU model's limits from topologies/gpus/NAME.json.
 *
 * The file format is documented in docs/user/topology-format.md ("GPU files"). Every key is
 * checked (unknown keys, missing keys, non-positive quantities, fractions outside (0,1]) and
 * every message names the file and the key. This file computes nothing: the analytic cost
 * backend and the network model read the fields.
 */
#include "config.h"

#include <string.h>

#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/gpu-spec.h"
#include "sim/json.h"

/* JSON/CLI names of the dtypes, indexed by AfdDtype. */
static const char *const dtype_names[AFD_DTYPE_COUNT] = {
  [AFD_DTYPE_FP32] = "fp32", [AFD_DTYPE_TF32] = "tf32", [AFD_DTYPE_BF16] = "bf16",
  [AFD_DTYPE_FP16] = "fp16", [AFD_DTYPE_FP8] = "fp8",   [AFD_DTYPE_FP4] = "fp4",
};

/* Bytes per element, indexed by AfdDtype (tf32 is stored in 4 bytes). */
static const double dtype_bytes[AFD_DTYPE_COUNT] = {
  [AFD_DTYPE_FP32] = 4.0, [AFD_DTYPE_TF32] = 4.0, [AFD_DTYPE_BF16] = 2.0,
  [AFD_DTYPE_FP16] = 2.0, [AFD_DTYPE_FP8] = 1.0,  [AFD_DTYPE_FP4] = 0.5,
};

const char *
afd_dtype_name (AfdDtype dtype)
{
  if ((int) dtype < 0 || dtype >= AFD_DTYPE_COUNT)
    return NULL;
  return dtype_names[dtype];
}

double
afd_dtype_bytes (AfdDtype dtype)
{
  g_return_val_if_fail ((int) dtype >= 0 && dtype < AFD_DTYPE_COUNT, 0.0);
  return dtype_bytes[dtype];
}

gboolean
afd_dtype_from_name (const char *name, AfdDtype *out_dtype)
{
  if (name == NULL)
    return FALSE;
  for (int i = 0; i < AFD_DTYPE_COUNT; i++)
    if (strcmp (name, dtype_names[i]) == 0)
      {
        *out_dtype = (AfdDtype) i;
        return TRUE;
      }
  return FALSE;
}

void
afd_gpu_spec_free (AfdGpuSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->name);
  g_free (spec->source);
  g_free (spec->price_power_source);
  g_free (spec);
}

double
afd_gpu_spec_nvlink_efficiency (const AfdGpuSpec *spec, guint gpus_per_node)
{
  guint k = spec->n_nvlink_by_gpus;
  if (k == 0 || gpus_per_node < 2)
    return spec->nvlink_efficiency;
  /* The table's points, then (8, nvlink_efficiency) when the table stops below 8. */
  guint count[17];
  double eff[17];
  for (guint i = 0; i < k; i++)
    count[i] = spec->nvlink_by_gpus_count[i], eff[i] = spec->nvlink_by_gpus_efficiency[i];
  if (count[k - 1] < 8 && spec->nvlink_efficiency > 0)
    count[k] = 8, eff[k] = spec->nvlink_efficiency, k++;
  double n = gpus_per_node;
  if (n <= count[0])
    return eff[0];
  for (guint i = 1; i < k; i++)
    if (n <= count[i])
      return eff[i - 1] + (eff[i] - eff[i - 1]) * (n - count[i - 1]) / (count[i] - count[i - 1]);
  return spec->nvlink_efficiency > 0 ? spec->nvlink_efficiency : eff[k - 1];
}

double
afd_gpu_spec_launch_overhead_s (const AfdGpuSpec *spec, AfdKernelClass kernel_class)
{
  double v = kernel_class == AFD_KERNEL_CLASS_GEMM        ? spec->launch_overhead_gemm_s
             : kernel_class == AFD_KERNEL_CLASS_ATTENTION ? spec->launch_overhead_attention_s
                                                          : spec->launch_overhead_memory_s;
  return v > 0 ? v : spec->launch_overhead_s;
}

AfdGpuSpec *
afd_gpu_spec_copy (const AfdGpuSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  AfdGpuSpec *copy = g_new (AfdGpuSpec, 1);
  *copy = *spec;
  copy->name = g_strdup (spec->name);
  copy->source = g_strdup (spec->source);
  copy->price_power_source = g_strdup (spec->price_power_source);
  return copy;
}

/* Reads the "peak_flop_per_s" object: every dtype optional (0 = no path), bf16 required. */
static gboolean
read_peaks (const cJSON *root, const char *file, AfdGpuSpec *spec, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  const cJSON *peaks = NULL;
  if (!afd_json_get_child (root, &where, "peak_flop_per_s", AFD_JSON_REQUIRED, cJSON_Object,
                           &peaks, error))
    return FALSE;
  const AfdJsonWhere pw = { file, "peak_flop_per_s", AFD_ERROR_TOPOLOGY };
  const char *allowed[AFD_DTYPE_COUNT + 1];
  for (int i = 0; i < AFD_DTYPE_COUNT; i++)
    allowed[i] = dtype_names[i];
  allowed[AFD_DTYPE_COUNT] = NULL;
  if (!afd_json_check_object (peaks, &pw, allowed, error))
    return FALSE;
  for (int i = 0; i < AFD_DTYPE_COUNT; i++)
    {
      AfdJsonFlags flags = (i == AFD_DTYPE_BF16) ? (AFD_JSON_REQUIRED | AFD_JSON_POSITIVE)
                                                 : AFD_JSON_NONNEGATIVE;
      spec->peak_flop_per_s[i] = 0.0;
      if (!afd_json_get_number (peaks, &pw, dtype_names[i], flags, &spec->peak_flop_per_s[i],
                                error))
        return FALSE;
    }
  return TRUE;
}

/* Reads the optional "efficiency.launch_overhead_per_class_s" object: "gemm", "attention",
 * "memory", each optional and > 0 (0 = not given: launch_overhead_s serves). */
static gboolean
read_launch_per_class (const cJSON *efficiency, const char *file, AfdGpuSpec *spec,
                       GError **error)
{
  const AfdJsonWhere where = { file, "efficiency", AFD_ERROR_TOPOLOGY };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (efficiency, &where, "launch_overhead_per_class_s", AFD_JSON_OPTIONAL,
                           cJSON_Object, &obj, error))
    return FALSE;
  if (obj == NULL)
    return TRUE;
  const AfdJsonWhere lw = { file, "efficiency.launch_overhead_per_class_s", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = { "gemm", "attention", "memory", NULL };
  return afd_json_check_object (obj, &lw, allowed, error)
         && afd_json_get_number (obj, &lw, "gemm", AFD_JSON_POSITIVE,
                                 &spec->launch_overhead_gemm_s, error)
         && afd_json_get_number (obj, &lw, "attention", AFD_JSON_POSITIVE,
                                 &spec->launch_overhead_attention_s, error)
         && afd_json_get_number (obj, &lw, "memory", AFD_JSON_POSITIVE,
                                 &spec->launch_overhead_memory_s, error);
}

/* Reads the "efficiency" object; all four parameters are required. */
static gboolean
read_efficiency (const cJSON *root, const char *file, AfdGpuEfficiency *eff, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &where, "efficiency", AFD_JSON_REQUIRED, cJSON_Object, &obj,
                           error))
    return FALSE;
  const AfdJsonWhere ew = { file, "efficiency", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = { "gemm_max_fraction", "gemm_half_m", "memory_fraction",
                                         "attention_max_fraction", "grouped_gemm",
                                         "gemm_max_fraction_fp8",
                                         "launch_overhead_per_class_s", NULL };
  if (!afd_json_check_object (obj, &ew, allowed, error))
    return FALSE;
  const AfdJsonFlags frac = AFD_JSON_REQUIRED | AFD_JSON_FRACTION;
  if (!(afd_json_get_number (obj, &ew, "gemm_max_fraction", frac, &eff->gemm_max_fraction,
                             error)
        && afd_json_get_number (obj, &ew, "gemm_half_m", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                &eff->gemm_half_m, error)
        && afd_json_get_number (obj, &ew, "memory_fraction", frac, &eff->memory_fraction, error)
        && afd_json_get_number (obj, &ew, "attention_max_fraction", frac,
                                &eff->attention_max_fraction, error)
        && afd_json_get_number (obj, &ew, "gemm_max_fraction_fp8", AFD_JSON_FRACTION,
                                &eff->gemm_max_fraction_fp8, error)))
    return FALSE;
  /* The optional grouped expert GEMM block: its three keys or none, and optionally
   * stream_fraction_fp8 (absent: stream_fraction). */
  const cJSON *g = NULL;
  if (!afd_json_get_child (obj, &ew, "grouped_gemm", AFD_JSON_OPTIONAL, cJSON_Object, &g, error))
    return FALSE;
  if (g == NULL)
    return TRUE;
  const AfdJsonWhere gw = { file, "efficiency.grouped_gemm", AFD_ERROR_TOPOLOGY };
  static const char *const gkeys[] = { "max_fraction_bf16", "max_fraction_fp8",
                                       "stream_fraction", "stream_fraction_fp8", NULL };
  if (!(afd_json_check_object (g, &gw, gkeys, error)
        && afd_json_get_number (g, &gw, "max_fraction_bf16", frac,
                                &eff->grouped_max_fraction_bf16, error)
        && afd_json_get_number (g, &gw, "max_fraction_fp8", frac, &eff->grouped_max_fraction_fp8,
                                error)
        && afd_json_get_number (g, &gw, "stream_fraction", frac, &eff->grouped_stream_fraction,
                                error)))
    return FALSE;
  eff->grouped_stream_fraction_fp8 = eff->grouped_stream_fraction;
  return afd_json_get_number (g, &gw, "stream_fraction_fp8",
                              AFD_JSON_OPTIONAL | AFD_JSON_FRACTION,
                              &eff->grouped_stream_fraction_fp8, error);
}

/* Reads the optional price and board power (docs/models/cost.md): each finite and > 0 when
 * given; idle_power_w needs tdp_w and must stay below it; any of the three needs its citation
 * in price_power_source. */
static gboolean
read_price_power (const cJSON *root, const char *file, AfdGpuSpec *spec, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  if (!afd_json_get_number (root, &where, "price_usd_per_gpu_hour", AFD_JSON_POSITIVE,
                            &spec->price_usd_per_gpu_hour, error)
      || !afd_json_get_number (root, &where, "tdp_w", AFD_JSON_POSITIVE, &spec->tdp_w, error)
      || !afd_json_get_number (root, &where, "idle_power_w", AFD_JSON_POSITIVE,
                               &spec->idle_power_w, error)
      || !afd_json_get_string (root, &where, "price_power_source", AFD_JSON_OPTIONAL,
                               &spec->price_power_source, error))
    return FALSE;
  if ((spec->tdp_w > 0) != (spec->idle_power_w > 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                   "%s: %s: give tdp_w and idle_power_w together (the energy model needs both)",
                   file, spec->tdp_w > 0 ? "idle_power_w" : "tdp_w");
      return FALSE;
    }
  if (spec->idle_power_w > 0 && !(spec->idle_power_w < spec->tdp_w))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                   "%s: idle_power_w: must be below tdp_w (%g W >= %g W)", file,
                   spec->idle_power_w, spec->tdp_w);
      return FALSE;
    }
  if ((spec->price_usd_per_gpu_hour > 0 || spec->tdp_w > 0) && spec->price_power_source == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                   "%s: price_power_source: missing (cite price_usd_per_gpu_hour, tdp_w and "
                   "idle_power_w, or mark them [EST])", file);
      return FALSE;
    }
  return TRUE;
}

/* Reads the optional "nvlink_efficiency_by_gpus" object: keys whole numbers 2..1024 (as
 * text), values in (0, 1], at most 16 entries; kept in ascending N. */
static gboolean
read_nvlink_by_gpus (const cJSON *root, const char *file, AfdGpuSpec *spec, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &where, "nvlink_efficiency_by_gpus", AFD_JSON_OPTIONAL,
                           cJSON_Object, &obj, error))
    return FALSE;
  if (obj == NULL)
    return TRUE;
  const AfdJsonWhere nw = { file, "nvlink_efficiency_by_gpus", AFD_ERROR_TOPOLOGY };
  const cJSON *e;
  cJSON_ArrayForEach (e, obj)
  {
    guint64 n = 0;
    if (!g_ascii_string_to_unsigned (e->string, 10, 2, 1024, &n, NULL))
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                     "%s: nvlink_efficiency_by_gpus: key '%.40s' is not a GPU count 2..1024",
                     file, e->string);
        return FALSE;
      }
    if (spec->n_nvlink_by_gpus == G_N_ELEMENTS (spec->nvlink_by_gpus_count))
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                     "%s: nvlink_efficiency_by_gpus: more than %u entries", file,
                     (guint) G_N_ELEMENTS (spec->nvlink_by_gpus_count));
        return FALSE;
      }
    double v = 0;
    if (!afd_json_get_number (obj, &nw, e->string, AFD_JSON_REQUIRED | AFD_JSON_FRACTION, &v,
                              error))
      return FALSE;
    guint i = spec->n_nvlink_by_gpus++;
    for (; i > 0 && spec->nvlink_by_gpus_count[i - 1] > n; i--)
      {
        spec->nvlink_by_gpus_count[i] = spec->nvlink_by_gpus_count[i - 1];
        spec->nvlink_by_gpus_efficiency[i] = spec->nvlink_by_gpus_efficiency[i - 1];
      }
    if (i > 0 && spec->nvlink_by_gpus_count[i - 1] == n)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                     "%s: nvlink_efficiency_by_gpus: GPU count %" G_GUINT64_FORMAT " twice",
                     file, n);
        return FALSE;
      }
    spec->nvlink_by_gpus_count[i] = (guint) n;
    spec->nvlink_by_gpus_efficiency[i] = v;
  }
  return TRUE;
}

/* Fills @spec from the parsed tree of @file. */
static gboolean
read_spec (const cJSON *root, const char *file, AfdGpuSpec *spec, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = {
    "name", "source", "peak_flop_per_s", "hbm_bytes", "hbm_bandwidth_bytes_per_s",
    "nvlink_bandwidth_bytes_per_s", "sm_count", "launch_overhead_s", "l2_bytes", "efficiency",
    "nvlink_efficiency", "nvls_efficiency", "nvlink_efficiency_by_gpus", "price_usd_per_gpu_hour",
    "tdp_w", "idle_power_w",
    "price_power_source", NULL
  };
  const AfdJsonFlags pos = AFD_JSON_REQUIRED | AFD_JSON_POSITIVE;
  gint64 sm_count = 0;
  if (!afd_json_check_object (root, &where, allowed, error)
      || !afd_json_get_string (root, &where, "name", AFD_JSON_REQUIRED, &spec->name, error)
      || !afd_json_get_string (root, &where, "source", AFD_JSON_REQUIRED, &spec->source, error)
      || !read_peaks (root, file, spec, error)
      || !afd_json_get_number (root, &where, "hbm_bytes", pos, &spec->hbm_bytes, error)
      || !afd_json_get_number (root, &where, "hbm_bandwidth_bytes_per_s", pos,
                               &spec->hbm_bandwidth_bytes_per_s, error)
      || !afd_json_get_number (root, &where, "nvlink_bandwidth_bytes_per_s",
                               AFD_JSON_REQUIRED | AFD_JSON_NONNEGATIVE,
                               &spec->nvlink_bandwidth_bytes_per_s, error)
      || !afd_json_get_int (root, &where, "sm_count", AFD_JSON_REQUIRED, 1, 1 << 20, &sm_count,
                            error)
      || !afd_json_get_number (root, &where, "launch_overhead_s",
                               AFD_JSON_REQUIRED | AFD_JSON_NONNEGATIVE,
                               &spec->launch_overhead_s, error)
      || !afd_json_get_number (root, &where, "l2_bytes", pos, &spec->l2_bytes, error)
      || !read_efficiency (root, file, &spec->efficiency, error)
      || !read_launch_per_class (cJSON_GetObjectItemCaseSensitive (root, "efficiency"), file,
                                 spec, error)
      || !afd_json_get_number (root, &where, "nvlink_efficiency", AFD_JSON_FRACTION,
                               &spec->nvlink_efficiency, error)
      || !afd_json_get_number (root, &where, "nvls_efficiency", AFD_JSON_FRACTION,
                               &spec->nvls_efficiency, error)
      || !read_nvlink_by_gpus (root, file, spec, error)
      || !read_price_power (root, file, spec, error))
    return FALSE;
  spec->sm_count = (guint) sm_count;
  return TRUE;
}

AfdGpuSpec *
afd_gpu_spec_load (const char *name_or_file, GError **error)
{
  g_autofree char *path = afd_data_resolve ("topologies/gpus", "GPU", name_or_file, error);
  if (path == NULL)
    return NULL;
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_TOPOLOGY, error);
  if (root == NULL)
    return NULL;
  g_autoptr (AfdGpuSpec) spec = g_new0 (AfdGpuSpec, 1);
  if (!read_spec (root, path, spec, error))
    return NULL;
  return g_steal_pointer (&spec);
}
