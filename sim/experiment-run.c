/* SPDX-License-Identifier: MIT */
/*
 * experiment-run.c - one run of an experiment (see sim/experiment-private.h): the strategy
 * instance and input (afd_experiment_run_strategy), pricing through the cost model and the
 * network (analytic or flow-level), the replay, the typed metrics and their JSON form, the
 * trace. Called by afd_experiment_run() (sim/experiment.c) and by the fault campaign
 * (sim/experiment-faults.c).
 */
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

char *
afd_experiment_run_trace_path (const AfdExperiment *self, const char *label)
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
afd_experiment_run_strategy (const AfdExperiment *self, const AfdExperimentRun *run,
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

double
afd_experiment_run_gpu_price (const AfdExperiment *self, const AfdGpuSpec *gpu)
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
afd_experiment_run_one (const AfdExperiment *self, const AfdExperimentRun *run,
                        const AfdPlugins *plugins, const AfdCluster *cluster, const AfdLlm *llm,
                        AfdCostModel *costs, GPtrArray *traces, FaultHooks *fx,
                        AfdMetrics *out_metrics, GError **error)
{
  gboolean want_trace
      = self->trace != NULL && (fx != NULL ? fx->trace : self->faults->len == 0);
  AfdStrategyInput in;
  g_autoptr (AfdStrategy) strategy
      = afd_experiment_run_strategy (self, run, plugins, cluster, llm, costs, &in, error);
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
  if (netsim != NULL)
    {
      /* A flow past the simulated-time horizon is the cause of whatever else failed. */
      g_autoptr (GError) horizon = NULL;
      if (!afd_netsim_check_horizon (netsim, &horizon))
        {
          g_clear_error (error);
          g_propagate_error (error, g_steal_pointer (&horizon));
          return NULL;
        }
    }
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
  afd_economics_add_json (out, replay, graph, in.gpu, afd_experiment_run_gpu_price (self, in.gpu), &m);
  if (netsim != NULL)
    add_link_summary (out, cluster, netsim, m.iteration_time_s);
  if (want_trace)
    {
      g_autofree char *tp = afd_experiment_run_trace_path (self, run->label);
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
