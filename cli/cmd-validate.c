/* SPDX-License-Identifier: MIT */
/*
 * cmd-validate.c - `afdsim validate` (a configuration run for real and in simulation, with
 * per-op and end-to-end error) and `afdsim run --backend cuda` (the real run alone).
 *
 * Both read the flags of `afdsim run` (or an experiment JSON), build each run's operator
 * graph with the strategy exactly as the simulator does, and execute it on this host's GPUs
 * (backends/cuda/cuda-exec.h). `validate` then replays the same graph twice — with the
 * analytic cost model and with a calibrated one (--costs, default profile:H200) — on the
 * analytic collective model (sim/collective.h; the flow network is not used here), and
 * compares every op: a compute op's duration, and a comm op's time from its collective's
 * rendezvous (the last member's arrival) to its end, as the replay defines them. Error is
 * (simulated − real) / real; summaries are medians and 90th percentiles (nearest rank) of
 * |error| over the ops that run a kernel (backends/validate-stats.h, unit-tested there). The report is written atomically (--json); the real
 * run's median iteration can be written as a Chrome trace (--trace; sim/trace.h) beside the
 * simulator's. docs/validation.md shows the method and the 4×H200 numbers.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/cuda/cuda-exec.h"
#include "backends/profile.h"
#include "backends/validate-stats.h"
#include "cli/commands.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/run-options.h"
#include "sim/json.h"
#include "sim/network.h"
#include "sim/replay.h"
#include "sim/trace.h"

#define DEFAULT_CALIBRATED "profile:H200"

/* Flags of run, plus the execution and validation flags. */
typedef struct {
  AfdRunOptions run; /* the strategy and workload flags (sim/experiment.h) */
  const AfdPlugins *plugins; /* (transfer none): the command context's registry lookups */
  char *strategy_help;       /* --strategy's help: the registered names */
  char *strategy, *costs, *json, *trace, *warmup, *iterations, *timeout, *backend;
  gboolean quiet;
} Flags;

static void
flags_clear (Flags *f)
{
  char **all[] = { &f->strategy_help, &f->strategy,   &f->costs,   &f->json,
                   &f->trace,         &f->warmup,     &f->iterations, &f->timeout,
                   &f->backend };
  afd_run_options_clear (&f->run);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Flags, flags_clear)

static GOptionEntry *
entries (Flags *f, gboolean validate)
{
  const GOptionEntry strategy
      = { "strategy", 0, 0, G_OPTION_ARG_STRING, &f->strategy,
          (f->strategy_help = afd_cli_strategy_names (f->plugins)), "S" };
  const GOptionEntry tail[] = {
    { "network", 0, 0, G_OPTION_ARG_STRING, &f->run.network,
      "accepted for run's sake; the simulated side always uses the analytic network", "N" },
    { "costs", 0, 0, G_OPTION_ARG_STRING, &f->costs,
      validate ? "calibrated cost model (default profile:H200)" : "ignored by --backend cuda",
      "C" },
    { "warmup", 0, 0, G_OPTION_ARG_STRING, &f->warmup, "untimed iterations (default 3)", "N" },
    { "iterations", 0, 0, G_OPTION_ARG_STRING, &f->iterations, "timed iterations (default 20)",
      "N" },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &f->timeout,
      "deadline of every GPU/NCCL wait, seconds (default 120)", "S" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &f->backend, "run: sim (default) or cuda", "B" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &f->json, "write the report JSON here", "FILE" },
    { "trace", 0, 0, G_OPTION_ARG_STRING, &f->trace,
      "write a Chrome trace of the real run's median iteration here", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &f->quiet, "print nothing", NULL },
    { NULL },
  };
  return afd_run_options_entries (&f->run, f->plugins->strategy_list (), &strategy,
                                  "any strategy option, e.g. dispatch=two-stage (repeat)", tail);
}

/* Builds the experiment from an EXPERIMENT.json or the flags (as `afdsim run` does). */
static AfdExperiment *
experiment_from (const Flags *f, int argc, char **argv, const char *cmd, GError **error)
{
  g_autoptr (AfdExperiment) exp = NULL;
  if (argc >= 2)
    {
      if (f->strategy != NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "%s: --strategy and an experiment file are exclusive", cmd);
          return NULL;
        }
      if (!afd_run_options_refuse_with_file (&f->run, cmd, argv[1], error))
        return NULL;
      exp = afd_experiment_load (argv[1], error);
      if (exp == NULL)
        return NULL;
    }
  else
    {
      if (f->strategy == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "%s: give --strategy (and the run flags) or an EXPERIMENT.json", cmd);
          return NULL;
        }
      exp = afd_experiment_new ();
      /* The flags as `afdsim run` reads them (each must apply to the strategy). */
      const char *names[] = { f->strategy, NULL };
      if (!afd_run_options_add_runs (&f->run, exp, f->plugins, names, "", error))
        return NULL;
    }
  /* --network is checked (and recorded) like run's; the simulated side stays analytic. */
  if (!afd_run_options_apply (&f->run, exp, error))
    return NULL;
  /* The report and the trace must not be inputs or each other (issue #14): the experiment's
   * own checks, with validate's outputs in its json and trace. */
  g_free (exp->json);
  exp->json = g_strdup (f->json);
  g_free (exp->trace);
  exp->trace = g_strdup (f->trace);
  if (!afd_experiment_check_files (exp, error))
    return NULL;
  return g_steal_pointer (&exp);
}

/* The replay's pricing callback over a cost model. */
typedef struct {
  AfdCostModel *costs;
  const AfdGpuSpec *gpu;
  AfdNetwork *network;
  AfdProfile *profile; /* (nullable): collectives priced by its α-β fits instead */
} Sim;

static gboolean
sim_price (gpointer user_data, const AfdOpGraph *graph, guint op, double *out_seconds,
           GError **error)
{
  const Sim *s = user_data;
  AfdOp view;
  if (!afd_opgraph_compute_op (graph, op, &view))
    {
      *out_seconds = 0;
      return TRUE;
    }
  AfdPlacement where = { s->gpu, afd_opgraph_op (graph, op)->gpu };
  return afd_cost_model_op_time (s->costs, &view, &where, out_seconds, error);
}

/* The analytic collective model, as sim/experiment.c applies it (a barrier: 4-byte
 * all-reduce). */
static gboolean
sim_comm_time (gpointer user_data, const AfdOpGraph *graph, guint comm, double *out_seconds,
               GError **error)
{
  const Sim *s = user_data;
  const AfdOpGraphComm *c = afd_opgraph_comm (graph, comm);
  if (c->n_members < 2)
    {
      *out_seconds = 0;
      return TRUE;
    }
  AfdCollective coll = { 0 };
  coll.algo = AFD_ALGO_AUTO;
  coll.proto = AFD_PROTO_AUTO;
  coll.group = afd_opgraph_comm_gpus (graph, comm);
  coll.group_size = c->n_members;
  coll.bytes = c->bytes;
  switch (c->pattern)
    {
    case AFD_COMM_ALL_REDUCE:
      coll.op = AFD_COLL_ALL_REDUCE;
      break;
    case AFD_COMM_ALL_GATHER:
      coll.op = AFD_COLL_ALL_GATHER;
      break;
    case AFD_COMM_REDUCE_SCATTER:
      coll.op = AFD_COLL_REDUCE_SCATTER;
      break;
    case AFD_COMM_BROADCAST:
      coll.op = AFD_COLL_BROADCAST;
      break;
    case AFD_COMM_ALL_TO_ALL:
      coll.op = c->has_pairs ? AFD_COLL_ALL_TO_ALL_V : AFD_COLL_ALL_TO_ALL;
      coll.matrix_bytes = afd_opgraph_comm_pairs (graph, comm);
      break;
    case AFD_COMM_SEND_RECV:
      coll.op = AFD_COLL_SEND_RECV;
      break;
    case AFD_COMM_BARRIER:
    case AFD_COMM_N_PATTERNS:
      coll.op = AFD_COLL_ALL_REDUCE;
      coll.bytes = 4;
      break;
    }
  if (s->profile != NULL)
    {
      static const char *const names[] = { [AFD_COMM_ALL_REDUCE] = "all_reduce",
                                           [AFD_COMM_ALL_GATHER] = "all_gather",
                                           [AFD_COMM_REDUCE_SCATTER] = "reduce_scatter",
                                           [AFD_COMM_BROADCAST] = "broadcast",
                                           [AFD_COMM_ALL_TO_ALL] = "all_to_all",
                                           [AFD_COMM_SEND_RECV] = "send_recv",
                                           [AFD_COMM_BARRIER] = "all_reduce" };
      double size = c->pattern == AFD_COMM_BARRIER ? 4 : c->bytes;
      if (c->pattern == AFD_COMM_ALL_TO_ALL && c->has_pairs)
        {
          /* nccl-tests' size: everything one rank sends, its own chunk included; the busiest
           * member (sent or received) sets the time. */
          const double *p = coll.matrix_bytes;
          guint n = c->n_members;
          size = 0;
          for (guint i = 0; i < n; i++)
            {
              double row = 0, col = 0;
              for (guint j = 0; j < n; j++)
                if (j != i)
                  row += p[i * n + j], col += p[j * n + i];
              size = MAX (size, MAX (row, col) * n / (n - 1.0));
            }
        }
      if (!afd_profile_collective_time (s->profile, names[c->pattern], c->n_members,
                                        MAX (size, 1.0), out_seconds, error))
        {
          g_prefix_error (error, "collective %s: ", c->name);
          return FALSE;
        }
      return TRUE;
    }
  if (!afd_collective_time_analytic (s->network, &coll, NULL, NULL, out_seconds, error))
    {
      g_prefix_error (error, "collective %s: ", c->name);
      return FALSE;
    }
  return TRUE;
}

/* Replays @graph with the cost model @spec; fills per-op durations (compute: end − start;
 * comm: end − rendezvous) and the makespan. */
static gboolean
simulate (const AfdPlugins *plugins, const AfdOpGraph *graph, const AfdCluster *cluster,
          const char *spec, guint64 seed,
          double *out_op_s, double *out_makespan_s, char **out_desc, GError **error)
{
  g_autoptr (AfdCostModel) costs = plugins->cost_model_new (spec, error);
  if (costs == NULL)
    return FALSE;
  g_autoptr (AfdNetwork) network = afd_network_new (cluster);
  g_autoptr (AfdProfile) profile = NULL;
  if (g_str_has_prefix (spec, "profile:"))
    {
      /* A calibrated run prices collectives from the same profile (its α-β fits). */
      g_autofree char *path = afd_data_resolve ("topologies/profiles", "profile",
                                                spec + strlen ("profile:"), error);
      if (path == NULL || (profile = afd_profile_load (path, error)) == NULL)
        return FALSE;
    }
  Sim s = { costs, afd_cluster_gpu_spec (cluster), network, profile };
  AfdReplayConfig config = { .op_time = sim_price, .op_time_data = &s,
                             .comm_time = sim_comm_time, .comm_time_data = &s };
  g_autoptr (AfdEngine) engine = afd_engine_new (seed);
  g_autoptr (AfdReplay) replay = afd_replay_new (graph, engine, &config, error);
  if (replay == NULL || !afd_replay_run (replay, error))
    return FALSE;
  for (guint i = 0; i < afd_opgraph_n_ops (graph); i++)
    {
      const AfdOpGraphOp *o = afd_opgraph_op (graph, i);
      AfdTime from = o->kind == AFD_OPGRAPH_COMM ? afd_replay_comm_start (replay, o->comm)
                                                 : afd_replay_op_start (replay, i);
      out_op_s[i] = (double) (afd_replay_op_end (replay, i) - from) * 1e-9;
    }
  *out_makespan_s = (double) afd_replay_makespan (replay) * 1e-9;
  g_autoptr (GString) desc = g_string_new (NULL);
  afd_cost_model_describe (costs, desc);
  g_string_append (desc, profile != NULL ? "; collectives: the profile's alpha-beta fits"
                                         : "; collectives: analytic network model");
  *out_desc = g_string_free (g_steal_pointer (&desc), FALSE);
  return TRUE;
}

/* The summary of a set of |errors| (backends/validate-stats.h). */
typedef AfdValidateStats ErrStats;

/* Adds {ops, median_abs_error_rel, p90_abs_error_rel, worst_abs_error_rel} under @key. */
static void
add_stats (cJSON *obj, const char *key, const ErrStats *s)
{
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  afd_json_add_number (o, "ops", s->n);
  afd_json_add_number (o, "median_abs_error_rel", s->median);
  afd_json_add_number (o, "p90_abs_error_rel", s->p90);
  afd_json_add_number (o, "worst_abs_error_rel", s->worst);
}

/* The simulated side of one cost model. */
typedef struct {
  const char *spec;
  char *desc;
  double *op_s;
  double makespan_s;
  ErrStats all;
  ErrStats kinds[AFD_EXEC_N_KINDS];
} Side;

/* Per-op |error| of @side against the real durations, overall and per executed kind. */
static void
side_errors (const AfdExecPlan *plan, const AfdCudaExecResult *real, Side *side)
{
  guint n = real->n_ops;
  g_autofree double *errors = g_new (double, MAX (n, 1u));
  g_autofree gboolean *include = g_new (gboolean, MAX (n, 1u));
  for (guint i = 0; i < n; i++)
    include[i] = afd_exec_plan_op (plan, i)->kind != AFD_EXEC_NOOP;
  guint n_all = afd_validate_stats_abs_errors (side->op_s, real->op_duration_s, include, n,
                                               errors);
  afd_validate_stats_summarise (errors, n_all, &side->all);
  for (guint k = 0; k < AFD_EXEC_N_KINDS; k++)
    {
      for (guint i = 0; i < n; i++)
        include[i] = afd_exec_plan_op (plan, i)->kind == (AfdExecKind) k && k != AFD_EXEC_NOOP;
      guint nk = afd_validate_stats_abs_errors (side->op_s, real->op_duration_s, include, n,
                                                errors);
      afd_validate_stats_summarise (errors, nk, &side->kinds[k]);
    }
}

/* Writes the real run's median iteration as a Chrome trace. */
static gboolean
write_trace (const char *path, const AfdOpGraph *graph, const AfdExecPlan *plan,
             const AfdCudaExecResult *real, Side *sides, guint n_sides, GError **error)
{
  AfdTraceWriter *w = afd_trace_writer_open (path, error);
  if (w == NULL)
    return FALSE;
  for (guint g = 0; g < afd_opgraph_n_gpus (graph); g++)
    {
      g_autofree char *name = g_strdup_printf ("gpu%u node%u %s (real)", g,
                                               afd_opgraph_gpu_node (graph, g),
                                               afd_opgraph_gpu_role (graph, g));
      afd_trace_writer_process_name (w, g, name);
      afd_trace_writer_thread_name (w, g, AFD_OPGRAPH_STREAM_COMPUTE, "compute");
      afd_trace_writer_thread_name (w, g, AFD_OPGRAPH_STREAM_COMM, "comm");
    }
  const double *start = real->op_start_s + (gsize) real->median_iteration * real->n_ops;
  const double *end = real->op_end_s + (gsize) real->median_iteration * real->n_ops;
  for (guint i = 0; i < real->n_ops; i++)
    {
      const AfdOpGraphOp *o = afd_opgraph_op (graph, i);
      cJSON *args = cJSON_CreateObject ();
      cJSON_AddStringToObject (args, "exec", afd_exec_kind_name (afd_exec_plan_op (plan, i)->kind));
      afd_json_add_number (args, "real_median_s", real->op_duration_s[i]);
      for (guint s = 0; s < n_sides; s++)
        afd_json_add_number (args, s == 0 ? "analytic_s" : "calibrated_s", sides[s].op_s[i]);
      AfdTime t0 = (AfdTime) llround (start[i] * 1e9);
      AfdTime t1 = (AfdTime) llround (MAX (end[i], start[i]) * 1e9);
      afd_trace_writer_complete (w, o->gpu, o->stream, o->name,
                                 o->kind == AFD_OPGRAPH_COMM ? "comm" : "compute", t0, t1 - t0,
                                 args);
    }
  return afd_trace_writer_close (w, error);
}

/* Options of one invocation. */
typedef struct {
  gboolean validate;
  gboolean quiet;
  const char *calibrated;
  const char *trace;
  AfdCudaExecOptions exec;
  const AfdPlugins *plugins; /* (transfer none) */
} Mode;

/* The trace file of run @label: "-LABEL" before ".json" when there are several runs. */
static char *
trace_path (const char *trace, const char *label, guint n_runs)
{
  if (n_runs <= 1)
    return g_strdup (trace);
  if (g_str_has_suffix (trace, ".json"))
    return g_strdup_printf ("%.*s-%s.json", (int) (strlen (trace) - 5), trace, label);
  return g_strdup_printf ("%s-%s", trace, label);
}

/* Runs one strategy run for real (and in simulation); returns its report. */
static cJSON *
run_one (const AfdExperiment *exp, const AfdExperimentRun *run, const AfdCluster *cluster,
         const AfdLlm *llm, const Mode *mode, GError **error)
{
  AfdStrategyInput in;
  g_autoptr (AfdStrategy) strategy = afd_experiment_run_strategy (
      exp, run, mode->plugins, cluster, llm, NULL, &in, error);
  if (strategy == NULL)
    return NULL;
  g_autoptr (AfdOpGraph) graph = afd_strategy_build (strategy, &in, error);
  if (graph == NULL)
    return NULL;
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (graph, error);
  if (plan == NULL)
    return NULL;
  guint n_ops = afd_opgraph_n_ops (graph);
  /* Simulate first: a configuration the simulator rejects never reaches the GPUs. */
  Side sides[2] = { { .spec = "analytic" }, { .spec = mode->calibrated } };
  guint n_sides = mode->validate ? 2 : 0;
  for (guint s = 0; s < n_sides; s++)
    {
      sides[s].op_s = g_new0 (double, MAX (n_ops, 1u));
      if (!simulate (mode->plugins, graph, cluster, sides[s].spec, exp->seed, sides[s].op_s,
                     &sides[s].makespan_s, &sides[s].desc, error))
        {
          for (guint t = 0; t <= s; t++)
            g_free (sides[t].op_s), g_free (sides[t].desc);
          return NULL;
        }
    }
  g_autoptr (AfdCudaExecResult) real = afd_cuda_exec (plan, &mode->exec, error);
  cJSON *out = NULL;
  if (real != NULL)
    {
      out = cJSON_CreateObject ();
      cJSON_AddStringToObject (out, "label", run->label);
      cJSON_AddStringToObject (out, "strategy", run->strategy);
      cJSON_AddItemToObject (out, "options", cJSON_Duplicate (run->options, TRUE));
      cJSON *r = cJSON_AddObjectToObject (out, "real");
      cJSON_AddStringToObject (r, "device", real->device_name);
      cJSON_AddStringToObject (r, "versions", real->versions);
      afd_json_add_number (r, "gpus", real->n_gpus);
      afd_json_add_number (r, "warmup_iterations", mode->exec.warmup);
      afd_json_add_number (r, "iterations", real->iterations);
      afd_json_add_number (r, "iteration_median_s", real->iteration_median_s);
      afd_json_add_number (r, "iteration_min_s", real->iteration_min_s);
      afd_json_add_number (r, "iteration_max_s", real->iteration_max_s);
      afd_json_add_number (r, "gate_timeouts", real->gate_timeouts);
      afd_json_add_number (r, "blocker_iterations", real->blocker_iterations);
      cJSON *its = cJSON_AddArrayToObject (r, "iteration_s");
      for (guint i = 0; i < real->iterations; i++)
        cJSON_AddItemToArray (its, cJSON_CreateNumber (real->iteration_s[i]));
      cJSON *sims = cJSON_AddArrayToObject (out, "simulated");
      for (guint s = 0; s < n_sides; s++)
        {
          side_errors (plan, real, &sides[s]);
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddStringToObject (o, "costs", sides[s].spec);
          cJSON_AddStringToObject (o, "cost_model", sides[s].desc);
          afd_json_add_number (o, "iteration_s", sides[s].makespan_s);
          afd_json_add_number (o, "iteration_error_rel",
                               afd_validate_stats_error_rel (sides[s].makespan_s,
                                                             real->iteration_median_s));
          add_stats (o, "per_op", &sides[s].all);
          cJSON *kinds = cJSON_AddObjectToObject (o, "per_kind");
          for (guint k = 1; k < AFD_EXEC_N_KINDS; k++)
            if (sides[s].kinds[k].n > 0)
              add_stats (kinds, afd_exec_kind_name (k), &sides[s].kinds[k]);
          cJSON_AddItemToArray (sims, o);
        }
      cJSON *ops = cJSON_AddArrayToObject (out, "ops");
      for (guint i = 0; i < n_ops; i++)
        {
          const AfdOpGraphOp *g = afd_opgraph_op (graph, i);
          cJSON *o = cJSON_CreateObject ();
          afd_json_add_number (o, "id", i);
          cJSON_AddStringToObject (o, "name", g->name);
          afd_json_add_number (o, "gpu", g->gpu);
          cJSON_AddStringToObject (o, "stream", g->stream == 0 ? "compute" : "comm");
          cJSON_AddStringToObject (o, "exec", afd_exec_kind_name (afd_exec_plan_op (plan, i)->kind));
          afd_json_add_number (o, "real_s", real->op_duration_s[i]);
          for (guint s = 0; s < n_sides; s++)
            afd_json_add_number (o, s == 0 ? "analytic_s" : "calibrated_s", sides[s].op_s[i]);
          cJSON_AddItemToArray (ops, o);
        }
      if (mode->trace != NULL)
        {
          g_autofree char *tp = trace_path (mode->trace, run->label, exp->runs->len);
          if (!write_trace (tp, graph, plan, real, sides, n_sides, error))
            g_clear_pointer (&out, cJSON_Delete);
          else
            cJSON_AddStringToObject (out, "trace", tp);
        }
    }
  for (guint s = 0; s < n_sides; s++)
    g_free (sides[s].op_s), g_free (sides[s].desc);
  return out;
}

/* Prints one run's report. */
static void
print_run (const cJSON *r)
{
  const cJSON *real = cJSON_GetObjectItem (r, "real");
  double t = cJSON_GetObjectItem (real, "iteration_median_s")->valuedouble;
  printf ("%s: real %.3f ms (median of %d; min %.3f, max %.3f; %s; gate timeouts %d)\n",
          cJSON_GetObjectItem (r, "label")->valuestring, t * 1e3,
          cJSON_GetObjectItem (real, "iterations")->valueint,
          cJSON_GetObjectItem (real, "iteration_min_s")->valuedouble * 1e3,
          cJSON_GetObjectItem (real, "iteration_max_s")->valuedouble * 1e3,
          cJSON_GetObjectItem (real, "device")->valuestring,
          cJSON_GetObjectItem (real, "gate_timeouts")->valueint);
  const cJSON *s;
  cJSON_ArrayForEach (s, cJSON_GetObjectItem (r, "simulated"))
    {
      const cJSON *po = cJSON_GetObjectItem (s, "per_op");
      printf ("  %-22s %9.3f ms  end-to-end error %+6.1f%%  per-op |error| median %5.1f%% "
              "p90 %5.1f%% (%d ops)\n",
              cJSON_GetObjectItem (s, "costs")->valuestring,
              cJSON_GetObjectItem (s, "iteration_s")->valuedouble * 1e3,
              cJSON_GetObjectItem (s, "iteration_error_rel")->valuedouble * 100,
              cJSON_GetObjectItem (po, "median_abs_error_rel")->valuedouble * 100,
              cJSON_GetObjectItem (po, "p90_abs_error_rel")->valuedouble * 100,
              cJSON_GetObjectItem (po, "ops")->valueint);
      const cJSON *k;
      cJSON_ArrayForEach (k, cJSON_GetObjectItem (s, "per_kind"))
        printf ("    %-14s %4d ops  |error| median %5.1f%%  p90 %5.1f%%  worst %5.1f%%\n",
                k->string, cJSON_GetObjectItem (k, "ops")->valueint,
                cJSON_GetObjectItem (k, "median_abs_error_rel")->valuedouble * 100,
                cJSON_GetObjectItem (k, "p90_abs_error_rel")->valuedouble * 100,
                cJSON_GetObjectItem (k, "worst_abs_error_rel")->valuedouble * 100);
    }
  if (cJSON_GetObjectItem (r, "simulated")->child == NULL)
    {
      /* run --backend cuda: real time per executed kind (all GPUs, one iteration). */
      double sum[AFD_EXEC_N_KINDS] = { 0 };
      guint count[AFD_EXEC_N_KINDS] = { 0 };
      const cJSON *o;
      cJSON_ArrayForEach (o, cJSON_GetObjectItem (r, "ops"))
        for (guint k = 0; k < AFD_EXEC_N_KINDS; k++)
          if (strcmp (cJSON_GetObjectItem (o, "exec")->valuestring, afd_exec_kind_name (k)) == 0)
            {
              sum[k] += cJSON_GetObjectItem (o, "real_s")->valuedouble;
              count[k]++;
            }
      for (guint k = 1; k < AFD_EXEC_N_KINDS; k++)
        if (count[k] > 0)
          printf ("  %-14s %4u ops  %9.3f ms summed over GPUs (medians)\n",
                  afd_exec_kind_name (k), count[k], sum[k] * 1e3);
    }
  const cJSON *tr = cJSON_GetObjectItem (r, "trace");
  if (tr != NULL)
    printf ("  trace: %s\n", tr->valuestring);
}

/* The body of both commands. */
static int
execute (const char *cmd, const Flags *f, int argc, char **argv, gboolean validate,
         GError **error)
{
  if (f->plugins == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: no strategy registry wired", cmd);
      return 1;
    }
  Mode mode = { .plugins = f->plugins, .validate = validate, .quiet = f->quiet, .trace = f->trace,
                .calibrated = f->costs != NULL ? f->costs : DEFAULT_CALIBRATED,
                .exec = { .warmup = 3, .iterations = 20, .timeout_s = 120 } };
  gint64 v;
  if (f->warmup != NULL)
    {
      if (!afd_cli_parse_int ("--warmup", f->warmup, 0, 1000, &v, error))
        return 2;
      mode.exec.warmup = (guint) v;
    }
  if (f->iterations != NULL)
    {
      if (!afd_cli_parse_int ("--iterations", f->iterations, 1, 10000, &v, error))
        return 2;
      mode.exec.iterations = (guint) v;
    }
  if (f->timeout != NULL
      && !afd_cli_parse_double ("--timeout", f->timeout, 1, 86400, &mode.exec.timeout_s, error))
    return 2;
  g_autoptr (AfdExperiment) exp = experiment_from (f, argc, argv, cmd, error);
  if (exp == NULL)
    return (*error)->code == AFD_ERROR_USAGE ? 2 : 1;
  mode.exec.seed = exp->seed;
  g_autoptr (AfdCluster) cluster = afd_cluster_load (exp->cluster, error);
  if (cluster == NULL)
    return 1;
  g_autoptr (AfdLlm) model = afd_llm_load (exp->model, error);
  if (model == NULL)
    return 1;
  /* With --mtp, every step runs the model with its draft blocks (docs/models/mtp.md). */
  g_autoptr (AfdLlm) step_model = NULL;
  if (!afd_experiment_step_llm (exp, model, &step_model, error))
    return 1;
  const AfdLlm *llm = step_model != NULL ? step_model : model;
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *prov = afd_experiment_add_provenance (exp, root, cmd, error);
  if (prov == NULL)
    return 1;
  cJSON_AddStringToObject (prov, "network", "analytic");
  cJSON *wl = cJSON_AddObjectToObject (root, "workload");
  cJSON_AddStringToObject (wl, "cluster", afd_cluster_name (cluster));
  cJSON_AddStringToObject (wl, "model", llm->name);
  afd_json_add_number (wl, "batch", (double) exp->batch);
  afd_json_add_number (wl, "context", (double) exp->context_tokens);
  cJSON_AddStringToObject (wl, "phase", exp->prefill ? "prefill" : "decode");
  cJSON_AddStringToObject (wl, "routing", exp->routing);
  afd_json_add_number (wl, "seed", (double) exp->seed);
  cJSON *runs = cJSON_AddArrayToObject (root, "runs");
  for (guint i = 0; i < exp->runs->len; i++)
    {
      const AfdExperimentRun *run = exp->runs->pdata[i];
      cJSON *r = run_one (exp, run, cluster, llm, &mode, error);
      if (r == NULL)
        {
          g_prefix_error (error, "%s: run %s: ", cmd, run->label);
          return 1;
        }
      cJSON_AddItemToArray (runs, r);
      if (!f->quiet)
        {
          if (i == 0)
            printf ("%s on %s, %s, batch %" G_GUINT64_FORMAT ", context %" G_GUINT64_FORMAT
                    ", routing %s\n",
                    llm->name, afd_cluster_name (cluster), exp->prefill ? "prefill" : "decode",
                    exp->batch, exp->context_tokens, exp->routing);
          print_run (r);
          fflush (stdout);
        }
    }
  if (f->json != NULL)
    {
      if (!afd_json_write_file (f->json, root, error))
        return 1;
      if (!f->quiet)
        printf ("report: %s\n", f->json);
    }
  return 0;
}

/* `afdsim validate`. */
static int
cmd_validate (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { .plugins = cmd_ctx->plugins };
  g_autofree GOptionEntry *e = entries (&f, TRUE);
  static const char summary[]
      = "Runs a configuration (the flags of 'afdsim run', or an experiment file) on this "
        "host's GPUs and in simulation (analytic costs and --costs, default profile:H200), "
        "and prints per-op and end-to-end error (docs/validation.md).";
  if (!afd_cli_parse_command (&afd_command_validate, summary, e, &argc, &argv, error))
    return 2;
  if (f.backend != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "validate: --backend is run's flag (validate always runs on cuda)");
      return 2;
    }
  return execute ("validate", &f, argc, argv, TRUE, error);
}

/* Returns: the value of --backend in @argv (NULL when absent). */
static const char *
backend_arg (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return NULL;
      if (strcmp (argv[i], "--backend") == 0)
        return i + 1 < argc ? argv[i + 1] : "";
      if (g_str_has_prefix (argv[i], "--backend="))
        return argv[i] + strlen ("--backend=");
    }
  return NULL;
}

/* `afdsim run`: the simulator's, or the real run with --backend cuda. */
static int
cmd_run_backend (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  const char *backend = backend_arg (argc, argv);
  if (backend == NULL)
    return afd_command_run.run (cmd_ctx, argc, argv, error);
  if (strcmp (backend, "sim") == 0)
    {
      /* Drop "--backend sim" and hand the rest to the simulator's run. */
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      for (int i = 0; i < argc; i++)
        {
          if (strcmp (argv[i], "--backend") == 0)
            {
              i++;
              continue;
            }
          if (strcmp (argv[i], "--backend=sim") == 0)
            continue;
          g_ptr_array_add (args, argv[i]);
        }
      g_ptr_array_add (args, NULL);
      return afd_command_run.run (cmd_ctx, (int) args->len - 1, (char **) args->pdata, error);
    }
  if (strcmp (backend, "cuda") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--backend: '%s' is not sim or cuda",
                   backend);
      return 2;
    }
  g_auto (Flags) f = { .plugins = cmd_ctx->plugins };
  g_autofree GOptionEntry *e = entries (&f, FALSE);
  static const char summary[]
      = "With --backend cuda: executes the strategy's operator graph on this host's GPUs "
        "(real GEMMs, attention, expert GEMMs and NCCL collectives) and reports per-op and "
        "per-iteration times (docs/validation.md).";
  if (!afd_cli_parse_command (&afd_command_run_backend, summary, e, &argc, &argv, error))
    return 2;
  return execute ("run --backend cuda", &f, argc, argv, FALSE, error);
}

const AfdCommand afd_command_validate = {
  "validate", "run a configuration on this host's GPUs and in simulation; per-op and "
              "end-to-end error",
  cmd_validate, "[EXPERIMENT.json]", 1
};

const AfdCommand afd_command_run_backend = {
  "run", "replay one iteration of a strategy (flags or EXPERIMENT.json; none: the seeds' "
         "headline experiment); --backend cuda executes it on this host's GPUs",
  cmd_run_backend, "[EXPERIMENT.json]", 1
};
