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
#include <stdarg.h>
#include <stdlib.h>
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
  GArray *samples;   /* AfdFitSample */
  GPtrArray *labels; /* char*, one per sample: the shape class of its table (--by-table) */
  char *label;       /* the label add() gives the next samples */
} Samples;

static void
samples_free (Samples *s)
{
  for (guint i = 0; i < s->samples->len; i++)
    afd_op_free (g_array_index (s->samples, AfdFitSample, i).op);
  g_array_unref (s->samples);
  g_ptr_array_unref (s->labels);
  g_free (s->label);
  g_free (s);
}

/* Sets the label of the samples add() adds next. */
G_GNUC_PRINTF (2, 3) static void
set_label (Samples *s, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_free (s->label);
  s->label = g_strdup_vprintf (format, ap);
  va_end (ap);
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
  g_ptr_array_add (s->labels, g_strdup (s->label != NULL ? s->label : ""));
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
  s->labels = g_ptr_array_new_with_free_func (g_free);
  const cJSON *t, *p;
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "gemm"))
  {
    AfdDtype d = dtype_of (t);
    AfdFitFamily f = d == AFD_DTYPE_FP8 ? AFD_FIT_GEMM_FP8 : AFD_FIT_GEMM_BF16;
    set_label (s, "%s n=%.0f k=%.0f", afd_dtype_name (d), num (t, "n"), num (t, "k"));
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (t, "points"))
    add (s, f, gemm_op (AFD_OP_DENSE_FFN, d, num (p, "m"), num (t, "n"), num (t, "k")),
         num (p, "time_median_s"));
  }
  cJSON_ArrayForEach (t, cJSON_GetObjectItem (root, "attention_decode"))
  {
    double hq = num (t, "heads_q"), hkv = num (t, "heads_kv"), dqk = num (t, "head_dim_qk"),
           dv = num (t, "head_dim_v"), batch = num (t, "batch");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive (t, "kind");
    set_label (s, "%s heads %.0f/%.0f d=%.0f/%.0f", cJSON_IsString (kind) ? kind->valuestring : "?",
               hq, hkv, dqk, dv);
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
    set_label (s, "heads %.0f d=%.0f", heads, d);
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
  set_label (s, "device-to-device copy");
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
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive (t, "distribution");
    set_label (s, "%s E=%.0f n=%.0f k=%.0f %s", afd_dtype_name (d), num (t, "experts"), n, k,
               cJSON_IsString (dist) ? dist->valuestring : "");
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

/* Keys of the report's JSON, and of the GPU file's efficiency.launch_overhead_per_class_s. */
static const char *const launch_keys[3]
    = { "launch_overhead_gemm_s", "launch_overhead_attention_s", "launch_overhead_memory_s" };
static const char *const class_keys[3] = { "gemm", "attention", "memory" };

static void
efficiency_json (cJSON *obj, const char *key, const AfdFitParams *p)
{
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  afd_json_add_number (o, "gemm_max_fraction", p->efficiency.gemm_max_fraction);
  afd_json_add_number (o, "gemm_max_fraction_fp8", p->efficiency.gemm_max_fraction_fp8);
  afd_json_add_number (o, "gemm_half_m", p->efficiency.gemm_half_m);
  afd_json_add_number (o, "memory_fraction", p->efficiency.memory_fraction);
  afd_json_add_number (o, "attention_max_fraction", p->efficiency.attention_max_fraction);
  for (int c = 0; c < 3; c++)
    afd_json_add_number (o, launch_keys[c], p->launch_overhead_s[c]);
}

/* Rounds the fitted values to what the grid resolves (3 decimals; half_m to 0.1). */
static double
round_to (double x, double step)
{
  return round (x / step) * step;
}

static void
round_params (AfdFitParams *p)
{
  p->efficiency.gemm_max_fraction = round_to (p->efficiency.gemm_max_fraction, 1e-4);
  p->efficiency.gemm_max_fraction_fp8 = round_to (p->efficiency.gemm_max_fraction_fp8, 1e-4);
  p->efficiency.memory_fraction = round_to (p->efficiency.memory_fraction, 1e-4);
  p->efficiency.attention_max_fraction = round_to (p->efficiency.attention_max_fraction, 1e-4);
  p->efficiency.gemm_half_m = round_to (p->efficiency.gemm_half_m, 0.01);
  for (int c = 0; c < 3; c++)
    p->launch_overhead_s[c] = round_to (p->launch_overhead_s[c], 1e-8);
}

/* The provenance sentence --write adds; a previous one in the source is replaced. */
#define FIT_SENTENCE_START " [FIT] efficiency block and "
#define FIT_SENTENCE_END "they replace the values above"

/* Writes @gpu_path's JSON with the fitted parameters and a sentence of provenance. */
static gboolean
write_gpu (const char *gpu_path, const char *out_path, const AfdFitParams *p,
           const char *profile_path, const char *device, const char *date, GError **error)
{
  g_autoptr (cJSON) root = afd_json_parse_file (gpu_path, AFD_ERROR_TOPOLOGY, error);
  if (root == NULL)
    return FALSE;
  cJSON *e = cJSON_GetObjectItemCaseSensitive (root, "efficiency");
  const char *keys[] = { "gemm_max_fraction", "gemm_half_m", "memory_fraction",
                         "attention_max_fraction" };
  const double vals[] = { p->efficiency.gemm_max_fraction, p->efficiency.gemm_half_m,
                          p->efficiency.memory_fraction, p->efficiency.attention_max_fraction };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    cJSON_ReplaceItemInObjectCaseSensitive (e, keys[i], cJSON_CreateNumber (vals[i]));
  cJSON_DeleteItemFromObjectCaseSensitive (e, "gemm_max_fraction_fp8");
  if (p->efficiency.gemm_max_fraction_fp8 > 0)
    cJSON_AddNumberToObject (e, "gemm_max_fraction_fp8", p->efficiency.gemm_max_fraction_fp8);
  cJSON_DeleteItemFromObjectCaseSensitive (e, "launch_overhead_per_class_s");
  cJSON *lc = cJSON_AddObjectToObject (e, "launch_overhead_per_class_s");
  for (int c = 0; c < 3; c++)
    cJSON_AddNumberToObject (lc, class_keys[c], p->launch_overhead_s[c]);
  const cJSON *src = cJSON_GetObjectItemCaseSensitive (root, "source");
  g_autofree char *base = g_path_get_basename (profile_path);
  g_autofree char *sentence = g_strdup_printf (
      FIT_SENTENCE_START "launch overheads fitted by `afdsim fit` to the measured profile %s "
      "(%s, measured %s): least squares in log space per op family, one launch overhead per "
      "kernel class (efficiency.launch_overhead_per_class_s; docs/backends/analytical.md); "
      FIT_SENTENCE_END,
      base, device, date);
  const char *old = cJSON_IsString (src) ? src->valuestring : "";
  const char *from = strstr (old, FIT_SENTENCE_START);
  const char *to = from != NULL ? strstr (from, FIT_SENTENCE_END) : NULL;
  /* Replacing keeps what followed the old sentence (its full stop, a remark); appending
   * ends the new one. */
  g_autofree char *source
      = to != NULL ? g_strdup_printf ("%.*s%s%s", (int) (from - old), old, sentence,
                                      to + strlen (FIT_SENTENCE_END))
                   : g_strconcat (old, sentence, ".", NULL);
  cJSON_ReplaceItemInObjectCaseSensitive (root, "source", cJSON_CreateString (source));
  return afd_json_write_file (out_path, root, error);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* --by-table: the error of every table's shape class at @gpu's values, in profile order. */
static gboolean
print_by_table (const AfdGpuSpec *gpu, const Samples *s, GError **error)
{
  const AfdFitSample *samples = (const AfdFitSample *) s->samples->data;
  guint n = s->samples->len;
  g_autofree double *t = g_new (double, MAX (n, 1u));
  if (!afd_fit_price (gpu, samples, n, t, error))
    return FALSE;
  printf ("error per table (shape class) with the fitted parameters:\n");
  printf ("  %-18s %-34s %6s %12s %12s\n", "family", "table", "points", "median|err|",
          "median err");
  g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree double *abs_err = g_new (double, MAX (n, 1u));
  g_autofree double *err = g_new (double, MAX (n, 1u));
  for (guint i = 0; i < n; i++)
    {
      const char *label = s->labels->pdata[i];
      g_autofree char *key = g_strdup_printf ("%d %s", samples[i].family, label);
      if (g_hash_table_contains (done, key))
        continue;
      g_hash_table_add (done, g_steal_pointer (&key));
      guint k = 0;
      for (guint j = i; j < n; j++)
        if (samples[j].family == samples[i].family && strcmp (s->labels->pdata[j], label) == 0
            && samples[j].measured_s > 0)
          {
            err[k] = (t[j] - samples[j].measured_s) / samples[j].measured_s;
            abs_err[k] = fabs (err[k]);
            k++;
          }
      if (k == 0)
        continue;
      qsort (abs_err, k, sizeof (double), cmp_double);
      qsort (err, k, sizeof (double), cmp_double);
      double med_abs = k % 2 ? abs_err[k / 2] : 0.5 * (abs_err[k / 2 - 1] + abs_err[k / 2]);
      double med = k % 2 ? err[k / 2] : 0.5 * (err[k / 2 - 1] + err[k / 2]);
      printf ("  %-18s %-34s %6u %11.1f%% %+11.1f%%\n", afd_fit_family_name (samples[i].family),
              label, k, 100 * med_abs, 100 * med);
    }
  return TRUE;
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

/* The report's parameter table. */
static void
print_params (const char *left, const AfdFitParams *file, const char *right,
              const AfdFitParams *fitted)
{
  static const char *const launch_rows[3]
      = { "launch gemm (us)", "launch attention (us)", "launch memory (us)" };
  printf ("%-24s %12s %12s\n", "parameter", left, right);
  printf ("%-24s %12.4f %12.4f\n", "gemm_max_fraction", file->efficiency.gemm_max_fraction,
          fitted->efficiency.gemm_max_fraction);
  printf ("%-24s %12.4f %12.4f\n", "gemm_max_fraction_fp8",
          file->efficiency.gemm_max_fraction_fp8, fitted->efficiency.gemm_max_fraction_fp8);
  printf ("%-24s %12.2f %12.2f\n", "gemm_half_m", file->efficiency.gemm_half_m,
          fitted->efficiency.gemm_half_m);
  printf ("%-24s %12.4f %12.4f\n", "memory_fraction", file->efficiency.memory_fraction,
          fitted->efficiency.memory_fraction);
  printf ("%-24s %12.4f %12.4f\n", "attention_max_fraction",
          file->efficiency.attention_max_fraction, fitted->efficiency.attention_max_fraction);
  for (int c = 0; c < 3; c++)
    printf ("%-24s %12.2f %12.2f\n", launch_rows[c], file->launch_overhead_s[c] * 1e6,
            fitted->launch_overhead_s[c] * 1e6);
}

/* Fits @samples and measures the errors at the (rounded) fitted point. */
static gboolean
fit_and_measure (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                 gboolean fit_grouped, gboolean hold_half_m, AfdFitParams *out,
                 AfdFitFamilyError *after, GError **error)
{
  if (!afd_fit_efficiency (gpu, samples, n, fit_grouped, hold_half_m, out, error))
    return FALSE;
  round_params (out);
  AfdGpuSpec fitted = *gpu;
  afd_fit_params_apply (out, &fitted);
  return afd_fit_errors (&fitted, samples, n, after, error);
}

/* Runs `afdsim fit`. */
static int
cmd_fit (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_autofree char *profile_name = NULL, *gpu_name = NULL, *json_path = NULL, *write_path = NULL;
  g_autofree char *holdout = NULL;
  gboolean fit_grouped = FALSE, by_table = FALSE;
  double half_m = 0;
  GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_STRING, &profile_name,
      "measured profile: shipped name or file (required)", "NAME|FILE" },
    { "gpu", 0, 0, G_OPTION_ARG_STRING, &gpu_name,
      "GPU file whose parameters are fitted: shipped name or file (default: the profile's name)",
      "G" },
    { "fit-grouped", 0, 0, G_OPTION_ARG_NONE, &fit_grouped,
      "also fit to the grouped GEMM points (default: report them only)", NULL },
    { "holdout", 0, 0, G_OPTION_ARG_STRING, &holdout,
      "also fit on a half of each family's points drawn from SEED and report the error on the "
      "other half", "SEED" },
    { "gemm-half-m", 0, 0, G_OPTION_ARG_DOUBLE, &half_m,
      "hold gemm_half_m at ROWS instead of fitting it (maps the objective along it)", "ROWS" },
    { "by-table", 0, 0, G_OPTION_ARG_NONE, &by_table,
      "also print the error of every profile table's shape class at the fitted values", NULL },
    { "json", 0, 0, G_OPTION_ARG_STRING, &json_path, "write the fit and the errors to FILE",
      "FILE" },
    { "write", 0, 0, G_OPTION_ARG_STRING, &write_path,
      "write the GPU file with the fitted values to FILE", "FILE" },
    { NULL },
  };
  static const char summary[]
      = "Fits a GPU file's analytic efficiency parameters (gemm_max_fraction, gemm_half_m,\n"
        "memory_fraction, attention_max_fraction, gemm_max_fraction_fp8 and a launch overhead\n"
        "per kernel class: gemm, attention, memory) to a measured profile by least squares in\n"
        "log space, and prints the error per op family before and after\n"
        "(docs/backends/analytical.md).";
  if (!afd_cli_parse_command (&afd_command_fit, summary, entries, &argc, &argv, error))
    return 2;
  if (profile_name == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "fit: --profile is required");
      return 2;
    }
  if (half_m < 0 || (half_m > 0 && !(half_m >= 1 && half_m <= 4096)))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "fit: --gemm-half-m: %g rows is outside the fit's range [1, 4096]", half_m);
      return 2;
    }
  guint64 seed = 0;
  if (holdout != NULL
      && !g_ascii_string_to_unsigned (holdout, 10, 0, G_MAXUINT32, &seed, NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "fit: --holdout: '%s' is not a seed (an integer 0..%u)", holdout,
                   G_MAXUINT32);
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
  const gboolean hold_half_m = half_m > 0;
  AfdGpuSpec start = *gpu; /* the fit's start: the file, gemm_half_m held where asked */
  if (hold_half_m)
    start.efficiency.gemm_half_m = half_m;
  g_autoptr (Samples) s = read_samples (ppath, error);
  if (s == NULL)
    return 1;
  const AfdFitSample *samples = (const AfdFitSample *) s->samples->data;
  guint n = s->samples->len;
  AfdFitFamilyError before[AFD_FIT_N_FAMILIES], after[AFD_FIT_N_FAMILIES];
  if (!afd_fit_errors (gpu, samples, n, before, error))
    return 1;
  const AfdFitParams file_params = afd_fit_params_of (gpu);
  AfdFitParams fitted;
  if (!fit_and_measure (&start, samples, n, fit_grouped, hold_half_m, &fitted, after, error))
    return 1;
  /* Out of sample: fit on one half of every family, errors on both halves. */
  g_autoptr (GArray) half = g_array_new (FALSE, FALSE, sizeof (AfdFitSample));
  g_autoptr (GArray) rest = g_array_new (FALSE, FALSE, sizeof (AfdFitSample));
  AfdFitParams half_params;
  AfdFitFamilyError half_err[AFD_FIT_N_FAMILIES], rest_err[AFD_FIT_N_FAMILIES];
  if (holdout != NULL)
    {
      afd_fit_split (samples, n, (guint32) seed, half, rest);
      AfdGpuSpec on_half = *gpu;
      if (!fit_and_measure (&start, (AfdFitSample *) half->data, half->len, fit_grouped,
                            hold_half_m, &half_params, half_err, error))
        return 1;
      afd_fit_params_apply (&half_params, &on_half);
      if (!afd_fit_errors (&on_half, (AfdFitSample *) rest->data, rest->len, rest_err, error))
        return 1;
    }

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
  print_params ("GPU file", &file_params, "fitted", &fitted);
  print_errors ("error of the analytic backend vs the profile, GPU file's parameters:", before);
  print_errors ("error with the fitted parameters:", after);
  printf ("objective J at the fitted values: %.6f%s\n", fitted.objective,
          hold_half_m ? " (gemm_half_m held)" : "");
  if (by_table)
    {
      AfdGpuSpec at = *gpu;
      afd_fit_params_apply (&fitted, &at);
      if (!print_by_table (&at, s, error))
        return 1;
    }
  if (holdout != NULL)
    {
      printf ("held-out check (seed %s): fitted on %u points, half of each family:\n", holdout,
              half->len);
      print_params ("all points", &fitted, "half", &half_params);
      print_errors ("error on the fitting half (in sample):", half_err);
      print_errors ("error on the held-out half (out of sample):", rest_err);
    }
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
      cJSON_AddBoolToObject (out, "gemm_half_m_held", hold_half_m);
      afd_json_add_number (out, "objective", fitted.objective);
      efficiency_json (out, "before", &file_params);
      efficiency_json (out, "fitted", &fitted);
      errors_json (out, "errors_before", before);
      errors_json (out, "errors_fitted", after);
      if (holdout != NULL)
        {
          cJSON *h = cJSON_AddObjectToObject (out, "holdout");
          afd_json_add_number (h, "seed", (double) seed);
          afd_json_add_number (h, "points_fitted", half->len);
          afd_json_add_number (h, "points_held_out", rest->len);
          efficiency_json (h, "fitted", &half_params);
          errors_json (h, "errors_fitting_half", half_err);
          errors_json (h, "errors_held_out", rest_err);
        }
      if (!afd_json_write_file (json_path, out, error))
        return 1;
    }
  if (write_path != NULL
      && !write_gpu (gpath, write_path, &fitted, ppath, afd_profile_get_device_name (prof),
                     date_s, error))
    return 1;
  return 0;
}

const AfdCommand afd_command_fit = {
  "fit", "fit a GPU file's analytic efficiency parameters to a measured profile", cmd_fit,
  NULL, 0
};
