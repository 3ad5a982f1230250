/* SPDX-License-Identifier: MIT */
/* experiment.c - experiment loading and execution (see sim/experiment.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/cost-model.h"
#include "sim/data-dir.h"
#include "sim/economics.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/experiment-private.h"
#include "sim/experiment-keys.h"
#include "sim/fault.h"
#include "sim/files.h"
#include "sim/limits.h"
#include "sim/json.h"
#include "sim/llm.h"
#include "sim/metrics.h"
#include "sim/provenance.h"
#include "sim/replay.h"
#include "sim/trace.h"

/* The keys of an experiment that are not strategy options are those of the one key table
 * (sim/experiment-keys.c) accepted at the top level or in a run; every other key of the top
 * level (one run) or of a run object is handed to the strategy, which validates its options
 * strictly (sim/ names no strategy). */

static void
run_free (gpointer p)
{
  AfdExperimentRun *r = p;
  g_free (r->label);
  g_free (r->strategy);
  g_free (r->claim_source);
  cJSON_Delete (r->options);
  g_free (r);
}

static void
gpu_price_free (gpointer p)
{
  AfdGpuPrice *gp = p;
  g_free (gp->gpu);
  g_free (gp);
}

AfdExperiment *
afd_experiment_new (void)
{
  AfdExperiment *self = g_new0 (AfdExperiment, 1);
  self->cluster = g_strdup ("a100-4x4-hdr");
  self->model = g_strdup ("masep-4l");
  self->batch = 1024;
  self->context_tokens = 2048;
  self->routing = g_strdup ("uniform");
  self->seed = 1;
  self->network = AFD_NETWORK_ANALYTIC;
  self->costs = g_strdup ("analytic");
  self->runs = g_ptr_array_new_with_free_func (run_free);
  self->faults = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_fault_free);
  self->fault_detection_s = AFD_FAULT_DETECTION_DEFAULT_S;
  self->sim_memory_limit_bytes = AFD_LIMITS_DEFAULT_MEMORY_BYTES;
  self->accept_tokens = 1.0;
  self->prices = g_ptr_array_new_with_free_func (gpu_price_free);
  return self;
}

void
afd_experiment_free (AfdExperiment *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_free (self->cluster);
  g_free (self->model);
  g_free (self->routing);
  g_free (self->costs);
  g_free (self->json);
  g_free (self->trace);
  g_ptr_array_unref (self->runs);
  g_ptr_array_unref (self->faults);
  g_ptr_array_unref (self->prices);
  g_free (self);
}

AfdExperimentRun *
afd_experiment_add_run (AfdExperiment *self, const char *label, const char *strategy,
                        cJSON *options)
{
  AfdExperimentRun *r = g_new0 (AfdExperimentRun, 1);
  r->strategy = g_strdup (strategy);
  r->label = g_strdup (label != NULL ? label : strategy);
  r->options = options != NULL ? options : cJSON_CreateObject ();
  r->claim_tpot_s = r->claim_tokens_per_s = r->claim_utilisation = -1;
  g_ptr_array_add (self->runs, r);
  return r;
}

/* Copies every key of @obj that the key table does not reserve in @reserved
 * (AfdExperimentKeyWhere flags) into a new options object, checking for duplicates. */
static cJSON *
collect_options (const cJSON *obj, guint reserved, const AfdJsonWhere *where, GError **error)
{
  g_autoptr (cJSON) o = cJSON_CreateObject ();
  /* A hash set, not a lookup in @o: an object may hold any number of keys (issue #14). */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const cJSON *item;
  cJSON_ArrayForEach (item, obj)
    {
      if (afd_experiment_key_lookup (item->string, reserved) != NULL)
        continue;
      if (!g_hash_table_add (seen, item->string))
        {
          g_set_error (error, AFD_ERROR, where->code, "%s: %s%s%s: duplicate key", where->file,
                       where->path, where->path[0] ? "." : "", item->string);
          return NULL;
        }
      cJSON_AddItemToObject (o, item->string, cJSON_Duplicate (item, TRUE));
    }
  return g_steal_pointer (&o);
}

/* Reads one entry of "runs". */
static gboolean
load_run (AfdExperiment *self, const cJSON *node, const AfdJsonWhere *where, GError **error)
{
  if (!cJSON_IsObject (node))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: %s: must be an object", where->file,
                   where->path);
      return FALSE;
    }
  g_autofree char *label = NULL, *strategy = NULL;
  if (!afd_json_get_string (node, where, "strategy", AFD_JSON_REQUIRED, &strategy, error)
      || !afd_json_get_string (node, where, "label", AFD_JSON_OPTIONAL, &label, error))
    return FALSE;
  cJSON *options = collect_options (node, AFD_EXPERIMENT_KEY_RUN, where, error);
  if (options == NULL)
    return FALSE;
  AfdExperimentRun *r = afd_experiment_add_run (self, label, strategy, options);
  const cJSON *claims = NULL;
  if (!afd_json_get_child (node, where, "claims", AFD_JSON_OPTIONAL, cJSON_Object, &claims,
                          error))
    return FALSE;
  if (claims != NULL)
    {
      static const char *const claim_keys[] = { "tpot_s", "tokens_per_s", "utilisation", "source",
                                                NULL };
      g_autofree char *cpath = afd_json_path (where->path, "claims");
      AfdJsonWhere cw = { where->file, cpath, where->code };
      g_autofree char *source = NULL;
      if (!afd_json_check_object (claims, &cw, claim_keys, error)
          || !afd_json_get_number (claims, &cw, "tpot_s", AFD_JSON_POSITIVE, &r->claim_tpot_s,
                                   error)
          || !afd_json_get_number (claims, &cw, "tokens_per_s", AFD_JSON_POSITIVE,
                                   &r->claim_tokens_per_s, error)
          || !afd_json_get_number (claims, &cw, "utilisation", AFD_JSON_FRACTION,
                                   &r->claim_utilisation, error)
          || !afd_json_get_string (claims, &cw, "source", AFD_JSON_OPTIONAL, &source, error))
        return FALSE;
      r->claim_source = g_steal_pointer (&source);
    }
  return TRUE;
}

/* Reads "faults" (spec strings or objects, sim/fault.h), "iterations" and
 * "fault_detection_s". */
static gboolean
load_faults (AfdExperiment *self, const cJSON *root, const AfdJsonWhere *where, GError **error)
{
  const cJSON *faults = NULL;
  gint64 iterations = 0;
  if (!afd_json_get_child (root, where, "faults", AFD_JSON_OPTIONAL, cJSON_Array, &faults, error)
      || !afd_json_get_int (root, where, "iterations", AFD_JSON_OPTIONAL, 1,
                            AFD_FAULT_MAX_ITERATIONS, &iterations, error)
      || !afd_json_get_number (root, where, "fault_detection_s", AFD_JSON_OPTIONAL,
                               &self->fault_detection_s, error)
      || !afd_json_get_number (root, where, "sim_memory_limit_bytes", AFD_JSON_POSITIVE,
                               &self->sim_memory_limit_bytes, error))
    return FALSE;
  if (!(self->fault_detection_s >= 0) || self->fault_detection_s > 3600)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: fault_detection_s: must be in [0, 3600] seconds (got %g)", where->file,
                   self->fault_detection_s);
      return FALSE;
    }
  self->iterations = (guint) iterations;
  guint i = 0;
  const cJSON *item;
  cJSON_ArrayForEach (item, faults)
    {
      g_autofree char *fpath = afd_json_path_index ("faults", i++);
      AfdFault *f = afd_fault_from_json (item, where->file, fpath, error);
      if (f == NULL)
        return FALSE;
      g_ptr_array_add (self->faults, f);
    }
  return TRUE;
}

gboolean
afd_experiment_add_price (AfdExperiment *self, const char *spec, const char *what, int code,
                          GError **error)
{
  const char *eq = strrchr (spec, '=');
  if (eq == NULL || eq == spec || eq[1] == '\0')
    {
      g_set_error (error, AFD_ERROR, code, "%s: '%s' is not GPU=USD_PER_HOUR (e.g. H200=3.5)",
                   what, spec);
      return FALSE;
    }
  g_autofree char *gpu = g_strndup (spec, (gsize) (eq - spec));
  double usd = 0;
  g_autoptr (GError) local = NULL;
  if (!afd_cli_parse_double (what, eq + 1, 0, 1e6, &usd, &local) || !(usd > 0))
    {
      g_set_error (error, AFD_ERROR, code,
                   "%s: '%s': the price must be a finite number of US dollars per GPU-hour, "
                   "> 0 and <= 1e6", what, spec);
      return FALSE;
    }
  g_autoptr (AfdGpuSpec) gs = afd_gpu_spec_load (gpu, &local);
  if (gs == NULL)
    {
      g_set_error (error, AFD_ERROR, code, "%s: '%s': %s", what, spec, local->message);
      return FALSE;
    }
  for (guint i = 0; i < self->prices->len; i++)
    {
      AfdGpuPrice *gp = self->prices->pdata[i];
      if (strcmp (gp->gpu, gs->name) == 0)
        {
          gp->usd_per_gpu_hour = usd;
          return TRUE;
        }
    }
  AfdGpuPrice *gp = g_new0 (AfdGpuPrice, 1);
  gp->gpu = g_strdup (gs->name);
  gp->usd_per_gpu_hour = usd;
  g_ptr_array_add (self->prices, gp);
  return TRUE;
}

gboolean
afd_experiment_check_mtp (const AfdExperiment *self, const char *what_mtp,
                          const char *what_accept, int code, GError **error)
{
  double n = self->mtp_draft_tokens, l = self->accept_tokens;
  if (self->mtp_draft_tokens > AFD_MTP_MAX_DRAFT_TOKENS)
    {
      g_set_error (error, AFD_ERROR, code, "%s: %u draft tokens per step: must be in [0, %d]",
                   what_mtp, self->mtp_draft_tokens, AFD_MTP_MAX_DRAFT_TOKENS);
      return FALSE;
    }
  if (!isfinite (l) || l < 1 || l > n + 1)
    {
      if (self->mtp_draft_tokens == 0)
        g_set_error (error, AFD_ERROR, code,
                     "%s: %g accepted tokens per step needs %s N (draft tokens per step) with "
                     "1 <= L <= N + 1; without MTP it is 1", what_accept, l, what_mtp);
      else
        g_set_error (error, AFD_ERROR, code,
                     "%s: %g accepted tokens per step: must be in [1, N + 1] = [1, %g] for %s %u",
                     what_accept, l, n + 1, what_mtp, self->mtp_draft_tokens);
      return FALSE;
    }
  return TRUE;
}

/* Reads "mtp", "accept" and "prices" ({"GPU": USD_PER_HOUR, ...}). */
static gboolean
load_mtp_prices (AfdExperiment *self, const cJSON *root, const AfdJsonWhere *where,
                 GError **error)
{
  gint64 mtp = 0;
  const cJSON *prices = NULL;
  if (!afd_json_get_int (root, where, "mtp", AFD_JSON_OPTIONAL, 0, AFD_MTP_MAX_DRAFT_TOKENS, &mtp,
                         error)
      || !afd_json_get_number (root, where, "accept", AFD_JSON_OPTIONAL, &self->accept_tokens,
                               error)
      || !afd_json_get_child (root, where, "prices", AFD_JSON_OPTIONAL, cJSON_Object, &prices,
                              error))
    return FALSE;
  self->mtp_draft_tokens = (guint) mtp;
  if (!afd_experiment_check_mtp (self, "mtp", "accept", AFD_ERROR_CONFIG, error))
    {
      g_prefix_error (error, "%s: ", where->file);
      return FALSE;
    }
  const cJSON *item;
  cJSON_ArrayForEach (item, prices)
    {
      g_autofree char *what = afd_json_path ("prices", item->string);
      if (!cJSON_IsNumber (item))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s: must be a number (US dollars per GPU-hour)", where->file, what);
          return FALSE;
        }
      g_autofree char *spec = g_strdup_printf ("%s=%.17g", item->string, item->valuedouble);
      if (!afd_experiment_add_price (self, spec, what, AFD_ERROR_CONFIG, error))
        {
          g_prefix_error (error, "%s: ", where->file);
          return FALSE;
        }
    }
  return TRUE;
}

AfdExperiment *
afd_experiment_load (const char *path_or_name, GError **error)
{
  g_autofree char *path = afd_data_resolve ("experiments", "experiment", path_or_name, error);
  if (path == NULL)
    return NULL;
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return NULL;
  AfdJsonWhere where = { path, "", AFD_ERROR_CONFIG };
  if (!cJSON_IsObject (root))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: the experiment must be an object",
                   path);
      return NULL;
    }
  g_autoptr (AfdExperiment) self = afd_experiment_new ();
  self->path = g_strdup (path);
  gint64 batch = (gint64) self->batch, context = (gint64) self->context_tokens,
         seed = (gint64) self->seed;
  g_autofree char *phase = g_strdup ("decode"), *description = NULL, *strategy = NULL;
  g_autofree char *network = NULL;
  if (!afd_json_get_string (root, &where, "description", AFD_JSON_OPTIONAL, &description, error)
      || !afd_json_get_string (root, &where, "cluster", AFD_JSON_OPTIONAL, &self->cluster, error)
      || !afd_json_get_string (root, &where, "model", AFD_JSON_OPTIONAL, &self->model, error)
      || !afd_json_get_int (root, &where, "batch", AFD_JSON_OPTIONAL, 1, G_MAXINT32, &batch, error)
      || !afd_json_get_int (root, &where, "context", AFD_JSON_OPTIONAL, 1, G_MAXINT32, &context,
                            error)
      || !afd_json_get_int (root, &where, "seed", AFD_JSON_OPTIONAL, 0, G_MAXINT64, &seed, error)
      || !afd_json_get_string (root, &where, "phase", AFD_JSON_OPTIONAL, &phase, error)
      || !afd_json_get_string (root, &where, "routing", AFD_JSON_OPTIONAL, &self->routing, error)
      || !afd_json_get_string (root, &where, "network", AFD_JSON_OPTIONAL, &network, error)
      || !afd_json_get_string (root, &where, "costs", AFD_JSON_OPTIONAL, &self->costs, error)
      || !afd_json_get_string (root, &where, "json", AFD_JSON_OPTIONAL, &self->json, error)
      || !afd_json_get_string (root, &where, "trace", AFD_JSON_OPTIONAL, &self->trace, error)
      || !afd_json_get_string (root, &where, "strategy", AFD_JSON_OPTIONAL, &strategy, error))
    return NULL;
  self->batch = (guint64) batch;
  self->context_tokens = (guint64) context;
  self->seed = (guint64) seed;
  if (strcmp (phase, "decode") != 0 && strcmp (phase, "prefill") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: phase: '%s' is not decode or prefill",
                   path, phase);
      return NULL;
    }
  self->prefill = strcmp (phase, "prefill") == 0;
  if (network != NULL && !afd_network_fidelity_from_name (network, &self->network))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: network: '%s' is not analytic or flow", path, network);
      return NULL;
    }
  const cJSON *runs = NULL;
  if (!afd_json_get_child (root, &where, "runs", AFD_JSON_OPTIONAL, cJSON_Array, &runs, error))
    return NULL;
  if (!load_faults (self, root, &where, error) || !load_mtp_prices (self, root, &where, error))
    return NULL;
  if ((runs == NULL) == (strategy == NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: give exactly one of \"strategy\" (one run) or \"runs\" (several)", path);
      return NULL;
    }
  if (strategy != NULL)
    {
      cJSON *options = collect_options (root, AFD_EXPERIMENT_KEY_TOP, &where, error);
      if (options == NULL)
        return NULL;
      afd_experiment_add_run (self, NULL, strategy, options);
    }
  else
    {
      /* With "runs", strategy options belong in the runs: any other key is unknown. */
      g_autoptr (cJSON) extra = collect_options (root, AFD_EXPERIMENT_KEY_TOP, &where, error);
      if (extra == NULL)
        return NULL;
      if (extra->child != NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s: unknown key (strategy options go inside each run)", path,
                       extra->child->string);
          return NULL;
        }
      guint i = 0;
      const cJSON *item;
      cJSON_ArrayForEach (item, runs)
        {
          g_autofree char *rpath = afd_json_path_index ("runs", i++);
          AfdJsonWhere rw = { path, rpath, AFD_ERROR_CONFIG };
          if (!load_run (self, item, &rw, error))
            return NULL;
        }
      if (self->runs->len == 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: runs: the list is empty", path);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

cJSON *
afd_experiment_add_provenance (const AfdExperiment *self, cJSON *root, const char *command,
                               GError **error)
{
  cJSON *prov = afd_provenance_add (root, command);
  if (self->path != NULL && !afd_provenance_add_input (prov, self->path, error))
    return NULL;
  const char *kinds[][3] = { { "topologies/clusters", "cluster", self->cluster },
                             { "models/llm", "model", self->model } };
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *p = afd_data_resolve (kinds[i][0], kinds[i][1], kinds[i][2], error);
      if (p == NULL || !afd_provenance_add_input (prov, p, error))
        return NULL;
    }
  afd_json_add_number (prov, "seed", (double) self->seed);
  return prov;
}


/* The workload block's MTP and price keys (docs/user/output-format.md). */
static void
add_mtp_price_workload (cJSON *wl, const AfdExperiment *self, const AfdGpuSpec *gpu)
{
  afd_json_add_number (wl, "mtp_draft_tokens", self->mtp_draft_tokens);
  afd_json_add_number (wl, "accept_tokens", self->accept_tokens);
  double price = afd_experiment_run_gpu_price (self, gpu);
  if (price > 0)
    afd_json_add_number (wl, "price_usd_per_gpu_hour", price);
  else
    cJSON_AddNullToObject (wl, "price_usd_per_gpu_hour");
}

gboolean
afd_experiment_step_llm (const AfdExperiment *self, const AfdLlm *llm, AfdLlm **out_step,
                         GError **error)
{
  if (self->mtp_draft_tokens == 0)
    {
      *out_step = NULL;
      return TRUE;
    }
  const char *what = self->path != NULL ? "mtp" : "--mtp";
  if (self->prefill)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: multi-token prediction drafts decode steps; the phase is prefill", what);
      return FALSE;
    }
  if (llm->mtp_layers == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: model %s has no draft module (its \"mtp_layers\" is 0; "
                   "docs/user/model-format.md)", what, llm->name);
      return FALSE;
    }
  *out_step = afd_llm_with_draft (llm, self->mtp_draft_tokens);
  return TRUE;
}

/* The file behind a "file:PATH" or "profile:PATH" spec, or NULL. */
static const char *
spec_file (const char *spec, const char *prefix)
{
  return spec != NULL && g_str_has_prefix (spec, prefix) ? spec + strlen (prefix) : NULL;
}

/*
 * Checks, before any work, that the summary and the traces are distinct files and none of
 * them is an input (sim/files.h). Names that do not resolve are left to the loaders.
 */
gboolean
afd_experiment_check_files (const AfdExperiment *self, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) outputs = g_array_new (FALSE, TRUE, sizeof (AfdFileUse));
  AfdFileUse json = { "--json", self->json };
  g_array_append_val (outputs, json);
  for (guint i = 0; self->trace != NULL && i < self->runs->len; i++)
    {
      const AfdExperimentRun *run = self->runs->pdata[i];
      char *flag = self->runs->len > 1 ? g_strdup_printf ("--trace (run %s)", run->label)
                                       : g_strdup ("--trace");
      char *path = afd_experiment_run_trace_path (self, run->label);
      g_ptr_array_add (names, flag);
      g_ptr_array_add (names, path);
      AfdFileUse u = { flag, path };
      g_array_append_val (outputs, u);
    }
  g_autofree char *cluster = afd_data_resolve ("topologies/clusters", "cluster", self->cluster,
                                               NULL);
  g_autofree char *model = afd_data_resolve ("models/llm", "model", self->model, NULL);
  AfdFileUse inputs[] = {
    { "the experiment file", self->path },
    { "--cluster", cluster },
    { "--model", model },
    { "--routing", spec_file (self->routing, "file:") },
    { "--costs", spec_file (self->costs, "profile:") },
  };
  return afd_files_check_distinct ((const AfdFileUse *) outputs->data, outputs->len, inputs,
                                   G_N_ELEMENTS (inputs), error);
}

cJSON *
afd_experiment_run (const AfdExperiment *self, const AfdPlugins *plugins,
                    GPtrArray **out_trace_paths, GError **error)
{
  return afd_experiment_run_typed (self, plugins, out_trace_paths, NULL, error);
}

cJSON *
afd_experiment_run_typed (const AfdExperiment *self, const AfdPlugins *plugins,
                          GPtrArray **out_trace_paths, GArray **out_metrics, GError **error)
{
  g_autoptr (GArray) metrics = g_array_new (FALSE, TRUE, sizeof (AfdMetrics));
  if (!afd_experiment_check_files (self, error))
    return NULL;
  /* Every phase reads at least one token of context (prefill of 0 tokens priced as 1). */
  if (self->context_tokens < 1)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "context: must be >= 1 token (got 0)");
      return NULL;
    }
  g_autoptr (AfdCluster) cluster = afd_cluster_load (self->cluster, error);
  if (cluster == NULL)
    return NULL;
  g_autoptr (AfdLlm) model = afd_llm_load (self->model, error);
  if (model == NULL)
    return NULL;
  g_autoptr (AfdLlm) step_model = NULL;
  if (!afd_experiment_step_llm (self, model, &step_model, error))
    {
      if (self->path != NULL)
        g_prefix_error (error, "%s: ", self->path);
      return NULL;
    }
  const AfdLlm *llm = step_model != NULL ? step_model : model;
  g_autoptr (AfdCostModel) costs = plugins->cost_model_new (self->costs, error);
  if (costs == NULL)
    return NULL;
  /* AfdOutput: the traces written, put into place together at the end (all or none). */
  g_autoptr (GPtrArray) traces = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_output_free);
  for (guint i = 0; i < self->faults->len; i++)
    {
      const AfdFault *f = self->faults->pdata[i];
      if (self->iterations > 0 && !f->at_time && f->iteration >= self->iterations)
        g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                     "fault '%s' starts at iteration %u but the run has %u iterations (0..%u)",
                     f->spec, f->iteration, self->iterations, self->iterations - 1);
      else if (afd_fault_check (f, cluster, error))
        continue;
      if (self->path != NULL)
        g_prefix_error (error, "%s: faults[%u]: ", self->path, i);
      else
        g_prefix_error (error, "--fault: ");
      return NULL;
    }

  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *prov = afd_experiment_add_provenance (self, root, "run", error);
  if (prov == NULL)
    return NULL;
  g_autoptr (GString) cdesc = g_string_new (NULL);
  afd_cost_model_describe (costs, cdesc);
  cJSON_AddStringToObject (prov, "cost_model", cdesc->str);
  cJSON_AddStringToObject (prov, "network", afd_network_fidelity_name (self->network));

  cJSON *wl = cJSON_AddObjectToObject (root, "workload");
  cJSON_AddStringToObject (wl, "cluster", afd_cluster_name (cluster));
  cJSON_AddStringToObject (wl, "model", llm->name);
  afd_json_add_number (wl, "gpus", afd_cluster_gpu_count (cluster));
  afd_json_add_number (wl, "batch", (double) self->batch);
  afd_json_add_number (wl, "context", (double) self->context_tokens);
  cJSON_AddStringToObject (wl, "phase", self->prefill ? "prefill" : "decode");
  cJSON_AddStringToObject (wl, "routing", self->routing);
  add_mtp_price_workload (wl, self, afd_cluster_gpu_spec (cluster));

  cJSON *runs = cJSON_AddArrayToObject (root, "runs");
  for (guint i = 0; i < self->runs->len; i++)
    {
      const AfdExperimentRun *run = self->runs->pdata[i];
      AfdMetrics m = { 0 };
      cJSON *r = afd_experiment_run_one (self, run, plugins, cluster, llm, costs, traces, NULL,
                                        &m, error);
      if (r != NULL && self->faults->len > 0
          && !afd_experiment_faults_run (self, run, plugins, cluster, llm, costs, traces, &m, r,
                                         error))
        g_clear_pointer (&r, cJSON_Delete);
      if (r == NULL)
        {
          if (self->path != NULL && self->runs->len > 1)
            g_prefix_error (error, "%s: runs[%u] (%s): ", self->path, i, run->label);
          else if (self->path != NULL)
            g_prefix_error (error, "%s: ", self->path);
          else
            g_prefix_error (error, "run %s: ", run->label);
          return NULL;
        }
      g_array_append_val (metrics, m);
      cJSON *entry = cJSON_CreateObject ();
      cJSON_AddStringToObject (entry, "label", run->label);
      cJSON_AddStringToObject (entry, "strategy", run->strategy);
      cJSON_AddItemToObject (entry, "options", cJSON_Duplicate (run->options, TRUE));
      if (run->claim_tpot_s > 0 || run->claim_tokens_per_s > 0 || run->claim_utilisation > 0)
        {
          cJSON *c = cJSON_AddObjectToObject (entry, "claims");
          if (run->claim_tpot_s > 0)
            afd_json_add_number (c, "tpot_s", run->claim_tpot_s);
          if (run->claim_tokens_per_s > 0)
            afd_json_add_number (c, "tokens_per_s", run->claim_tokens_per_s);
          if (run->claim_utilisation > 0)
            afd_json_add_number (c, "utilisation", run->claim_utilisation);
          if (run->claim_source != NULL)
            cJSON_AddStringToObject (c, "source", run->claim_source);
        }
      cJSON *child = r->child;
      while (child != NULL)
        {
          cJSON *next = child->next;
          cJSON_AddItemToObject (entry, child->string,
                                 cJSON_DetachItemViaPointer (r, child));
          child = next;
        }
      cJSON_Delete (r);
      cJSON_AddItemToArray (runs, entry);
    }
  /* Lookups outside a profile's measured grid, one per op shape (only when there were any,
   * so runs without them keep their summary byte for byte). */
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  guint n_warned = afd_cost_model_take_warnings (costs, warnings);
  if (n_warned > 0)
    {
      afd_json_add_number (prov, "out_of_grid_lookups", n_warned);
      cJSON *list = cJSON_AddArrayToObject (prov, "out_of_grid");
      for (guint i = 0; i < warnings->len; i++)
        cJSON_AddItemToArray (list, cJSON_CreateString (warnings->pdata[i]));
    }
  /* A single run also gets its headline metrics at the top level. */
  if (self->runs->len == 1)
    {
      static const char *const keys[] = { "iteration_time_s", "tpot_s", "tokens_per_s",
                                          "tokens_per_s_per_gpu", "gpus_used", "gpus_in_cluster",
                                          "hfu", "mfu", "gpus", "economics" };
      cJSON *only = cJSON_GetArrayItem (runs, 0);
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        cJSON_AddItemToObject (root, keys[k],
                               cJSON_Duplicate (cJSON_GetObjectItem (only, keys[k]), TRUE));
    }
  for (guint i = 0; i < traces->len; i++)
    if (!afd_output_commit (traces->pdata[i], error))
      return NULL;
  if (out_trace_paths != NULL)
    {
      *out_trace_paths = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < traces->len; i++)
        g_ptr_array_add (*out_trace_paths, g_strdup (afd_output_path (traces->pdata[i])));
    }
  if (out_metrics != NULL)
    *out_metrics = g_steal_pointer (&metrics);
  return g_steal_pointer (&root);
}
