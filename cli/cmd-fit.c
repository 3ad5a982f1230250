/* SPDX-License-Identifier: MIT */
/*
 * cmd-fit.c - `afdsim fit`: fit a GPU file's analytic efficiency parameters to a measured
 * profile (least squares in log space, backends/fit.h), with the error per op family before
 * and after; --write FILE writes the GPU file with the fitted values and their source.
 *
 * Every measured point of the profile becomes one op, priced by the analytic backend:
 *   gemm (dtype, n, k; point m)        FLOPs 2·m·n·k; bytes (m·k + k·n)·e + m·n·e_out
 *   attention_decode (point context)   FLOPs and KV bytes as measured (kv_bytes, flop), plus the
 *                                      queries and outputs (batch·heads_q·(d_qk + d_v)·2 B)
 *   attention_prefill (point seq_len)  FLOPs as measured (the full square the emulation runs);
 *                                      bytes Q, K, V read and O written, 4·seq·heads·d·2 B
 *   memory_copy (point size_bytes)     bytes 2·size (read + write), no FLOPs
 *   grouped_gemm (point tokens_per_expert) one grouped op over the experts with tokens,
 *                                      count 1, reported (fitted only with --fit-grouped)
 * e = bytes of the dtype; fp8 GEMMs write bf16. The profile is loaded (and so validated) by
 * afd_profile_load() first; the points are then read from its JSON.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/fit.h"
#include "backends/profile.h"
#include "cli/commands.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/json.h"

/* The samples and the ops they own. */
typedef struct {
  GArray *samples; /* AfdFitSample */
} Samples;

static void
samples_free (Samples *s)
{
  for (guint i = 0; i < s->samples->len; i++)
    afd_op_free (g_array_index (s->samples, AfdFitSample, i).op);
  g_array_unref (s->samples);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Samples, samples_free)

static double
num (const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (obj, key);
  return cJSON_IsNumber (v) ? v->valuedouble : 0;
}

static void
add (Samples *s, AfdFitFamily family, AfdOp *op, double measured_s)
{
  AfdFitSample sample = { family, op, measured_s };
  g_array_append_val (s->samples, sample);
}

static AfdDtype
dtype_of (const cJSON *table)
{
  AfdDtype d = AFD_DTYPE_BF16;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (table, "dtype");
  if (cJSON_IsString (v))
    afd_dtype_from_name (v->valuestring, &d);
  return d;
}

static AfdOp *
gemm_op (AfdOpKind kind, AfdDtype dtype, double m, double n, double k)
{
  AfdOp *op = afd_op_new (kind, "fit.gemm");
  const double e = afd_dtype_bytes (dtype);
  const double e_out = dtype == AFD_DTYPE_FP8 || dtype == AFD_DTYPE_FP4 ? 2.0 : e;
  op->dtype = dtype;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { (guint64) m, (guint64) n, (guint64) k, 1 };
  op->flops = 2.0 * m * n * k;
  op->bytes_read = (m * k + k * n) * e;
  op->bytes_written = m * n * e_out;
  return op;
}

/* Reads every measured point of the profile at @path into samples. */
static Samples *
read_samples (const char *path, GError **error)
{
  g_autoptr (AfdProfile) check = afd_profile_load (path, error);
  if (check == NULL)
    return NULL;
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return NULL;
  g_autoptr (Samples) s = g_new0 (Samples, 1);
  s->samples = g_array_new (FALSE, FALSE, sizeof (AfdFitSample));
  const cJSON *t, *p;
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "gemm"))
  {
    AfdDtype d = dtype_of (t);
    AfdFitFamily f = d == AFD_DTYPE_FP8 ? AFD_FIT_GEMM_FP8 : AFD_FIT_GEMM_BF16;
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (t, "points"))
    add (s, f, gemm_op (AFD_OP_DENSE_FFN, d, num (p, "m"), num (t, "n"), num (t, "k")),
         num (p, "time_median_s"));
  }
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "attention_decode"))
  {
    double hq = num (t, "heads_q"), hkv = num (t, "heads_kv"), dqk = num (t, "head_dim_qk"),
           dv = num (t, "head_dim_v"), batch = num (t, "batch");
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (t, "points"))
    {
      AfdOp *op = afd_op_new (AFD_OP_ATTENTION_DECODE, "fit.decode");
      op->dtype = dtype_of (t);
      op->flops = num (p, "flop");
      op->bytes_read = num (p, "kv_bytes") + batch * hq * dqk * 2.0;
      op->bytes_written = batch * hq * dv * 2.0;
      op->has_attention = TRUE;
      op->attention = (AfdAttentionShape) { (guint) hq, (guint) hkv, (guint) dqk, (guint) dv,
                                            (guint64) batch, 1, (guint64) num (p, "context") };
      add (s, AFD_FIT_DECODE, op, num (p, "time_median_s"));
    }
  }
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "attention_prefill"))
  {
    double heads = num (t, "heads"), d = num (t, "head_dim");
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (t, "points"))
    {
      double seq = num (p, "seq_len");
      AfdOp *op = afd_op_new (AFD_OP_ATTENTION_PREFILL, "fit.prefill");
      op->dtype = dtype_of (t);
      op->flops = num (p, "flop");
      op->bytes_read = 3.0 * seq * heads * d * 2.0;
      op->bytes_written = seq * heads * d * 2.0;
      op->has_attention = TRUE;
      op->attention = (AfdAttentionShape) { (guint) heads, (guint) heads, (guint) d, (guint) d,
                                            1, (guint64) seq, 0 };
      add (s, AFD_FIT_PREFILL, op, num (p, "time_median_s"));
    }
  }
  cJSON_ArrayForEach (p, cJSON_GetObjectItem (cJSON_GetObjectItem (root, "memory_copy"),
                                              "points"))
  {
    AfdOp *op = afd_op_new (AFD_OP_ELEMENTWISE, "fit.copy");
    op->bytes_read = op->bytes_written = num (p, "size_bytes");
    add (s, AFD_FIT_MEMORY, op, num (p, "time_median_s"));
  }
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "grouped_gemm"))
  {
    AfdDtype d = dtype_of (t);
    double n = num (t, "n"), k = num (t, "k");
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (t, "points"))
    {
      g_autoptr (GArray) tokens = g_array_new (FALSE, FALSE, sizeof (guint64));
      const cJSON *e;
      double total = 0, used = 0;
      cJSON_ArrayForEach (e, cJSON_GetObjectItem (p, "tokens_per_expert"))
      {
        guint64 v = (guint64) e->valuedouble;
        g_array_append_val (tokens, v);
        total += (double) v;
        used += v > 0;
      }
      if (tokens->len == 0 || total <= 0)
        continue;
      AfdOp *op = gemm_op (AFD_OP_EXPERT_GROUPED_GEMM, d, ceil (total / tokens->len), n, k);
      const double eb = afd_dtype_bytes (d);
      op->flops = 2.0 * total * n * k;
      op->bytes_read = used * n * k * eb + total * k * eb;
      op->bytes_written = total * n * (d == AFD_DTYPE_FP8 ? 2.0 : eb);
      afd_op_set_expert_tokens (op, (guint64 *) tokens->data, tokens->len);
      add (s, AFD_FIT_GROUPED, op, num (p, "time_median_s"));
    }
  }
  return g_steal_pointer (&s);
}

/* Adds the per-family errors under @key. */
static void
errors_json (cJSON *obj, const char *key, const AfdFitFamilyError *e)
{
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  for (int f = 0; f < AFD_FIT_N_FAMILIES; f++)
    {
      if (e[f].n == 0)
        continue;
      cJSON *x = cJSON_AddObjectToObject (o, afd_fit_family_name ((AfdFitFamily) f));
      afd_json_add_number (x, "points", e[f].n);
      afd_json_add_number (x, "median_abs_error_rel", e[f].median_abs_error_rel);
      afd_json_add_number (x, "p90_abs_error_rel", e[f].p90_abs_error_rel);
      afd_json_add_number (x, "median_error_rel", e[f].median_error_rel);
    }
}

static void
efficiency_json (cJSON *obj, const char *key, const AfdGpuEfficiency *eff, double launch_s)
{
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  afd_json_add_number (o, "gemm_max_fraction", eff->gemm_max_fraction);
  afd_json_add_number (o, "gemm_half_m", eff->gemm_half_m);
  afd_json_add_number (o, "memory_fraction", eff->memory_fraction);
  afd_json_add_number (o, "attention_max_fraction", eff->attention_max_fraction);
  afd_json_add_number (o, "launch_overhead_s", launch_s);
}

/* Rounds the fitted values to what the grid resolves (3 decimals; half_m to 0.1). */
static double
round_to (double x, double step)
{
  return round (x / step) * step;
}

/* Writes @gpu_path's JSON with the fitted parameters and a sentence of provenance. */
static gboolean
write_gpu (const char *gpu_path, const char *out_path, const AfdGpuEfficiency *eff,
           double launch_s, const char *profile_path, const char *device, const char *date,
           GError **error)
{
  g_autoptr (cJSON) root = afd_json_parse_file (gpu_path, AFD_ERROR_TOPOLOGY, error);
  if (root == NULL)
    return FALSE;
  cJSON *e = cJSON_GetObjectItemCaseSensitive (root, "efficiency");
  const char *keys[] = { "gemm_max_fraction", "gemm_half_m", "memory_fraction",
                         "attention_max_fraction" };
  const double vals[] = { eff->gemm_max_fraction, eff->gemm_half_m, eff->memory_fraction,
                          eff->attention_max_fraction };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    cJSON_ReplaceItemInObjectCaseSensitive (e, keys[i], cJSON_CreateNumber (vals[i]));
  cJSON_ReplaceItemInObjectCaseSensitive (root, "launch_overhead_s",
                                          cJSON_CreateNumber (launch_s));
  const cJSON *src = cJSON_GetObjectItemCaseSensitive (root, "source");
  g_autofree char *base = g_path_get_basename (profile_path);
  g_autofree char *source = g_strdup_printf (
      "%s [FIT] efficiency block and launch_overhead_s fitted by `afdsim fit` to the measured "
      "profile %s (%s, measured %s): least squares in log space per op family "
      "(docs/backends/analytical.md); they replace the values above.",
      cJSON_IsString (src) ? src->valuestring : "", base, device, date);
  cJSON_ReplaceItemInObjectCaseSensitive (root, "source", cJSON_CreateString (source));
  return afd_json_write_file (out_path, root, error);
}

static void
print_errors (const char *title, const AfdFitFamilyError *e)
{
  printf ("%s\n", title);
  printf ("  %-18s %6s %12s %12s %12s\n", "family", "points", "median|err|", "p90|err|",
          "median err");
  for (int f = 0; f < AFD_FIT_N_FAMILIES; f++)
    if (e[f].n > 0)
      printf ("  %-18s %6u %11.1f%% %11.1f%% %+11.1f%%\n",
              afd_fit_family_name ((AfdFitFamily) f), e[f].n, 100 * e[f].median_abs_error_rel,
              100 * e[f].p90_abs_error_rel, 100 * e[f].median_error_rel);
}

/* Runs `afdsim fit`. */
static int
cmd_fit (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_autofree char *profile_name = NULL, *gpu_name = NULL, *json_path = NULL, *write_path = NULL;
  gboolean fit_grouped = FALSE;
  GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_STRING, &profile_name,
      "measured profile: shipped name or file (required)", "NAME|FILE" },
    { "gpu", 0, 0, G_OPTION_ARG_STRING, &gpu_name,
      "GPU file whose parameters are fitted: shipped name or file (default: the profile's name)",
      "G" },
    { "fit-grouped", 0, 0, G_OPTION_ARG_NONE, &fit_grouped,
      "also fit to the grouped GEMM points (default: report them only)", NULL },
    { "json", 0, 0, G_OPTION_ARG_STRING, &json_path, "write the fit and the errors to FILE",
      "FILE" },
    { "write", 0, 0, G_OPTION_ARG_STRING, &write_path,
      "write the GPU file with the fitted values to FILE", "FILE" },
    { NULL },
  };
  static const char summary[]
      = "Fits a GPU file's analytic efficiency parameters (gemm_max_fraction, gemm_half_m,\n"
        "memory_fraction, attention_max_fraction, launch_overhead_s) to a measured profile by\n"
        "least squares in log space, and prints the error per op family before and after\n"
        "(docs/backends/analytical.md).";
  if (!afd_cli_parse_command (&afd_command_fit, summary, entries, &argc, &argv, error))
    return 2;
  if (profile_name == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "fit: --profile is required");
      return 2;
    }
  g_autofree char *ppath = afd_data_resolve ("topologies/profiles", "profile", profile_name,
                                             error);
  if (ppath == NULL)
    return 1;
  g_autofree char *default_gpu = NULL;
  if (gpu_name == NULL)
    {
      g_autofree char *base = g_path_get_basename (profile_name);
      default_gpu = g_str_has_suffix (base, ".json") ? g_strndup (base, strlen (base) - 5)
                                                     : g_strdup (base);
    }
  const char *gname = gpu_name != NULL ? gpu_name : default_gpu;
  g_autofree char *gpath = afd_data_resolve ("topologies/gpus", "GPU", gname, error);
  if (gpath == NULL)
    return 1;
  /* --json and --write must not be the profile, the GPU file or each other (issue #14). */
  const AfdFileUse out_use[] = { { "--json", json_path }, { "--write", write_path } };
  const AfdFileUse in_use[] = { { "--profile", ppath }, { "--gpu", gpath } };
  if (!afd_files_check_distinct (out_use, G_N_ELEMENTS (out_use), in_use, G_N_ELEMENTS (in_use),
                                 error))
    return 2;
  g_autoptr (AfdGpuSpec) gpu = afd_gpu_spec_load (gpath, error);
  if (gpu == NULL)
    return 1;
  g_autoptr (Samples) s = read_samples (ppath, error);
  if (s == NULL)
    return 1;
  const AfdFitSample *samples = (const AfdFitSample *) s->samples->data;
  guint n = s->samples->len;
  AfdFitFamilyError before[AFD_FIT_N_FAMILIES], after[AFD_FIT_N_FAMILIES];
  if (!afd_fit_errors (gpu, samples, n, before, error))
    return 1;
  AfdGpuEfficiency eff;
  double launch_s;
  if (!afd_fit_efficiency (gpu, samples, n, fit_grouped, &eff, &launch_s, error))
    return 1;
  eff.gemm_max_fraction = round_to (eff.gemm_max_fraction, 1e-4);
  eff.memory_fraction = round_to (eff.memory_fraction, 1e-4);
  eff.attention_max_fraction = round_to (eff.attention_max_fraction, 1e-4);
  eff.gemm_half_m = round_to (eff.gemm_half_m, 0.01);
  launch_s = round_to (launch_s, 1e-8);
  AfdGpuSpec fitted = *gpu;
  fitted.efficiency = eff;
  fitted.launch_overhead_s = launch_s;
  if (!afd_fit_errors (&fitted, samples, n, after, error))
    return 1;

  g_autoptr (AfdProfile) prof = afd_profile_load (ppath, error);
  if (prof == NULL)
    return 1;
  g_autoptr (cJSON) root = afd_json_parse_file (ppath, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return 1;
  const cJSON *date = cJSON_GetObjectItem (cJSON_GetObjectItem (root, "provenance"), "date_utc");
  const char *date_s = cJSON_IsString (date) ? date->valuestring : "unknown date";

  printf ("# afdsim fit: %s (%u measured points, %s, %s) -> analytic parameters of %s\n",
          ppath, n, afd_profile_get_device_name (prof), date_s, gpu->name);
  printf ("%-24s %12s %12s\n", "parameter", "GPU file", "fitted");
  printf ("%-24s %12.4f %12.4f\n", "gemm_max_fraction", gpu->efficiency.gemm_max_fraction,
          eff.gemm_max_fraction);
  printf ("%-24s %12.2f %12.2f\n", "gemm_half_m", gpu->efficiency.gemm_half_m, eff.gemm_half_m);
  printf ("%-24s %12.4f %12.4f\n", "memory_fraction", gpu->efficiency.memory_fraction,
          eff.memory_fraction);
  printf ("%-24s %12.4f %12.4f\n", "attention_max_fraction",
          gpu->efficiency.attention_max_fraction, eff.attention_max_fraction);
  printf ("%-24s %12.2f %12.2f\n", "launch_overhead_s (us)", gpu->launch_overhead_s * 1e6,
          launch_s * 1e6);
  print_errors ("error of the analytic backend vs the profile, GPU file's parameters:", before);
  print_errors ("error with the fitted parameters:", after);
  if (!fit_grouped && before[AFD_FIT_GROUPED].n > 0)
    printf ("(grouped_gemm is reported, not fitted: --fit-grouped includes it)\n");

  if (json_path != NULL)
    {
      g_autoptr (cJSON) out = cJSON_CreateObject ();
      cJSON_AddStringToObject (out, "profile", ppath);
      cJSON_AddStringToObject (out, "device", afd_profile_get_device_name (prof));
      cJSON_AddStringToObject (out, "profile_date_utc", date_s);
      cJSON_AddStringToObject (out, "gpu", gpu->name);
      afd_json_add_number (out, "points", n);
      cJSON_AddBoolToObject (out, "fit_grouped", fit_grouped);
      efficiency_json (out, "before", &gpu->efficiency, gpu->launch_overhead_s);
      efficiency_json (out, "fitted", &eff, launch_s);
      errors_json (out, "errors_before", before);
      errors_json (out, "errors_fitted", after);
      if (!afd_json_write_file (json_path, out, error))
        return 1;
    }
  if (write_path != NULL
      && !write_gpu (gpath, write_path, &eff, launch_s, ppath,
                     afd_profile_get_device_name (prof), date_s, error))
    return 1;
  return 0;
}

const AfdCommand afd_command_fit = {
  "fit", "fit a GPU file's analytic efficiency parameters to a measured profile", cmd_fit,
  NULL, 0
};
