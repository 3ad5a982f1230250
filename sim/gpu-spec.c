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
                                         "attention_max_fraction", "grouped_gemm", NULL };
  if (!afd_json_check_object (obj, &ew, allowed, error))
    return FALSE;
  const AfdJsonFlags frac = AFD_JSON_REQUIRED | AFD_JSON_FRACTION;
  if (!(afd_json_get_number (obj, &ew, "gemm_max_fraction", frac, &eff->gemm_max_fraction,
                             error)
        && afd_json_get_number (obj, &ew, "gemm_half_m", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                &eff->gemm_half_m, error)
        && afd_json_get_number (obj, &ew, "memory_fraction", frac, &eff->memory_fraction, error)
        && afd_json_get_number (obj, &ew, "attention_max_fraction", frac,
                                &eff->attention_max_fraction, error)))
    return FALSE;
  /* The optional grouped expert GEMM block: all three keys or none. */
  const cJSON *g = NULL;
  if (!afd_json_get_child (obj, &ew, "grouped_gemm", AFD_JSON_OPTIONAL, cJSON_Object, &g, error))
    return FALSE;
  if (g == NULL)
    return TRUE;
  const AfdJsonWhere gw = { file, "efficiency.grouped_gemm", AFD_ERROR_TOPOLOGY };
  static const char *const gkeys[] = { "max_fraction_bf16", "max_fraction_fp8",
                                       "stream_fraction", NULL };
  return afd_json_check_object (g, &gw, gkeys, error)
         && afd_json_get_number (g, &gw, "max_fraction_bf16", frac,
                                 &eff->grouped_max_fraction_bf16, error)
         && afd_json_get_number (g, &gw, "max_fraction_fp8", frac,
                                 &eff->grouped_max_fraction_fp8, error)
         && afd_json_get_number (g, &gw, "stream_fraction", frac, &eff->grouped_stream_fraction,
                                 error);
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

/* Fills @spec from the parsed tree of @file. */
static gboolean
read_spec (const cJSON *root, const char *file, AfdGpuSpec *spec, GError **error)
{
  const AfdJsonWhere where = { file, "", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = {
    "name", "source", "peak_flop_per_s", "hbm_bytes", "hbm_bandwidth_bytes_per_s",
    "nvlink_bandwidth_bytes_per_s", "sm_count", "launch_overhead_s", "l2_bytes", "efficiency",
    "nvlink_efficiency", "nvls_efficiency", "price_usd_per_gpu_hour", "tdp_w", "idle_power_w",
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
      || !afd_json_get_number (root, &where, "nvlink_efficiency", AFD_JSON_FRACTION,
                               &spec->nvlink_efficiency, error)
      || !afd_json_get_number (root, &where, "nvls_efficiency", AFD_JSON_FRACTION,
                               &spec->nvls_efficiency, error)
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
