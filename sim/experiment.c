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

/* What the replay's pricing callback needs. */
typedef struct {
  AfdCostModel *costs;
  const AfdGpuSpec *gpu;
  const double *gpu_scale; /* (nullable) per GPU compute-time factor (stragglers, sim/fault.h) */
} Pricing;

/* AfdReplayOpTimeFunc over a cost model. */
static gboolean
price (gpointer user_data, const AfdOpGraph *graph, guint op, double *out_seconds, GError **error)
{
  const Pricing *p = user_data;
  AfdOp view;
  if (!afd_opgraph_compute_op (graph, op, &view))
    {
      *out_seconds = 0;
      return TRUE;
    }
  AfdPlacement where = { p->gpu, afd_opgraph_op (graph, op)->gpu };
  if (!afd_cost_model_op_time (p->costs, &view, &where, out_seconds, error))
    return FALSE;
  if (p->gpu_scale != NULL)
    *out_seconds *= p->gpu_scale[where.gpu_index];
  return TRUE;
}

typedef struct _Net Net;

/* Flow mode: what a collective's completion callback needs. */
typedef struct {
  Net *net;
  guint comm;
} CommCtx;

/* The network side of a replay: analytic (pure) or flow-level (flows on the netsim). */
struct _Net {
  AfdNetwork *network;
  AfdNetsim *netsim; /* flow mode only */
  AfdReplay *replay;
  GError *error;     /* first failure inside a flow-mode callback */
  CommCtx *ctx;      /* flow mode: one per collective */
  GArray *sample_ns; /* flow mode: instants the link counters were sampled (AfdTime) */
  GArray *sample_busy; /* flow mode: per sample, every link's cumulative busy seconds */
  guint n_links;
};

/* Flow mode: records every link's cumulative busy time now (collective starts and ends are
 * where the rates change). */
static void
sample_links (Net *net)
{
  AfdTime now = afd_engine_now (afd_netsim_engine (net->netsim));
  if (net->sample_ns->len > 0
      && g_array_index (net->sample_ns, AfdTime, net->sample_ns->len - 1) == now)
    g_array_set_size (net->sample_busy, net->sample_busy->len - net->n_links);
  else
    g_array_append_val (net->sample_ns, now);
  for (guint l = 0; l < net->n_links; l++)
    {
      AfdLinkStats st;
      afd_netsim_link_stats (net->netsim, l, &st);
      g_array_append_val (net->sample_busy, st.busy_s);
    }
}

/* Describes collective @comm of @graph for sim/collective.h. A barrier is a 4-byte all-reduce
 * (how NCCL-based frameworks implement one). */
static void
to_collective (const AfdOpGraph *graph, guint comm, AfdCollective *out)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (graph, comm);
  *out = (AfdCollective) { 0 };
  out->algo = AFD_ALGO_AUTO;
  out->proto = AFD_PROTO_AUTO;
  out->group = afd_opgraph_comm_gpus (graph, comm);
  out->group_size = c->n_members;
  out->bytes = c->bytes;
  switch (c->pattern)
    {
    case AFD_COMM_ALL_REDUCE:
      out->op = AFD_COLL_ALL_REDUCE;
      break;
    case AFD_COMM_ALL_GATHER:
      out->op = AFD_COLL_ALL_GATHER;
      break;
    case AFD_COMM_REDUCE_SCATTER:
      out->op = AFD_COLL_REDUCE_SCATTER;
      break;
    case AFD_COMM_BROADCAST:
      out->op = AFD_COLL_BROADCAST;
      break;
    case AFD_COMM_ALL_TO_ALL:
      out->op = c->has_pairs ? AFD_COLL_ALL_TO_ALL_V : AFD_COLL_ALL_TO_ALL;
      out->matrix_bytes = afd_opgraph_comm_pairs (graph, comm);
      break;
    case AFD_COMM_SEND_RECV:
      out->op = AFD_COLL_SEND_RECV;
      break;
    case AFD_COMM_BARRIER:
    case AFD_COMM_N_PATTERNS:
      out->op = AFD_COLL_ALL_REDUCE;
      out->bytes = 4;
      break;
    }
}

/* AfdReplayCommTimeFunc: the analytic collective model of sim/collective.h. */
static gboolean
comm_time_analytic (gpointer user_data, const AfdOpGraph *graph, guint comm, double *out_seconds,
                    GError **error)
{
  Net *net = user_data;
  AfdCollective coll;
  if (afd_opgraph_comm (graph, comm)->n_members < 2)
    {
      *out_seconds = 0;
      return TRUE;
    }
  to_collective (graph, comm, &coll);
  if (!afd_collective_time_analytic (net->network, &coll, NULL, NULL, out_seconds, error))
    {
      g_prefix_error (error, "collective %s: ", afd_opgraph_comm (graph, comm)->name);
      return FALSE;
    }
  return TRUE;
}

/* Flow mode: the collective's last byte arrived. */
static void
on_collective_done (AfdNetsim *sim, gpointer user_data)
{
  CommCtx *ctx = user_data;
  if (ctx->net->sample_ns != NULL)
    sample_links (ctx->net);
  afd_replay_comm_finished (ctx->net->replay, ctx->comm);
}

/* AfdReplayCommStartFunc: starts the collective's flows on the flow-level network. */
static void
comm_start_flow (gpointer user_data, AfdReplay *replay, const AfdOpGraph *graph, guint comm)
{
  Net *net = user_data;
  net->replay = replay;
  if (afd_opgraph_comm (graph, comm)->n_members < 2 || net->error != NULL)
    {
      afd_replay_comm_finished (replay, comm);
      return;
    }
  AfdCollective coll;
  to_collective (graph, comm, &coll);
  if (net->sample_ns != NULL)
    sample_links (net);
  if (!afd_netsim_start_collective (net->netsim, &coll, NULL, on_collective_done,
                                    &net->ctx[comm], &net->error))
    {
      g_prefix_error (&net->error, "collective %s: ", afd_opgraph_comm (graph, comm)->name);
      afd_replay_comm_finished (replay, comm);
    }
}

/* A link's name for the summary and the trace: "SRC->DST". */
static char *
link_name (const AfdCluster *cluster, guint l)
{
  const AfdLink *k = afd_cluster_link (cluster, l);
  return g_strdup_printf ("%s->%s", afd_cluster_vertex_name (cluster, k->src),
                          afd_cluster_vertex_name (cluster, k->dst));
}

/* Flow mode: the 10 busiest links of the iteration (busy = time with >= 1 flow), in the
 * summary as "links" (ties: link order). */
static void
add_link_summary (cJSON *out, const AfdCluster *cluster, AfdNetsim *netsim, double iteration_s)
{
  guint n = afd_cluster_link_count (cluster);
  g_autofree guint *order = g_new (guint, n);
  g_autofree double *busy = g_new (double, n);
  g_autofree double *bytes = g_new (double, n);
  for (guint l = 0; l < n; l++)
    {
      AfdLinkStats st;
      afd_netsim_link_stats (netsim, l, &st);
      busy[l] = st.busy_s;
      bytes[l] = st.bytes;
      order[l] = l;
    }
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && busy[order[j - 1]] < busy[order[j]]; j--)
      {
        guint t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  cJSON *links = cJSON_AddArrayToObject (out, "links");
  for (guint i = 0; i < MIN (n, 10u) && busy[order[i]] > 0; i++)
    {
      guint l = order[i];
      const AfdLink *k = afd_cluster_link (cluster, l);
      g_autofree char *name = link_name (cluster, l);
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "link", name);
      cJSON_AddBoolToObject (o, "scale_out", k->scale_out);
      afd_json_add_number (o, "bytes", bytes[l]);
      afd_json_add_number (o, "busy_s", busy[l]);
      afd_json_add_number (o, "busy_fraction", iteration_s > 0 ? busy[l] / iteration_s : 0);
      afd_json_add_number (o, "mean_bandwidth_bytes_per_s", iteration_s > 0 ? bytes[l] / iteration_s : 0);
      cJSON_AddItemToArray (links, o);
    }
}

/* Flow mode: one counter per link that carried traffic, on a "network" process after the
 * GPUs: the fraction of each sampling interval the link was busy. */
static void
write_link_counters (AfdTraceWriter *w, const AfdCluster *cluster, const Net *net, guint pid)
{
  guint ns = net->sample_ns->len;
  if (ns == 0)
    return;
  afd_trace_writer_process_name (w, pid, "network links");
  const double *b = (const double *) net->sample_busy->data;
  for (guint l = 0; l < net->n_links; l++)
    {
      if (b[(gsize) (ns - 1) * net->n_links + l] <= 0)
        continue;
      g_autofree char *name = link_name (cluster, l);
      for (guint i = 0; i + 1 < ns; i++)
        {
          AfdTime t0 = g_array_index (net->sample_ns, AfdTime, i);
          AfdTime t1 = g_array_index (net->sample_ns, AfdTime, i + 1);
          double d = b[(gsize) (i + 1) * net->n_links + l] - b[(gsize) i * net->n_links + l];
          double v = t1 > t0 ? d / afd_time_to_seconds (t1 - t0) : 0;
          afd_trace_writer_counter (w, pid, name, "busy", t0, MIN (MAX (v, 0.0), 1.0));
        }
      afd_trace_writer_counter (w, pid, name, "busy", g_array_index (net->sample_ns, AfdTime,
                                                                     ns - 1), 0);
    }
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

/* The trace file of run @label: the given path, with "-LABEL" before ".json" when several. */
static char *
trace_path (const AfdExperiment *self, const char *label)
{
  if (self->runs->len == 1)
    return g_strdup (self->trace);
  if (g_str_has_suffix (self->trace, ".json"))
    return g_strdup_printf ("%.*s-%s.json", (int) (strlen (self->trace) - 5), self->trace, label);
  return g_strdup_printf ("%s-%s", self->trace, label);
}


/* Fault injection: for every failed GPU that has work in @graph, the replica that holds it;
 * sets hooks->failure (the lost capacity) when one has none. With @reason (the survivors
 * could not take the work over: why), every failed GPU with work fails with that reason. */
static void
check_failed_gpus (AfdStrategy *strategy, const AfdStrategyInput *in, const AfdOpGraph *graph,
                   FaultHooks *hooks, const char *reason)
{
  guint n = afd_opgraph_n_gpus (graph);
  g_autofree guint *ops = g_new0 (guint, n);
  for (guint o = 0; o < afd_opgraph_n_ops (graph); o++)
    ops[afd_opgraph_op (graph, o)->gpu]++;
  for (guint g = 0; g < n && hooks->failure == NULL; g++)
    {
      if (!hooks->failed[g] || ops[g] == 0)
        continue;
      guint r = reason != NULL ? G_MAXUINT : afd_strategy_replica_of (strategy, in, g);
      if (r < n && !hooks->failed[r])
        continue;
      const char *role = afd_opgraph_gpu_role (graph, g);
      guint same = 0, lost = 0, working = 0, lost_all = 0;
      for (guint h = 0; h < n; h++)
        {
          if (ops[h] == 0)
            continue;
          working++;
          lost_all += hooks->failed[h] ? 1 : 0;
          if (strcmp (afd_opgraph_gpu_role (graph, h), role) == 0)
            {
              same++;
              lost += hooks->failed[h] ? 1 : 0;
            }
        }
      if (reason != NULL)
        hooks->failure = g_strdup_printf (
            "GPU %u (%s) failed and the survivors cannot take its work over (%s): lost %u of %u "
            "%s GPUs (%.1f%% of that role's capacity); the iteration cannot complete",
            g, role, reason, lost, same, role, 100.0 * lost / same);
      else if (same > 1)
        hooks->failure = g_strdup_printf (
            "GPU %u (%s) failed and no replica holds its work: lost %u of %u %s GPUs (%.1f%% of "
            "that role's capacity); the iteration cannot complete",
            g, role, lost, same, role, 100.0 * lost / same);
      else
        hooks->failure = g_strdup_printf (
            "GPU %u (%s) failed and its shard exists nowhere else: lost %u of %u working GPUs "
            "(%.1f%% of the capacity); the iteration cannot complete",
            g, role, lost_all, working, 100.0 * lost_all / working);
    }
}

AfdStrategy *
afd_experiment_strategy (const AfdExperiment *self, const AfdExperimentRun *run,
                         const AfdPlugins *plugins, const AfdCluster *cluster, const AfdLlm *llm,
                         AfdCostModel *costs, AfdStrategyInput *out_input, GError **error)
{
  const AfdStrategyClass *klass = plugins->strategy_lookup (run->strategy, error);
  if (klass == NULL)
    return NULL;
  AfdStrategy *strategy = afd_strategy_new (klass, run->options, error);
  if (strategy == NULL)
    return NULL;
  *out_input = (AfdStrategyInput){
    .llm = llm,
    .gpu = afd_cluster_gpu_spec (cluster),
    .n_gpus = afd_cluster_gpu_count (cluster),
    .gpus_per_node = afd_cluster_gpus_per_node (cluster),
    .batch = self->batch,
    .context_tokens = self->context_tokens,
    .prefill = self->prefill,
    .routing = self->routing,
    .seed = self->seed,
    .costs = costs,
    .draft_tokens = self->mtp_draft_tokens,
    .accepted_tokens = self->accept_tokens,
  };
  return strategy;
}

/* Returns: TRUE when some GPU of @mask (per GPU, nonzero) has an op in @graph (every member
 * of a collective has one). */
static gboolean
has_ops_on (const AfdOpGraph *graph, const guint8 *mask)
{
  for (guint o = 0; o < afd_opgraph_n_ops (graph); o++)
    if (mask[afd_opgraph_op (graph, o)->gpu])
      return TRUE;
  return FALSE;
}

/* The price per GPU-hour of @gpu: its --price / "prices" override, else its file's (0: none). */
static double
gpu_price (const AfdExperiment *self, const AfdGpuSpec *gpu)
{
  for (guint i = 0; i < self->prices->len; i++)
    {
      const AfdGpuPrice *gp = self->prices->pdata[i];
      if (strcmp (gp->gpu, gpu->name) == 0)
        return gp->usd_per_gpu_hour;
    }
  return gpu->price_usd_per_gpu_hour;
}

cJSON *
afd_experiment_run_one (const AfdExperiment *self, const AfdExperimentRun *run, const AfdPlugins *plugins,
         const AfdCluster *cluster, const AfdLlm *llm, AfdCostModel *costs, GPtrArray *traces,
         FaultHooks *fx, AfdMetrics *out_metrics, GError **error)
{
  gboolean want_trace
      = self->trace != NULL && (fx != NULL ? fx->trace : self->faults->len == 0);
  AfdStrategyInput in;
  g_autoptr (AfdStrategy) strategy
      = afd_experiment_strategy (self, run, plugins, cluster, llm, costs, &in, error);
  if (strategy == NULL)
    return NULL;
  /* The resource budget, before anything large is built (sim/limits.h). */
  /* The micro-batches the run's options give, through the parameter playing that role. */
  const cJSON *mb = NULL;
  const AfdStrategyClass *klass = plugins->strategy_lookup (run->strategy, NULL);
  const AfdStrategyParam *params = klass != NULL ? klass->params : NULL;
  for (const AfdStrategyParam *p = params; p != NULL && p->key != NULL; p++)
    if (p->roles & AFD_STRATEGY_PARAM_MICRO_BATCHES)
      mb = cJSON_GetObjectItemCaseSensitive (run->options, p->key);
  AfdLimitsEstimate est;
  afd_limits_estimate (in.n_gpus, llm->n_layers, afd_llm_n_moe_layers (llm),
                       cJSON_IsNumber (mb) && mb->valuedouble >= 1 && mb->valuedouble < 1e6
                           ? (guint) mb->valuedouble
                           : 0,
                       self->network == AFD_NETWORK_FLOW, &est);
  if (llm->n_routed_experts > 0)
    afd_limits_add_routing (&est,
                            (double) in.batch * (in.prefill ? (double) in.context_tokens : 1.0),
                            llm->top_k, afd_llm_n_moe_layers (llm));
  if (!afd_limits_check (&est, self->sim_memory_limit_bytes, error))
    return NULL;
  g_autoptr (AfdOpGraph) graph = afd_strategy_build (strategy, &in, error);
  if (graph == NULL)
    return NULL;
  if (fx != NULL && fx->failed != NULL)
    {
      check_failed_gpus (strategy, &in, graph, fx, NULL);
      in.excluded = fx->failed;
      guint64 lost = 0;
      if (fx->failure != NULL && afd_strategy_lost_sequences (strategy, &in, &lost))
        {
          /* The strategy re-places the work on the survivors (EP's redundant experts). */
          g_autoptr (GError) local = NULL;
          g_autoptr (AfdOpGraph) rebuilt = afd_strategy_build (strategy, &in, &local);
          g_clear_pointer (&fx->failure, g_free);
          if (rebuilt == NULL && !g_error_matches (local, AFD_ERROR, AFD_ERROR_INFEASIBLE))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          if (rebuilt == NULL)
            check_failed_gpus (strategy, &in, graph, fx, local->message);
          else
            {
              afd_opgraph_free (graph);
              graph = g_steal_pointer (&rebuilt);
              fx->lost_sequences = lost;
            }
        }
      in.excluded = NULL;
      if (fx->failure != NULL)
        return NULL;
    }
  g_autoptr (AfdCluster) rejoined = NULL;
  if (fx != NULL && fx->cut != NULL && has_ops_on (graph, fx->cut))
    {
      /* A replica serves a cut-off GPU's work (check_failed_gpus): as for a failed GPU, the
       * graph keeps that GPU's ops as stand-ins for the replica's takeover at the same cost,
       * so they keep the routes they had: this replay runs with the links that cut it off
       * (AFD_FAULT_CUT_REJOIN). Every op and collective of @graph is then routable; the
       * router is never asked for a GPU without a route. */
      g_autoptr (GError) local = NULL;
      rejoined = afd_fault_derive_cluster_full (fx->base, fx->faults, fx->n_faults,
                                                AFD_FAULT_CUT_REJOIN, &local);
      if (rejoined == NULL && g_error_matches (local, AFD_ERROR, AFD_ERROR_TOPOLOGY))
        {
          fx->failure = g_strdup_printf ("the failed links disconnect the cluster (%s); the "
                                         "iteration cannot complete", local->message);
          return NULL;
        }
      if (rejoined == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      cluster = rejoined;
    }
  g_autoptr (AfdEngine) engine = afd_engine_new (self->seed);
  Pricing pricing = { costs, in.gpu, fx != NULL ? fx->gpu_scale : NULL };
  g_autoptr (AfdNetwork) network = afd_network_new (cluster);
  g_autoptr (AfdNetsim) netsim = NULL;
  Net net = { network, NULL, NULL, NULL, NULL, NULL, NULL, 0 };
  AfdReplayConfig config = { .op_time = price, .op_time_data = &pricing };
  g_autofree CommCtx *ctx = NULL;
  g_autoptr (GArray) sample_ns_owner = NULL, sample_busy_owner = NULL;
  if (self->network == AFD_NETWORK_FLOW)
    {
      guint n = afd_opgraph_n_comms (graph);
      /* Validate every collective first, so bad groups fail before anything runs. */
      for (guint c = 0; c < n; c++)
        {
          double ignored;
          if (!comm_time_analytic (&net, graph, c, &ignored, error))
            return NULL;
        }
      netsim = afd_netsim_new (network, engine);
      net.netsim = netsim;
      net.n_links = afd_cluster_link_count (cluster);
      if (want_trace)
        {
          net.sample_ns = sample_ns_owner = g_array_new (FALSE, FALSE, sizeof (AfdTime));
          net.sample_busy = sample_busy_owner = g_array_new (FALSE, FALSE, sizeof (double));
        }
      ctx = g_new (CommCtx, MAX (n, 1u));
      for (guint c = 0; c < n; c++)
        ctx[c] = (CommCtx) { &net, c };
      net.ctx = ctx;
      config.comm_start = comm_start_flow;
      config.comm_start_data = &net;
    }
  else
    {
      config.comm_time = comm_time_analytic;
      config.comm_time_data = &net;
    }
  g_autoptr (AfdReplay) replay = afd_replay_new (graph, engine, &config, error);
  if (replay == NULL)
    return NULL;
  gboolean ok = afd_replay_run (replay, error);
  if (net.error != NULL)
    {
      g_clear_error (error);
      g_propagate_error (error, g_steal_pointer (&net.error));
      return NULL;
    }
  if (!ok)
    return NULL;
  AfdMetrics m;
  afd_metrics_compute (replay, graph, &in, &m);
  if (out_metrics != NULL)
    *out_metrics = m;
  cJSON *out = afd_metrics_to_json (replay, graph, &in, &m);
  afd_economics_add_json (out, replay, graph, in.gpu, gpu_price (self, in.gpu), &m);
  if (netsim != NULL)
    add_link_summary (out, cluster, netsim, m.iteration_time_s);
  if (want_trace)
    {
      g_autofree char *tp = trace_path (self, run->label);
      AfdTraceWriter *w = afd_trace_writer_open (tp, error);
      if (w == NULL)
        {
          cJSON_Delete (out);
          return NULL;
        }
      afd_replay_write_trace (replay, w);
      for (guint i = 0; fx != NULL && fx->markers != NULL && i < fx->markers->len; i++)
        {
          const FaultMarker *mk = &g_array_index (fx->markers, FaultMarker, i);
          const AfdFault *f = mk->fault;
          g_autofree char *name = g_strdup_printf ("fault %s", f->spec);
          cJSON *args = cJSON_CreateObject ();
          cJSON_AddStringToObject (args, "spec", f->spec);
          if (f->at_time)
            {
              /* The trace's axis is the traced iteration's own time: the marker sits where the
               * fault struck inside its iteration; the absolute time goes into the args. */
              afd_json_add_number (args, "time_s", afd_time_to_seconds (f->time_ns));
              afd_json_add_number (args, "iteration", mk->iteration);
              afd_json_add_number (args, "offset_s", afd_time_to_seconds (mk->offset_ns));
            }
          afd_trace_writer_instant (w, f->kind == AFD_FAULT_LINK ? 0 : f->gpu, name, mk->offset_ns,
                                    args);
        }
      if (net.sample_ns != NULL)
        write_link_counters (w, cluster, &net, afd_opgraph_n_gpus (graph));
      /* Closed now, put into place by afd_experiment_run() once every run succeeded. */
      AfdOutput *done = afd_trace_writer_finish (w, error);
      if (done == NULL)
        {
          cJSON_Delete (out);
          return NULL;
        }
      if (traces != NULL)
        g_ptr_array_add (traces, done);
      else if (!afd_output_commit (done, error))
        {
          afd_output_free (done);
          cJSON_Delete (out);
          return NULL;
        }
      else
        afd_output_free (done);
    }
  g_autoptr (GString) desc = g_string_new (NULL);
  afd_strategy_describe (strategy, desc);
  cJSON_AddStringToObject (out, "strategy_description", desc->str);
  return out;
}

/* The workload block's MTP and price keys (docs/user/output-format.md). */
static void
add_mtp_price_workload (cJSON *wl, const AfdExperiment *self, const AfdGpuSpec *gpu)
{
  afd_json_add_number (wl, "mtp_draft_tokens", self->mtp_draft_tokens);
  afd_json_add_number (wl, "accept_tokens", self->accept_tokens);
  double price = gpu_price (self, gpu);
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
      char *path = trace_path (self, run->label);
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
