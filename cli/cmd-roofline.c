/* SPDX-License-Identifier: MIT */
/*
 * cmd-roofline.c - `afdsim roofline`: the AFD communication roofline of one model on one GPU
 * per N_F (FFN nodes), or with --table the HFU ceiling of every shipped model × GPU.
 *
 * The formulas live in models/roofline.c (docs/models/afd-roofline.md). This file only loads
 * the inputs: the model (sim/llm.h), the GPU's peak and HBM (sim/gpu-spec.h) and the effective
 * scale-up/scale-out bandwidths of topologies/roofline-hardware.json, applies command-line
 * overrides, and writes a text table to stdout and, with --json, a result file. It prints no
 * errors (main() does) and never writes a partial file.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "models/roofline.h"
#include "sim/data-dir.h"
#include "sim/duration.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/gpu-spec.h"
#include "sim/json.h"
#include "sim/llm.h"
#include "sim/provenance.h"

/* Most N_F values one run evaluates (a guard against "1..4000000000"). */
#define MAX_POINTS 100000
#define MAX_N_F 1000000

/* One entry of topologies/roofline-hardware.json. */
typedef struct {
  char *gpu;
  double scale_up_bytes_per_s;
  double scale_out_bytes_per_s;
  double peak_flop_per_s; /* 0: take the GPU spec's */
  guint gpus_per_node;
  char *source;
} HwEntry;

/* Frees one HwEntry. */
static void
hw_entry_free (gpointer data)
{
  HwEntry *e = data;
  g_free (e->gpu);
  g_free (e->source);
  g_free (e);
}

/* The command line, as strings, then converted. */
typedef struct {
  char *model, *gpu, *nf, *slo, *accept, *gap, *bo, *flops, *hbm_bw, *hbm_bytes, *scale_up,
      *scale_out, *gpus_per_node, *weight_bytes, *dispatch_bytes, *combine_bytes, *hardware,
      *json, *expert_dtype, *sigma, *lambda_ep, *afd;
  gboolean table, imbalance;
} Options;

/* Converted settings; an override of 0 means "not given". */
typedef struct {
  double slo_s, accept_length, gap_s;
  guint n_bo;
  double flops, hbm_bw, hbm_bytes, scale_up, scale_out, weight_bytes, dispatch_bytes,
      combine_bytes;
  guint gpus_per_node;
  gboolean expert_dtype_set; /* --expert-dtype given */
  AfdDtype expert_dtype;
  GArray *n_f; /* guint, in the order given */
  char *hardware_path;
} Settings;

/* Everything one (model, GPU) pair resolves to. */
typedef struct {
  AfdRooflineModel model;
  AfdRooflineHardware hw;
  AfdRooflineBudget budget;
  double t_b_s;
  const char *compute_dtype; /* "fp8", or "bf16" after a fallback */
  const char *flop_source;   /* where peak_flop_per_s came from */
  GPtrArray *notes;          /* char *, owned */
} Resolved;

/* Frees what a Resolved owns. */
static void
resolved_clear (Resolved *r)
{
  g_clear_pointer (&r->notes, g_ptr_array_unref);
}

/* Parses a duration flag with the one duration parser (sim/duration.h): a number of seconds,
 * or one with a unit s, ms, us or ns, 0 <= duration <= @max_s; leaves @out alone when absent. */
static gboolean
parse_seconds (const char *flag, const char *text, double max_s, double *out, GError **error)
{
  if (text == NULL)
    return TRUE;
  g_autofree char *what = g_strdup_printf ("%s '%s'", flag, text);
  return afd_duration_parse (what, text, TRUE, max_s, AFD_ERROR_USAGE, NULL, out, error);
}

/* Parses a positive double flag; leaves @out alone when absent. */
static gboolean
parse_positive (const char *flag, const char *text, double *out, GError **error)
{
  if (text == NULL)
    return TRUE;
  double v = 0;
  if (!afd_cli_parse_double (flag, text, 0, 1e30, &v, error))
    return FALSE;
  if (!(v > 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: must be > 0, got '%s'", flag, text);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Parses "A..B", "A,B,C" or "A" into a list of N_F values. */
static gboolean
parse_n_f (const char *text, GArray *out, GError **error)
{
  if (text[0] == '\0')
    {
      /* It said "none of the N_F values fits" before (issue #14). */
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--nf: empty; give A..B or A,B,C (1..%d) or leave it out", MAX_N_F);
      return FALSE;
    }
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *dots = strstr (parts[i], "..");
      gint64 lo = 0, hi = 0;
      if (dots != NULL)
        {
          g_autofree char *first = g_strndup (parts[i], dots - parts[i]);
          if (!afd_cli_parse_int ("--nf", first, 1, MAX_N_F, &lo, error) ||
              !afd_cli_parse_int ("--nf", dots + 2, 1, MAX_N_F, &hi, error))
            return FALSE;
          if (hi < lo)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                           "--nf: range '%s' ends before it starts", parts[i]);
              return FALSE;
            }
        }
      else
        {
          if (!afd_cli_parse_int ("--nf", parts[i], 1, MAX_N_F, &lo, error))
            return FALSE;
          hi = lo;
        }
      if ((gint64) out->len + (hi - lo + 1) > MAX_POINTS)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--nf: more than %d values",
                       MAX_POINTS);
          return FALSE;
        }
      for (gint64 n = lo; n <= hi; n++)
        {
          guint v = (guint) n;
          g_array_append_val (out, v);
        }
    }
  return TRUE;
}

/* Converts the option strings into @s (defaults already in place). */
static gboolean
parse_settings (const Options *o, Settings *s, GError **error)
{
  gint64 bo = s->n_bo, g = 0;
  if (!parse_seconds ("--slo", o->slo, 3600, &s->slo_s, error) ||
      !parse_seconds ("--gap", o->gap, 3600, &s->gap_s, error) ||
      !afd_cli_parse_double ("--accept", o->accept, 1, 1000, &s->accept_length, error) ||
      !afd_cli_parse_int ("--bo", o->bo, 1, 64, &bo, error) ||
      !afd_cli_parse_int ("--gpus-per-node", o->gpus_per_node, 1, 100000, &g, error) ||
      !parse_positive ("--flops", o->flops, &s->flops, error) ||
      !parse_positive ("--hbm-bw", o->hbm_bw, &s->hbm_bw, error) ||
      !parse_positive ("--hbm-bytes", o->hbm_bytes, &s->hbm_bytes, error) ||
      !parse_positive ("--scale-up-bw", o->scale_up, &s->scale_up, error) ||
      !parse_positive ("--scale-out-bw", o->scale_out, &s->scale_out, error) ||
      !parse_positive ("--weight-bytes", o->weight_bytes, &s->weight_bytes, error) ||
      !parse_positive ("--dispatch-bytes", o->dispatch_bytes, &s->dispatch_bytes, error) ||
      !parse_positive ("--combine-bytes", o->combine_bytes, &s->combine_bytes, error))
    return FALSE;
  if (!(s->slo_s > 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--slo: must be > 0");
      return FALSE;
    }
  if (o->expert_dtype != NULL)
    {
      if (!afd_dtype_from_name (o->expert_dtype, &s->expert_dtype))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--expert-dtype: unknown dtype '%s' (fp32, tf32, bf16, fp16, fp8, fp4)",
                       o->expert_dtype);
          return FALSE;
        }
      s->expert_dtype_set = TRUE;
    }
  s->n_bo = (guint) bo;
  s->gpus_per_node = (guint) g;
  return parse_n_f (o->nf != NULL ? o->nf : "1..64", s->n_f, error);
}

/* Reads and strictly validates the roofline hardware file into HwEntry structs. */
static GPtrArray *
load_hardware (const char *path, GError **error)
{
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_TOPOLOGY, error);
  if (root == NULL)
    return NULL;
  static const char *const top_keys[] = { "source", "hardware", NULL };
  static const char *const entry_keys[] = { "gpu",
                                            "scale_up_bytes_per_s",
                                            "scale_out_bytes_per_s",
                                            "gpus_per_node",
                                            "peak_flop_per_s",
                                            "source",
                                            NULL };
  AfdJsonWhere where = { path, "", AFD_ERROR_TOPOLOGY };
  g_autofree char *source = NULL;
  const cJSON *list = NULL;
  if (!afd_json_check_object (root, &where, top_keys, error) ||
      !afd_json_get_string (root, &where, "source", AFD_JSON_REQUIRED, &source, error) ||
      !afd_json_get_child (root, &where, "hardware", AFD_JSON_REQUIRED, cJSON_Array, &list,
                           error))
    return NULL;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (hw_entry_free);
  guint i = 0;
  for (const cJSON *item = list->child; item != NULL; item = item->next, i++)
    {
      g_autofree char *at = afd_json_path_index ("hardware", i);
      AfdJsonWhere w = { path, at, AFD_ERROR_TOPOLOGY };
      HwEntry *e = g_new0 (HwEntry, 1);
      g_ptr_array_add (entries, e);
      gint64 g = 0;
      if (!afd_json_check_object (item, &w, entry_keys, error) ||
          !afd_json_get_string (item, &w, "gpu", AFD_JSON_REQUIRED, &e->gpu, error) ||
          !afd_json_get_string (item, &w, "source", AFD_JSON_REQUIRED, &e->source, error) ||
          !afd_json_get_number (item, &w, "scale_up_bytes_per_s",
                                AFD_JSON_REQUIRED | AFD_JSON_POSITIVE, &e->scale_up_bytes_per_s,
                                error) ||
          !afd_json_get_number (item, &w, "scale_out_bytes_per_s",
                                AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                &e->scale_out_bytes_per_s, error) ||
          !afd_json_get_number (item, &w, "peak_flop_per_s", AFD_JSON_POSITIVE,
                                &e->peak_flop_per_s, error) ||
          !afd_json_get_int (item, &w, "gpus_per_node", AFD_JSON_REQUIRED, 1, 100000, &g, error))
        return NULL;
      e->gpus_per_node = (guint) g;
      for (guint j = 0; j + 1 < entries->len; j++)
        if (strcmp (((HwEntry *) entries->pdata[j])->gpu, e->gpu) == 0)
          {
            g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s.gpu: '%s' listed twice",
                         path, at, e->gpu);
            return NULL;
          }
    }
  if (entries->len == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: hardware: empty list", path);
      return NULL;
    }
  return g_steal_pointer (&entries);
}

/* Returns: (transfer none) (nullable): the entry for @gpu. */
static const HwEntry *
find_hardware (GPtrArray *entries, const char *gpu)
{
  for (guint i = 0; i < entries->len; i++)
    if (strcmp (((HwEntry *) entries->pdata[i])->gpu, gpu) == 0)
      return entries->pdata[i];
  return NULL;
}

/* Resolves one (model, GPU) pair: dtypes, peaks, bandwidths, overrides and the budget. */
static gboolean
resolve (const AfdLlm *llm, const AfdGpuSpec *spec, const HwEntry *entry, const Settings *s,
         Resolved *r, GError **error)
{
  memset (r, 0, sizeof *r);
  r->notes = g_ptr_array_new_with_free_func (g_free);
  if (llm->n_routed_experts == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "roofline: model '%s' is dense (no routed experts); AFD needs an MoE model",
                   llm->name);
      return FALSE;
    }
  AfdDtype math = s->expert_dtype_set ? s->expert_dtype : llm->dtypes.expert_weights;
  double weight_bytes = afd_dtype_bytes (math);
  double dispatch_bytes = afd_dtype_bytes (llm->dtypes.dispatch);
  double peak = spec->peak_flop_per_s[math];
  r->compute_dtype = afd_dtype_name (math);
  if (peak <= 0)
    {
      /* No tensor cores for the model's expert dtype (FP8 on A100): run experts in BF16. */
      peak = spec->peak_flop_per_s[AFD_DTYPE_BF16];
      weight_bytes = MAX (weight_bytes, afd_dtype_bytes (AFD_DTYPE_BF16));
      if (spec->peak_flop_per_s[llm->dtypes.dispatch] <= 0)
        dispatch_bytes = MAX (dispatch_bytes, afd_dtype_bytes (AFD_DTYPE_BF16));
      r->compute_dtype = afd_dtype_name (AFD_DTYPE_BF16);
      g_ptr_array_add (r->notes,
                       g_strdup_printf ("%s has no %s tensor cores: bf16 peak, bf16 expert "
                                        "weights%s",
                                        spec->name, afd_dtype_name (math),
                                        dispatch_bytes > afd_dtype_bytes (llm->dtypes.dispatch)
                                            ? " and bf16 dispatch"
                                            : ""));
    }
  r->flop_source = "gpu spec";
  if (entry != NULL && entry->peak_flop_per_s > 0 && math == AFD_DTYPE_FP8 &&
      strcmp (r->compute_dtype, "fp8") == 0)
    {
      peak = entry->peak_flop_per_s;
      r->flop_source = "roofline hardware file";
      g_ptr_array_add (r->notes, g_strdup_printf ("peak %g FLOP/s from the roofline hardware "
                                                  "file, not the GPU spec's %g",
                                                  peak, spec->peak_flop_per_s[math]));
    }
  if (s->flops > 0)
    {
      peak = s->flops;
      r->flop_source = "--flops";
    }
  r->model = (AfdRooflineModel){
    .hidden = llm->hidden_size,
    .expert_hidden = llm->expert_intermediate_size,
    .n_experts = llm->n_routed_experts,
    .top_k = llm->top_k,
    .n_shared = llm->n_shared_experts,
    .n_moe_layers = afd_llm_n_moe_layers (llm),
    .weight_bytes = s->weight_bytes > 0 ? s->weight_bytes : weight_bytes,
    .dispatch_bytes = s->dispatch_bytes > 0 ? s->dispatch_bytes : dispatch_bytes,
    .combine_bytes =
        s->combine_bytes > 0 ? s->combine_bytes : afd_dtype_bytes (llm->dtypes.combine),
  };
  if (entry == NULL && (s->scale_up <= 0 || s->scale_out <= 0 || s->gpus_per_node == 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "roofline: GPU '%s' has no entry in %s; give --scale-up-bw, --scale-out-bw "
                   "and --gpus-per-node",
                   spec->name, s->hardware_path);
      return FALSE;
    }
  r->hw = (AfdRooflineHardware){
    .peak_flop_per_s = peak,
    .hbm_bandwidth_bytes_per_s = s->hbm_bw > 0 ? s->hbm_bw : spec->hbm_bandwidth_bytes_per_s,
    .hbm_bytes = s->hbm_bytes > 0 ? s->hbm_bytes : spec->hbm_bytes,
    .scale_up_bytes_per_s = s->scale_up > 0 ? s->scale_up : entry->scale_up_bytes_per_s,
    .scale_out_bytes_per_s = s->scale_out > 0 ? s->scale_out : entry->scale_out_bytes_per_s,
    .gpus_per_node = s->gpus_per_node > 0 ? s->gpus_per_node : entry->gpus_per_node,
  };
  if (!afd_roofline_check (&r->model, &r->hw, error))
    {
      g_prefix_error (error, "%s on %s: ", llm->name, spec->name);
      return FALSE;
    }
  r->budget = (AfdRooflineBudget){ .slo_s = s->slo_s,
                                   .accept_length = s->accept_length,
                                   .gap_s = s->gap_s,
                                   .n_layers = llm->n_layers,
                                   .n_bo = s->n_bo };
  return afd_roofline_budget_s (&r->budget, &r->t_b_s, error);
}

/* Adds the one provenance block (sim/provenance.h) with each of the NULL-terminated @inputs
 * and its SHA-256. */
static gboolean
add_provenance (cJSON *root, const char *const *inputs, GError **error)
{
  cJSON *prov = afd_provenance_add (root, "roofline");
  for (guint i = 0; inputs[i] != NULL; i++)
    if (!afd_provenance_add_input (prov, inputs[i], error))
      return FALSE;
  return TRUE;
}

/* Adds the resolved inputs of one (model, GPU) pair under "inputs". */
static void
add_inputs (cJSON *root, const char *model_name, const char *gpu_name, const Resolved *r)
{
  cJSON *in = cJSON_AddObjectToObject (root, "inputs");
  cJSON_AddStringToObject (in, "model", model_name);
  cJSON_AddStringToObject (in, "gpu", gpu_name);
  afd_json_add_number (in, "hidden_size", r->model.hidden);
  afd_json_add_number (in, "expert_intermediate_size", r->model.expert_hidden);
  afd_json_add_number (in, "n_routed_experts", r->model.n_experts);
  afd_json_add_number (in, "top_k", r->model.top_k);
  afd_json_add_number (in, "n_shared_experts", r->model.n_shared);
  afd_json_add_number (in, "n_layers", r->budget.n_layers);
  afd_json_add_number (in, "n_moe_layers", r->model.n_moe_layers);
  cJSON_AddStringToObject (in, "compute_dtype", r->compute_dtype);
  afd_json_add_number (in, "weight_bytes_per_param", r->model.weight_bytes);
  afd_json_add_number (in, "dispatch_bytes_per_element", r->model.dispatch_bytes);
  afd_json_add_number (in, "combine_bytes_per_element", r->model.combine_bytes);
  afd_json_add_number (in, "peak_flop_per_s", r->hw.peak_flop_per_s);
  cJSON_AddStringToObject (in, "peak_flop_source", r->flop_source);
  afd_json_add_number (in, "hbm_bandwidth_bytes_per_s", r->hw.hbm_bandwidth_bytes_per_s);
  afd_json_add_number (in, "hbm_bytes", r->hw.hbm_bytes);
  afd_json_add_number (in, "scale_up_bytes_per_s", r->hw.scale_up_bytes_per_s);
  afd_json_add_number (in, "scale_out_bytes_per_s", r->hw.scale_out_bytes_per_s);
  afd_json_add_number (in, "gpus_per_node", r->hw.gpus_per_node);
  afd_json_add_number (in, "slo_s", r->budget.slo_s);
  afd_json_add_number (in, "accept_length", r->budget.accept_length);
  afd_json_add_number (in, "gap_s", r->budget.gap_s);
  afd_json_add_number (in, "n_bo", r->budget.n_bo);
  cJSON *notes = cJSON_AddArrayToObject (in, "notes");
  for (guint i = 0; i < r->notes->len; i++)
    cJSON_AddItemToArray (notes, cJSON_CreateString (r->notes->pdata[i]));
}

/* Returns: (transfer full): one point as a JSON object. */
static cJSON *
point_json (const AfdRooflinePoint *p)
{
  cJSON *o = cJSON_CreateObject ();
  afd_json_add_number (o, "n_f", p->n_f);
  afd_json_add_number (o, "region", (double) p->region);
  cJSON_AddStringToObject (o, "region_name", afd_roofline_region_name (p->region));
  afd_json_add_number (o, "b_scale_up", p->b_scale_up);
  afd_json_add_number (o, "b_scale_out", p->b_scale_out);
  afd_json_add_number (o, "fan_out", p->fan_out);
  afd_json_add_number (o, "b_rank", p->b_rank);
  afd_json_add_number (o, "experts_per_gpu", p->experts_per_gpu);
  afd_json_add_number (o, "tokens_per_expert", p->tokens_per_expert);
  afd_json_add_number (o, "intensity_flop_per_byte", p->intensity_flop_per_byte);
  afd_json_add_number (o, "hfu_comm_bound", p->hfu_comm_bound);
  afd_json_add_number (o, "ofu_bound", p->ofu_bound);
  afd_json_add_number (o, "hfu_bound", p->hfu_bound);
  afd_json_add_number (o, "compute_s", p->compute_s);
  afd_json_add_number (o, "weight_load_s", p->weight_load_s);
  afd_json_add_number (o, "weight_bytes_per_gpu", p->weight_bytes_per_gpu);
  cJSON_AddBoolToObject (o, "hbm_bandwidth_ok", p->hbm_bandwidth_ok);
  cJSON_AddBoolToObject (o, "hbm_capacity_ok", p->hbm_capacity_ok);
  cJSON_AddBoolToObject (o, "feasible", p->hbm_bandwidth_ok && p->hbm_capacity_ok);
  return o;
}

/*
 * Refuses a point whose figures are not finite numbers (a GPU of 5e-324 FLOP/s gave
 * "HFU_comm inf%" and null in the JSON; issue #14).
 */
static gboolean
point_finite (const AfdRooflinePoint *p, const char *gpu, const AfdRooflineHardware *hw,
              GError **error)
{
  const struct {
    const char *name;
    double v;
  } f[] = { { "B_scale_up", p->b_scale_up },   { "B_scale_out", p->b_scale_out },
            { "B_rank", p->b_rank },           { "tokens per expert", p->tokens_per_expert },
            { "I", p->intensity_flop_per_byte }, { "HFU_comm", p->hfu_comm_bound },
            { "OFU", p->ofu_bound },           { "HFU", p->hfu_bound },
            { "t_comp", p->compute_s },        { "t_load", p->weight_load_s },
            { "weight bytes per GPU", p->weight_bytes_per_gpu } };
  for (guint i = 0; i < G_N_ELEMENTS (f); i++)
    if (!isfinite (f[i].v))
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                     "roofline: %s on %s at N_F = %u is not a finite number (%g); the GPU's "
                     "figures are out of range (peak %g FLOP/s, HBM %g B/s, scale-up %g B/s, "
                     "scale-out %g B/s)",
                     f[i].name, gpu, p->n_f, f[i].v, hw->peak_flop_per_s,
                     hw->hbm_bandwidth_bytes_per_s, hw->scale_up_bytes_per_s,
                     hw->scale_out_bytes_per_s);
        return FALSE;
      }
  return TRUE;
}

/* Returns: the constraints a point violates ("hbm-bw", "hbm-cap", both) or "-" if none. */
static const char *
violations (const AfdRooflinePoint *p)
{
  if (!p->hbm_bandwidth_ok && !p->hbm_capacity_ok)
    return "hbm-bw,hbm-cap";
  if (!p->hbm_bandwidth_ok)
    return "hbm-bw";
  if (!p->hbm_capacity_ok)
    return "hbm-cap";
  return "-";
}

/* Returns: (transfer full): the path of shipped item @name of @kind, for provenance. */
static char *
resolve_path (const char *kind, const char *what, const char *name, GError **error)
{
  return afd_data_resolve (kind, what, name, error);
}

/* `afdsim roofline --model M --gpu G`: one sweep over N_F. */
static int
run_single (const Options *o, Settings *s, GPtrArray *hardware, GError **error)
{
  if (o->model == NULL || o->gpu == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "roofline: --model and --gpu are required (or --table)");
      return 2;
    }
  g_autofree char *model_path = resolve_path ("models/llm", "model", o->model, error);
  if (model_path == NULL)
    return 1;
  g_autoptr (AfdLlm) llm = afd_llm_load_file (model_path, error);
  if (llm == NULL)
    return 1;
  g_autofree char *gpu_path = resolve_path ("topologies/gpus", "GPU", o->gpu, error);
  if (gpu_path == NULL)
    return 1;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (gpu_path, error);
  if (spec == NULL)
    return 1;
  Resolved r;
  gboolean ok = resolve (llm, spec, find_hardware (hardware, spec->name), s, &r, error);
  if (!ok)
    {
      resolved_clear (&r);
      return 1;
    }

  /* Every point is checked before anything is printed. */
  for (guint i = 0; i < s->n_f->len; i++)
    {
      AfdRooflinePoint p;
      afd_roofline_point (&r.model, &r.hw, r.t_b_s, g_array_index (s->n_f, guint, i), &p);
      if (!point_finite (&p, spec->name, &r.hw, error))
        {
          resolved_clear (&r);
          return 1;
        }
    }
  if (!isfinite (afd_roofline_dead_zone_hfu (&r.model, &r.hw)))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "roofline: the dead zone's HFU on %s is not a finite number; the GPU's "
                   "figures are out of range (peak %g FLOP/s)", spec->name, r.hw.peak_flop_per_s);
      resolved_clear (&r);
      return 1;
    }
  printf ("AFD communication roofline: %s on %s (%s %.4g FLOP/s, HBM %.4g B/s %.4g B, "
          "scale-up %.4g B/s, scale-out %.4g B/s, %u GPUs/node)\n",
          llm->name, spec->name, r.compute_dtype, r.hw.peak_flop_per_s,
          r.hw.hbm_bandwidth_bytes_per_s, r.hw.hbm_bytes, r.hw.scale_up_bytes_per_s,
          r.hw.scale_out_bytes_per_s, r.hw.gpus_per_node);
  for (guint i = 0; i < r.notes->len; i++)
    printf ("note: %s\n", (char *) r.notes->pdata[i]);
  printf ("t_B = %.2f us = (SLO %g s x L_accept %g - t_g %g s) / (%u layers x %u BO)\n",
          r.t_b_s * 1e6, r.budget.slo_s, r.budget.accept_length, r.budget.gap_s,
          r.budget.n_layers, r.budget.n_bo);
  double dead = afd_roofline_dead_zone_hfu (&r.model, &r.hw);
  printf ("regions: 1 scale-up bound N_F <= %.3g; 2 stable intensity N_F <= %u; 3 dead zone "
          "(HFU %.2f%%); 4 max intensity N_F >= %u\n",
          afd_roofline_scale_up_limit_n_f (&r.model, &r.hw), r.model.top_k, dead * 100,
          afd_roofline_max_intensity_n_f (&r.model, &r.hw));
  printf ("%5s %9s %7s %9s %9s %8s %7s %7s %9s %9s  %-16s %s\n", "N_F", "B_rank", "exp/GPU",
          "tok/exp", "I(F/B)", "HFU_comm", "OFU(I)", "HFU", "t_comp_us", "t_load_us", "region",
          "violates");

  g_autoptr (cJSON) root = cJSON_CreateObject ();
  const char *inputs[] = { model_path, gpu_path, s->hardware_path, NULL };
  if (!add_provenance (root, inputs, error))
    {
      resolved_clear (&r);
      return 1;
    }
  add_inputs (root, llm->name, spec->name, &r);
  afd_json_add_number (root, "t_b_s", r.t_b_s);
  cJSON *regions = cJSON_AddObjectToObject (root, "regions");
  afd_json_add_number (regions, "scale_up_limit_n_f",
                       afd_roofline_scale_up_limit_n_f (&r.model, &r.hw));
  afd_json_add_number (regions, "stable_intensity_limit_n_f", r.model.top_k);
  afd_json_add_number (regions, "max_intensity_n_f",
                       afd_roofline_max_intensity_n_f (&r.model, &r.hw));
  afd_json_add_number (regions, "dead_zone_hfu", dead);
  cJSON *points = cJSON_AddArrayToObject (root, "points");
  AfdRooflinePoint best = { 0 };
  gboolean have_best = FALSE;
  for (guint i = 0; i < s->n_f->len; i++)
    {
      AfdRooflinePoint p;
      afd_roofline_point (&r.model, &r.hw, r.t_b_s, g_array_index (s->n_f, guint, i), &p);
      printf ("%5u %9.1f %7u %9.1f %9.1f %7.2f%% %6.1f%% %6.2f%% %9.1f %9.1f  %d %-14s %s\n",
              p.n_f, p.b_rank, p.experts_per_gpu, p.tokens_per_expert,
              p.intensity_flop_per_byte, p.hfu_comm_bound * 100, p.ofu_bound * 100,
              p.hfu_bound * 100, p.compute_s * 1e6, p.weight_load_s * 1e6, (int) p.region,
              afd_roofline_region_name (p.region), violations (&p));
      cJSON_AddItemToArray (points, point_json (&p));
      if (p.hbm_bandwidth_ok && p.hbm_capacity_ok && (!have_best || p.hfu_bound > best.hfu_bound))
        {
          best = p;
          have_best = TRUE;
        }
    }
  if (have_best)
    {
      printf ("ceiling: HFU %.2f%% at N_F = %u (%s)\n", best.hfu_bound * 100, best.n_f,
              afd_roofline_region_name (best.region));
      cJSON_AddItemToObject (root, "ceiling", point_json (&best));
    }
  else
    {
      printf ("ceiling: none of the N_F values fits HBM bandwidth and capacity\n");
      cJSON_AddNullToObject (root, "ceiling");
    }
  resolved_clear (&r);
  if (o->json != NULL && !afd_json_write_file (o->json, root, error))
    return 1;
  return 0;
}

/* Compares two C strings for g_ptr_array_sort. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* `afdsim roofline --table`: the HFU ceiling of every shipped MoE model × roofline GPU. */
static int
run_table (const Options *o, Settings *s, GPtrArray *hardware, GError **error)
{
  if (o->model != NULL || o->gpu != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "roofline: --table covers every model and GPU; drop --model/--gpu");
      return 2;
    }
  g_autoptr (GPtrArray) names = afd_data_list ("models/llm", error);
  if (names == NULL)
    return 1;
  g_ptr_array_sort (names, compare_names);
  guint n_f_min = G_MAXUINT, n_f_max = 0;
  for (guint i = 0; i < s->n_f->len; i++)
    {
      n_f_min = MIN (n_f_min, g_array_index (s->n_f, guint, i));
      n_f_max = MAX (n_f_max, g_array_index (s->n_f, guint, i));
    }

  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_gpu_spec_free);
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (inputs, g_strdup (s->hardware_path));
  for (guint j = 0; j < hardware->len; j++)
    {
      const HwEntry *e = hardware->pdata[j];
      char *path = resolve_path ("topologies/gpus", "GPU", e->gpu, error);
      if (path == NULL)
        {
          g_prefix_error (error, "%s: ", s->hardware_path);
          return 1;
        }
      g_ptr_array_add (inputs, path);
      AfdGpuSpec *spec = afd_gpu_spec_load (path, error);
      if (spec == NULL)
        return 1;
      g_ptr_array_add (specs, spec);
    }

  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *rows = cJSON_CreateArray ();
  cJSON *models_json = cJSON_CreateArray ();
  cJSON *gpus_json = cJSON_CreateArray ();
  cJSON *skipped = cJSON_CreateArray ();
  for (guint j = 0; j < specs->len; j++)
    cJSON_AddItemToArray (gpus_json,
                          cJSON_CreateString (((AfdGpuSpec *) specs->pdata[j])->name));

  printf ("HFU ceiling of the AFD communication roofline, max over feasible N_F in %u..%u "
          "(SLO %g s, L_accept %g, t_g %g s, %u BO); cell: HFU%% @ N_F\n",
          n_f_min, n_f_max, s->slo_s, s->accept_length, s->gap_s, s->n_bo);
  printf ("%-26s", "model [expert dtype]");
  for (guint j = 0; j < specs->len; j++)
    printf (" %15s", ((AfdGpuSpec *) specs->pdata[j])->name);
  printf ("\n");

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = resolve_path ("models/llm", "model", names->pdata[i], error);
      if (path == NULL)
        return 1;
      g_autoptr (AfdLlm) llm = afd_llm_load_file (path, error);
      if (llm == NULL)
        return 1;
      if (llm->n_routed_experts == 0)
        {
          cJSON_AddItemToArray (skipped, cJSON_CreateString (llm->name));
          continue;
        }
      g_ptr_array_add (inputs, g_strdup (path));
      cJSON_AddItemToArray (models_json, cJSON_CreateString (llm->name));
      g_autofree char *label = g_strdup_printf (
          "%s [%s]", llm->name,
          afd_dtype_name (s->expert_dtype_set ? s->expert_dtype : llm->dtypes.expert_weights));
      printf ("%-26s", label);
      for (guint j = 0; j < specs->len; j++)
        {
          const AfdGpuSpec *spec = specs->pdata[j];
          Resolved r;
          if (!resolve (llm, spec, hardware->pdata[j], s, &r, error))
            {
              resolved_clear (&r);
              return 1;
            }
          AfdRooflinePoint best;
          gboolean found = afd_roofline_ceiling (&r.model, &r.hw, r.t_b_s, n_f_min, n_f_max,
                                                 &best);
          if (found && !point_finite (&best, spec->name, &r.hw, error))
            {
              resolved_clear (&r);
              return 1;
            }
          cJSON *row = cJSON_CreateObject ();
          cJSON_AddStringToObject (row, "model", llm->name);
          cJSON_AddStringToObject (row, "gpu", spec->name);
          cJSON_AddStringToObject (row, "compute_dtype", r.compute_dtype);
          afd_json_add_number (row, "peak_flop_per_s", r.hw.peak_flop_per_s);
          afd_json_add_number (row, "t_b_s", r.t_b_s);
          afd_json_add_number (row, "hfu_comm_peak", afd_roofline_hfu_comm (&r.model, &r.hw, 1));
          afd_json_add_number (row, "dead_zone_hfu", afd_roofline_dead_zone_hfu (&r.model, &r.hw));
          if (found)
            {
              const char *bound = best.hfu_comm_bound <= best.ofu_bound ? "communication"
                                                                       : "hbm-bandwidth";
              afd_json_add_number (row, "hfu_ceiling", best.hfu_bound);
              afd_json_add_number (row, "n_f", best.n_f);
              cJSON_AddStringToObject (row, "region_name", afd_roofline_region_name (best.region));
              cJSON_AddStringToObject (row, "bound", bound);
              g_autofree char *cell = g_strdup_printf ("%.1f%%@%u%s", best.hfu_bound * 100,
                                                       best.n_f, bound[0] == 'h' ? "m" : "");
              printf (" %15s", cell);
            }
          else
            {
              cJSON_AddNullToObject (row, "hfu_ceiling");
              cJSON_AddNullToObject (row, "n_f");
              cJSON_AddNullToObject (row, "region_name");
              cJSON_AddStringToObject (row, "bound", "hbm-infeasible");
              printf (" %15s", "HBM-limited");
            }
          cJSON *notes = cJSON_AddArrayToObject (row, "notes");
          for (guint k = 0; k < r.notes->len; k++)
            cJSON_AddItemToArray (notes, cJSON_CreateString (r.notes->pdata[k]));
          cJSON_AddItemToArray (rows, row);
          resolved_clear (&r);
        }
      printf ("\n");
    }
  printf ("m: bound by HBM bandwidth (OFU of the grouped GEMM), not by communication\n");
  if (cJSON_GetArraySize (skipped) > 0)
    printf ("skipped (dense): %d model(s)\n", cJSON_GetArraySize (skipped));

  g_ptr_array_add (inputs, NULL);
  if (!add_provenance (root, (const char *const *) inputs->pdata, error))
    return 1;
  cJSON *in = cJSON_AddObjectToObject (root, "inputs");
  afd_json_add_number (in, "slo_s", s->slo_s);
  afd_json_add_number (in, "accept_length", s->accept_length);
  afd_json_add_number (in, "gap_s", s->gap_s);
  afd_json_add_number (in, "n_bo", s->n_bo);
  afd_json_add_number (in, "n_f_min", n_f_min);
  afd_json_add_number (in, "n_f_max", n_f_max);
  if (s->expert_dtype_set)
    cJSON_AddStringToObject (in, "expert_dtype", afd_dtype_name (s->expert_dtype));
  else
    cJSON_AddNullToObject (in, "expert_dtype");
  cJSON_AddItemToObject (root, "models", models_json);
  cJSON_AddItemToObject (root, "gpus", gpus_json);
  cJSON_AddItemToObject (root, "skipped_dense_models", skipped);
  cJSON_AddItemToObject (root, "rows", rows);
  if (o->json != NULL && !afd_json_write_file (o->json, root, error))
    return 1;
  return 0;
}

/* Parses a comma list of doubles in [@min, @max] for @flag. */
static gboolean
parse_double_list (const char *flag, const char *text, double min, double max, GArray *out,
                   GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      double v = 0;
      if (!afd_cli_parse_double (flag, parts[i], min, max, &v, error))
        return FALSE;
      if (!(v > 0))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: values must be > 0, got '%s'",
                       flag, parts[i]);
          return FALSE;
        }
      g_array_append_val (out, v);
    }
  return TRUE;
}

/* Parses "N_A:N_F,..." into pairs of guint (n_a, n_f). */
static gboolean
parse_afd_list (const char *text, GArray *out, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto (GStrv) ab = g_strsplit (parts[i], ":", -1);
      gint64 a = 0, f = 0;
      if (g_strv_length (ab) != 2)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--afd: '%s' is not N_A:N_F",
                       parts[i]);
          return FALSE;
        }
      if (!afd_cli_parse_int ("--afd", ab[0], 1, 100000, &a, error) ||
          !afd_cli_parse_int ("--afd", ab[1], 1, 100000, &f, error))
        return FALSE;
      guint pair[2] = { (guint) a, (guint) f };
      g_array_append_vals (out, pair, 2);
    }
  return TRUE;
}

/* Returns: (transfer full): @n values of @values as a JSON array. */
static cJSON *
number_array (const double *values, guint n)
{
  cJSON *a = cJSON_CreateArray ();
  for (guint i = 0; i < n; i++)
    cJSON_AddItemToArray (a, cJSON_CreateNumber (isfinite (values[i]) ? values[i] : 0));
  return a;
}

/* `afdsim roofline --imbalance`: EP vs AFD throughput factors under imbalance (§2.8). */
static int
run_imbalance (const Options *o, GError **error)
{
  if (o->model != NULL || o->gpu != NULL || o->table)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "roofline: --imbalance takes no --model, --gpu or --table");
      return 2;
    }
  g_autoptr (GArray) sigma = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) lambda = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) afd = g_array_new (FALSE, FALSE, sizeof (guint));
  if (!parse_double_list ("--sigma", o->sigma != NULL ? o->sigma : "0.95,0.9,0.85,0.8,0.7", 0,
                          1, sigma, error) ||
      !parse_double_list ("--lambda-ep", o->lambda_ep != NULL ? o->lambda_ep : "2,4", 0, 1e6,
                          lambda, error) ||
      !parse_afd_list (o->afd != NULL ? o->afd : "5:1,4:2,8:2", afd, error))
    return 2;
  guint ns = sigma->len;
  g_autofree double *row = g_new (double, ns);
  g_autofree double *fl = g_new (double, ns);
  g_autofree double *ce = g_new (double, ns);
  g_autofree double *co = g_new (double, ns);
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  const char *inputs[] = { NULL };
  if (!add_provenance (root, inputs, error))
    return 1;
  cJSON_AddItemToObject (root, "sigma", number_array ((double *) sigma->data, ns));
  cJSON *rows = cJSON_AddArrayToObject (root, "rows");

  printf ("Per-GPU throughput under imbalance relative to balance (docs/models/afd-roofline.md "
          "s2.8); sigma = effective FFN fraction\n%-26s", "case");
  for (guint i = 0; i < ns; i++)
    printf (" %7.3g", g_array_index (sigma, double, i));
  printf ("\n");
  for (guint l = 0; l < lambda->len; l++)
    {
      double lam = g_array_index (lambda, double, l);
      for (guint i = 0; i < ns; i++)
        row[i] = afd_roofline_alpha_ep (lam, g_array_index (sigma, double, i));
      g_autofree char *label = g_strdup_printf ("EP lambda=%g", lam);
      printf ("%-26s", label);
      for (guint i = 0; i < ns; i++)
        printf (" %7.3f", row[i]);
      printf ("\n");
      cJSON *r = cJSON_CreateObject ();
      cJSON_AddStringToObject (r, "kind", "ep");
      afd_json_add_number (r, "lambda", lam);
      cJSON_AddItemToObject (r, "alpha", number_array (row, ns));
      cJSON_AddItemToArray (rows, r);
    }
  for (guint k = 0; k + 1 < afd->len; k += 2)
    {
      guint n_a = g_array_index (afd, guint, k), n_f = g_array_index (afd, guint, k + 1);
      for (guint i = 0; i < ns; i++)
        {
          double sg = g_array_index (sigma, double, i);
          fl[i] = afd_roofline_alpha_afd_floor (n_a, n_f, sg);
          ce[i] = afd_roofline_alpha_afd_ceil (n_a, n_f, sg);
          co[i] = afd_roofline_alpha_afd_continuous (n_a, n_f, sg);
          row[i] = afd_roofline_alpha_afd (n_a, n_f, sg);
        }
      g_autofree char *label =
          g_strdup_printf ("AFD %u:%u (lambda=%g)", n_a, n_f, (double) n_a / n_f);
      printf ("%-26s", label);
      for (guint i = 0; i < ns; i++)
        printf (" %7.3f", row[i]);
      printf ("\n");
      cJSON *r = cJSON_CreateObject ();
      cJSON_AddStringToObject (r, "kind", "afd");
      afd_json_add_number (r, "n_a", n_a);
      afd_json_add_number (r, "n_f", n_f);
      cJSON_AddItemToObject (r, "alpha", number_array (row, ns));
      cJSON_AddItemToObject (r, "alpha_floor", number_array (fl, ns));
      cJSON_AddItemToObject (r, "alpha_ceil", number_array (ce, ns));
      cJSON_AddItemToObject (r, "alpha_continuous", number_array (co, ns));
      cJSON_AddItemToArray (rows, r);
    }
  printf ("AFD rows: max(floor, ceil) over integer attention instances; continuous AFD equals "
          "EP at lambda = N_A/N_F\n");
  if (o->json != NULL && !afd_json_write_file (o->json, root, error))
    return 1;
  return 0;
}

/* The command's entry point. */
static int
cmd_roofline (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  Options o = { 0 };
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &o.model, "model name or JSON file", "M" },
    { "gpu", 'g', 0, G_OPTION_ARG_STRING, &o.gpu, "GPU name or JSON file", "G" },
    { "nf", 0, 0, G_OPTION_ARG_STRING, &o.nf, "FFN node counts: A..B, A,B,C [1..64]", "RANGE" },
    { "slo", 0, 0, G_OPTION_ARG_STRING, &o.slo, "TPOT target; s, or ms/us suffix [0.05]", "S" },
    { "accept", 0, 0, G_OPTION_ARG_STRING, &o.accept, "MTP acceptance length [1.7]", "L" },
    { "gap", 0, 0, G_OPTION_ARG_STRING, &o.gap, "inter-batch gap t_g; s, ms, us [0.015]", "T" },
    { "bo", 0, 0, G_OPTION_ARG_STRING, &o.bo, "micro-batches overlapped N_BO [3]", "N" },
    { "flops", 0, 0, G_OPTION_ARG_STRING, &o.flops, "override peak FLOP/s", "F" },
    { "hbm-bw", 0, 0, G_OPTION_ARG_STRING, &o.hbm_bw, "override HBM bytes/s", "B" },
    { "hbm-bytes", 0, 0, G_OPTION_ARG_STRING, &o.hbm_bytes, "override HBM capacity, bytes",
      "B" },
    { "scale-up-bw", 0, 0, G_OPTION_ARG_STRING, &o.scale_up, "override scale-up bytes/s", "B" },
    { "scale-out-bw", 0, 0, G_OPTION_ARG_STRING, &o.scale_out, "override scale-out bytes/s",
      "B" },
    { "gpus-per-node", 0, 0, G_OPTION_ARG_STRING, &o.gpus_per_node, "override GPUs per node",
      "N" },
    { "weight-bytes", 0, 0, G_OPTION_ARG_STRING, &o.weight_bytes,
      "override bytes per expert weight", "B" },
    { "dispatch-bytes", 0, 0, G_OPTION_ARG_STRING, &o.dispatch_bytes,
      "override dispatch bytes per element", "B" },
    { "combine-bytes", 0, 0, G_OPTION_ARG_STRING, &o.combine_bytes,
      "override combine bytes per element", "B" },
    { "hardware", 0, 0, G_OPTION_ARG_STRING, &o.hardware,
      "bandwidth file [topologies/roofline-hardware.json]", "FILE" },
    { "expert-dtype", 0, 0, G_OPTION_ARG_STRING, &o.expert_dtype,
      "override the model's expert dtype (fp8, bf16, ...)", "D" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &o.json, "write the result as JSON to FILE", "FILE" },
    { "table", 0, 0, G_OPTION_ARG_NONE, &o.table, "HFU ceiling of every model x GPU", NULL },
    { "imbalance", 0, 0, G_OPTION_ARG_NONE, &o.imbalance,
      "EP vs AFD imbalance factors instead of the roofline", NULL },
    { "sigma", 0, 0, G_OPTION_ARG_STRING, &o.sigma,
      "--imbalance: effective FFN fractions [0.95,0.9,0.85,0.8,0.7]", "LIST" },
    { "lambda-ep", 0, 0, G_OPTION_ARG_STRING, &o.lambda_ep,
      "--imbalance: EP t_a/t_f ratios [2,4]", "LIST" },
    { "afd", 0, 0, G_OPTION_ARG_STRING, &o.afd, "--imbalance: AFD N_A:N_F list [5:1,4:2,8:2]",
      "LIST" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (afd_command_roofline.usage);
  g_option_context_set_summary (ctx, afd_command_roofline.summary);
  g_option_context_set_description (
      ctx, "Reconstruction of arXiv 2602.09721; formulas in docs/models/afd-roofline.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int status = 1;
  Settings s = { .slo_s = AFD_ROOFLINE_DEFAULT_SLO_S,
                 .accept_length = AFD_ROOFLINE_DEFAULT_ACCEPT_LENGTH,
                 .gap_s = AFD_ROOFLINE_DEFAULT_GAP_S,
                 .n_bo = AFD_ROOFLINE_DEFAULT_N_BO,
                 .n_f = g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_autoptr (GPtrArray) hardware = NULL;
  if (!afd_cli_parse_options (ctx, afd_command_roofline.name, &argc, &argv,
                              afd_command_roofline.max_args, error) ||
      !parse_settings (&o, &s, error))
    {
      status = 2;
      goto out;
    }
  if (o.imbalance)
    {
      status = run_imbalance (&o, error);
      goto out;
    }
  s.hardware_path = afd_data_resolve ("topologies", "roofline hardware",
                                      o.hardware != NULL ? o.hardware : "roofline-hardware",
                                      error);
  if (s.hardware_path == NULL)
    goto out;
  {
    /* --json must not name an input (issue #14); names that do not resolve fail later. */
    g_autofree char *mp = o.model ? afd_data_resolve ("models/llm", "model", o.model, NULL) : NULL;
    g_autofree char *gp = o.gpu ? afd_data_resolve ("topologies/gpus", "GPU", o.gpu, NULL) : NULL;
    AfdFileUse out_use[] = { { "--json", o.json } };
    AfdFileUse in_use[] = { { "--model", mp }, { "--gpu", gp }, { "--hardware", s.hardware_path } };
    if (!afd_files_check_distinct (out_use, 1, in_use, G_N_ELEMENTS (in_use), error))
      {
        status = 2;
        goto out;
      }
  }
  hardware = load_hardware (s.hardware_path, error);
  if (hardware == NULL)
    goto out;
  status = o.table ? run_table (&o, &s, hardware, error) : run_single (&o, &s, hardware, error);
out:
  g_array_unref (s.n_f);
  g_free (s.hardware_path);
  g_free (o.model);
  g_free (o.gpu);
  g_free (o.nf);
  g_free (o.slo);
  g_free (o.accept);
  g_free (o.gap);
  g_free (o.bo);
  g_free (o.flops);
  g_free (o.hbm_bw);
  g_free (o.hbm_bytes);
  g_free (o.scale_up);
  g_free (o.scale_out);
  g_free (o.gpus_per_node);
  g_free (o.weight_bytes);
  g_free (o.dispatch_bytes);
  g_free (o.combine_bytes);
  g_free (o.hardware);
  g_free (o.json);
  g_free (o.expert_dtype);
  g_free (o.sigma);
  g_free (o.lambda_ep);
  g_free (o.afd);
  return status;
}

const AfdCommand afd_command_roofline = {
  "roofline", "AFD communication roofline: regions, dead zone, HFU ceilings (seed 004)",
  cmd_roofline, "", 0
};
