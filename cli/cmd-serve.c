/* SPDX-License-Identifier: MIT */
/*
 * cmd-serve.c - `afdsim serve`: requests arrive, batches form, the SLO is met or missed
 * (docs/user/serve.md).
 *
 * A thin command: it reads the flags, builds the workload (sim/serve-workload.h), one pool (or
 * a prefill and a decode pool) of step times (sim/serve-steps.h), runs sim/serve.h and writes
 * the summary (with the provenance block), the per-request CSV and the trace. Strategy names
 * and --set options pass through unread to the experiment runner. A progress line is drawn
 * on stderr only when stderr is a terminal.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/data-dir.h"
#include "sim/duration.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/provenance.h"
#include "sim/run-options.h"
#include "sim/serve.h"

typedef struct {
  char *cluster, *model, *strategy, **sets;
  char *prefill_cluster, *prefill_strategy, **prefill_sets;
  char *decode_cluster, *decode_strategy, **decode_sets;
  char *kv_cluster, *kv_streams;
  char *rate, *arrival, *requests, *duration, *prompt, *output, *workload, *seed;
  char *max_batch, *max_tokens, *chunked, *ttft_slo, *tpot_slo, *kv_tokens;
  char *network, *costs, *routing;
  char *json, *requests_csv, *trace, *trace_requests, *sample_interval;
  gboolean quiet;
} ServeFlags;

static void
serve_flags_clear (ServeFlags *f)
{
  char **all[] = { &f->cluster, &f->model, &f->strategy, &f->prefill_cluster,
                   &f->prefill_strategy, &f->decode_cluster, &f->decode_strategy,
                   &f->kv_cluster, &f->kv_streams, &f->rate, &f->arrival, &f->requests,
                   &f->duration, &f->prompt, &f->output, &f->workload, &f->seed, &f->max_batch,
                   &f->max_tokens, &f->chunked, &f->kv_tokens, &f->ttft_slo, &f->tpot_slo, &f->network,
                   &f->costs, &f->routing, &f->json, &f->requests_csv, &f->trace,
                   &f->trace_requests, &f->sample_interval };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_free);
  g_clear_pointer (&f->sets, g_strfreev);
  g_clear_pointer (&f->prefill_sets, g_strfreev);
  g_clear_pointer (&f->decode_sets, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServeFlags, serve_flags_clear)

static void
draw_progress (guint64 done, guint64 total, gpointer data)
{
  (void) data;
  fprintf (stderr, "\rserve: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " requests done (%.0f%%)",
           done, total, total > 0 ? 100.0 * (double) done / (double) total : 100.0);
  if (done == total)
    fputc ('\n', stderr);
  fflush (stderr);
}

/* The strategy options of --set KEY=VALUE (or its pool's form), as `afdsim run --set`: each
 * KEY must be one of @strategy's parameters (sim/run-options.h). An unknown strategy gets {}:
 * the pool reports it. */
static cJSON *
pool_options (const AfdPlugins *plugins, const char *strategy, char **sets, const char *flag,
              GError **error)
{
  const AfdStrategyClass *klass = plugins->strategy_lookup (strategy, NULL);
  if (klass == NULL)
    return cJSON_CreateObject ();
  AfdRunOptions ro = { 0 };
  ro.sets = sets;
  if (!afd_run_options_check_applies (&ro, &klass, 1, error))
    {
      /* "--set KEY=VALUE: strategy S has no option …", named by the pool's own flag. */
      if (g_str_has_prefix ((*error)->message, "--set "))
        {
          char *msg = g_strdup_printf ("%s %s", flag, (*error)->message + strlen ("--set "));
          g_free ((*error)->message);
          (*error)->message = msg;
        }
      return NULL;
    }
  cJSON *o = afd_run_options_strategy (&ro, klass, "", error);
  if (o == NULL)
    g_prefix_error (error, "%s: ", flag);
  return o;
}

static gboolean
parse_u64 (const char *flag, const char *text, gint64 min, gint64 max, guint64 *out,
           GError **error)
{
  gint64 v = (gint64) *out;
  if (!afd_cli_parse_int (flag, text, min, max, &v, error))
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

/* The file a cluster or model name resolves to; %NULL when absent or unresolved (the loaders
 * report those). */
static char *
resolve (const char *kind, const char *name)
{
  return name != NULL ? afd_data_resolve (kind, "input", name, NULL) : NULL;
}

static void
print_results (const cJSON *root)
{
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (root, "results");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive (root, "config");
#define NUM(o, k) cJSON_GetNumberValue (cJSON_GetObjectItemCaseSensitive ((o), (k)))
#define PCT(k, p) NUM (cJSON_GetObjectItemCaseSensitive (r, (k)), (p))
  printf ("serve (%s, %g GPUs): %g requests in %.3f s; %.3f requests/s, %.1f output tokens/s\n",
          cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (c, "mode")), NUM (c, "gpus"),
          NUM (r, "requests"), NUM (r, "makespan_s"), NUM (r, "throughput_requests_per_s"),
          NUM (r, "output_tokens_per_s"));
  printf ("%-10s %12s %12s %12s\n", "ms", "p50", "p90", "p99");
  static const char *const keys[] = { "ttft_s", "tpot_s", "itl_s", "e2e_s" };
  static const char *const labels[] = { "TTFT", "TPOT", "ITL", "E2E" };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    if (isnan (PCT (keys[k], "p50")))
      printf ("%-10s %12s %12s %12s\n", labels[k], "-", "-", "-"); /* no request has a TPOT */
    else
      printf ("%-10s %12.3f %12.3f %12.3f\n", labels[k], 1e3 * PCT (keys[k], "p50"),
              1e3 * PCT (keys[k], "p90"), 1e3 * PCT (keys[k], "p99"));
  printf ("goodput %.3f requests/s (%.4f per GPU), %.1f%% of requests meet TTFT <= %g ms and "
          "TPOT <= %g ms\n",
          NUM (r, "goodput_requests_per_s"), NUM (r, "goodput_requests_per_s_per_gpu"),
          100 * NUM (r, "slo_attainment"), 1e3 * NUM (c, "ttft_slo_s"),
          1e3 * NUM (c, "tpot_slo_s"));
  printf ("mean in system %.2f requests, queued %.2f, KV occupancy %.1f%%\n",
          NUM (r, "mean_requests_in_system"), NUM (r, "mean_queued_requests"),
          100 * NUM (r, "mean_kv_occupancy"));
#undef PCT
#undef NUM
}

static int
cmd_serve (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_auto (ServeFlags) f = { 0 };
  const GOptionEntry entries[] = {
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &f.cluster, "cluster name or file (co-located; the "
      "default of the pools' clusters)", "C" },
    { "model", 0, 0, G_OPTION_ARG_STRING, &f.model, "model name or file", "M" },
    { "strategy", 0, 0, G_OPTION_ARG_STRING, &f.strategy, "co-located: the strategy serving "
      "both phases (as afdsim run --strategy)", "S" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.sets, "co-located strategy option (repeat; "
      "as afdsim run --set)", "KEY=VALUE" },
    { "prefill-strategy", 0, 0, G_OPTION_ARG_STRING, &f.prefill_strategy, "disaggregated: the "
      "prefill pool's strategy", "S" },
    { "prefill-set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.prefill_sets, "prefill pool option "
      "(repeat)", "KEY=VALUE" },
    { "prefill-cluster", 0, 0, G_OPTION_ARG_STRING, &f.prefill_cluster, "prefill pool's "
      "cluster (default --cluster)", "C" },
    { "decode-strategy", 0, 0, G_OPTION_ARG_STRING, &f.decode_strategy, "disaggregated: the "
      "decode pool's strategy", "S" },
    { "decode-set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.decode_sets, "decode pool option "
      "(repeat)", "KEY=VALUE" },
    { "decode-cluster", 0, 0, G_OPTION_ARG_STRING, &f.decode_cluster, "decode pool's cluster "
      "(default --cluster)", "C" },
    { "kv-cluster", 0, 0, G_OPTION_ARG_STRING, &f.kv_cluster, "cluster whose network carries "
      "the KV cache from prefill to decode (default --cluster)", "C" },
    { "kv-streams", 0, 0, G_OPTION_ARG_STRING, &f.kv_streams, "parallel streams (NICs) a KV "
      "transfer is split over (default 8)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_STRING, &f.rate, "mean arrivals per second (default 1)", "R" },
    { "arrival", 0, 0, G_OPTION_ARG_STRING, &f.arrival, "poisson (default) or gamma:CV", "A" },
    { "requests", 0, 0, G_OPTION_ARG_STRING, &f.requests, "requests to generate (default 1000)",
      "N" },
    { "duration", 0, 0, G_OPTION_ARG_STRING, &f.duration, "generate rate x duration requests "
      "instead, e.g. 1h", "D" },
    { "prompt", 0, 0, G_OPTION_ARG_STRING, &f.prompt, "prompt tokens: N, uniform:A:B, "
      "lognormal:MEDIAN:SIGMA (default 1024)", "LEN" },
    { "output", 0, 0, G_OPTION_ARG_STRING, &f.output, "output tokens, as --prompt (default "
      "256)", "LEN" },
    { "workload", 0, 0, G_OPTION_ARG_STRING, &f.workload, "trace CSV (arrival_s,prompt_tokens,"
      "output_tokens or Azure TIMESTAMP,ContextTokens,GeneratedTokens) instead of generating",
      "FILE" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &f.seed, "seed (default 1)", "N" },
    { "max-batch", 0, 0, G_OPTION_ARG_STRING, &f.max_batch, "running requests per pool (default "
      "256)", "B" },
    { "max-tokens", 0, 0, G_OPTION_ARG_STRING, &f.max_tokens, "new tokens per step (default "
      "2048)", "T" },
    { "kv-tokens", 0, 0, G_OPTION_ARG_STRING, &f.kv_tokens, "cap each pool's KV cache at N "
      "tokens (default: what the memory model leaves)", "N" },
    { "chunked-prefill", 0, 0, G_OPTION_ARG_STRING, &f.chunked, "co-located: yes (default) or "
      "no", "yes|no" },
    { "ttft-slo", 0, 0, G_OPTION_ARG_STRING, &f.ttft_slo, "time-to-first-token SLO (default "
      "1s)", "T" },
    { "tpot-slo", 0, 0, G_OPTION_ARG_STRING, &f.tpot_slo, "time-per-output-token SLO (default "
      "100ms)", "T" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &f.network, "analytic (default) or flow", "N" },
    { "costs", 0, 0, G_OPTION_ARG_STRING, &f.costs, "cost model (default analytic)", "C" },
    { "routing", 0, 0, G_OPTION_ARG_STRING, &f.routing, "routing (default uniform)", "R" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &f.json, "write the summary JSON here", "FILE" },
    { "requests-csv", 0, 0, G_OPTION_ARG_STRING, &f.requests_csv, "write one row per request "
      "here", "FILE" },
    { "trace", 0, 0, G_OPTION_ARG_STRING, &f.trace, "write a Chrome trace of the first requests "
      "here", "FILE" },
    { "trace-requests", 0, 0, G_OPTION_ARG_STRING, &f.trace_requests, "requests in the trace "
      "(default 50)", "N" },
    { "sample-interval", 0, 0, G_OPTION_ARG_STRING, &f.sample_interval, "time between series "
      "samples (default: the last arrival / 200, at least 1ms)", "T" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &f.quiet, "print nothing", NULL },
    { NULL },
  };
  if (!afd_cli_parse_command (&afd_command_serve, afd_command_serve.summary, entries, &argc,
                              &argv, error))
    return 2;
  const AfdPlugins *plugins = cmd_ctx->plugins;
  gboolean disagg = f.prefill_strategy != NULL || f.decode_strategy != NULL;
  if (disagg && (f.prefill_strategy == NULL || f.decode_strategy == NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: disaggregated serving needs both "
                   "--prefill-strategy and --decode-strategy");
      return 2;
    }
  if (disagg && (f.strategy != NULL || f.sets != NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: --strategy and --set are for "
                   "co-located serving; with --prefill-strategy and --decode-strategy use "
                   "--prefill-set and --decode-set");
      return 2;
    }
  if (!disagg && (f.prefill_sets != NULL || f.decode_sets != NULL || f.prefill_cluster != NULL
                  || f.decode_cluster != NULL || f.kv_cluster != NULL || f.kv_streams != NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: --prefill-*, --decode-* and --kv-* "
                   "need --prefill-strategy and --decode-strategy");
      return 2;
    }
  if (!disagg && f.strategy == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: give --strategy (co-located) or "
                   "--prefill-strategy and --decode-strategy (disaggregated)");
      return 2;
    }
  if (f.cluster == NULL && (!disagg || f.prefill_cluster == NULL || f.decode_cluster == NULL
                            || f.kv_cluster == NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: --cluster is required (or, "
                   "disaggregated, all of --prefill-cluster, --decode-cluster, --kv-cluster)");
      return 2;
    }
  if (f.model == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: --model is required");
      return 2;
    }

  /* Workload. */
  AfdServeWorkloadSpec ws = { .arrival = AFD_SERVE_ARRIVAL_POISSON, .cv = 1, .rate_per_s = 1,
                              .n_requests = 1000, .seed = 1 };
  guint64 kv_streams = 8, max_batch = 256, max_tokens = 2048, trace_requests = 50, kv_tokens = 0;
  double ttft_slo_s = 1.0, tpot_slo_s = 0.1, sample_s = 0, duration_s = 0;
  gboolean chunked = TRUE;
  AfdNetworkFidelity network = AFD_NETWORK_ANALYTIC;
  if (!afd_serve_length_parse ("--prompt", f.prompt != NULL ? f.prompt : "1024",
                               AFD_ERROR_USAGE, &ws.prompt, error)
      || !afd_serve_length_parse ("--output", f.output != NULL ? f.output : "256",
                                  AFD_ERROR_USAGE, &ws.output, error)
      || (f.arrival != NULL && !afd_serve_arrival_parse ("--arrival", f.arrival, AFD_ERROR_USAGE,
                                                         &ws.arrival, &ws.cv, error))
      || !afd_cli_parse_double ("--rate", f.rate, 1e-9, 1e9, &ws.rate_per_s, error)
      || !parse_u64 ("--requests", f.requests, 1, AFD_SERVE_MAX_REQUESTS, &ws.n_requests, error)
      || !parse_u64 ("--seed", f.seed, 0, G_MAXINT64, &ws.seed, error)
      || !parse_u64 ("--kv-streams", f.kv_streams, 1, 4096, &kv_streams, error)
      || !parse_u64 ("--max-batch", f.max_batch, 1, 65536, &max_batch, error)
      || !parse_u64 ("--max-tokens", f.max_tokens, 1, 1 << 24, &max_tokens, error)
      || !parse_u64 ("--kv-tokens", f.kv_tokens, 1, G_MAXINT64, &kv_tokens, error)
      || !parse_u64 ("--trace-requests", f.trace_requests, 1, 100000, &trace_requests, error)
      || (f.ttft_slo != NULL && !afd_duration_parse ("--ttft-slo", f.ttft_slo, TRUE, 1e6,
                                                     AFD_ERROR_USAGE, NULL, &ttft_slo_s, error))
      || (f.tpot_slo != NULL && !afd_duration_parse ("--tpot-slo", f.tpot_slo, TRUE, 1e6,
                                                     AFD_ERROR_USAGE, NULL, &tpot_slo_s, error))
      || (f.duration != NULL && !afd_duration_parse ("--duration", f.duration, TRUE, 1e8,
                                                     AFD_ERROR_USAGE, NULL, &duration_s, error))
      || (f.sample_interval != NULL
          && !afd_duration_parse ("--sample-interval", f.sample_interval, TRUE, 1e8,
                                  AFD_ERROR_USAGE, NULL, &sample_s, error)))
    return 2;
  if (f.chunked != NULL)
    {
      if (strcmp (f.chunked, "yes") != 0 && strcmp (f.chunked, "no") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--chunked-prefill: '%s' is not yes "
                       "or no", f.chunked);
          return 2;
        }
      if (disagg)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--chunked-prefill is for co-located "
                       "serving (a prefill pool runs whole prompts)");
          return 2;
        }
      chunked = strcmp (f.chunked, "yes") == 0;
    }
  if (ttft_slo_s <= 0 || tpot_slo_s <= 0 || (f.sample_interval != NULL && sample_s <= 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: --ttft-slo, --tpot-slo and "
                   "--sample-interval must be > 0");
      return 2;
    }
  if (f.network != NULL && !afd_network_fidelity_from_name (f.network, &network))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--network: '%s' is not analytic or flow",
                   f.network);
      return 2;
    }
  if (f.workload != NULL && (f.rate != NULL || f.arrival != NULL || f.requests != NULL
                             || f.duration != NULL || f.prompt != NULL || f.output != NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--workload: the trace gives arrivals and "
                   "lengths; leave out --rate, --arrival, --requests, --duration, --prompt and "
                   "--output");
      return 2;
    }
  if (f.duration != NULL && f.requests != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "serve: give --requests or --duration, "
                   "not both");
      return 2;
    }
  if (f.duration != NULL)
    {
      double n = floor (ws.rate_per_s * duration_s);
      if (n < 1 || n > AFD_SERVE_MAX_REQUESTS)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--duration: rate x duration = %g "
                       "requests, must be in [1, %d]", n, AFD_SERVE_MAX_REQUESTS);
          return 2;
        }
      ws.n_requests = (guint64) n;
    }
  /* Outputs distinct from each other and from every input, before any work (sim/files.h). */
  g_autofree char *in_cluster = resolve ("topologies/clusters", f.cluster);
  g_autofree char *in_pc = resolve ("topologies/clusters", f.prefill_cluster);
  g_autofree char *in_dc = resolve ("topologies/clusters", f.decode_cluster);
  g_autofree char *in_kc = resolve ("topologies/clusters", f.kv_cluster);
  g_autofree char *in_model = resolve ("models/llm", f.model);
  AfdFileUse outputs[] = { { "--json", f.json }, { "--requests-csv", f.requests_csv },
                           { "--trace", f.trace } };
  AfdFileUse inputs[] = { { "--workload", f.workload },  { "--cluster", in_cluster },
                          { "--prefill-cluster", in_pc }, { "--decode-cluster", in_dc },
                          { "--kv-cluster", in_kc },      { "--model", in_model } };
  if (!afd_files_check_distinct (outputs, G_N_ELEMENTS (outputs), inputs, G_N_ELEMENTS (inputs),
                                 error))
    return 2;
  g_autoptr (GArray) reqs = f.workload != NULL ? afd_serve_workload_load_csv (f.workload, error)
                                               : afd_serve_workload_generate (&ws, error);
  if (reqs == NULL)
    return f.workload != NULL ? 1 : 2;

  /* Pools. */
  const char *costs = f.costs != NULL ? f.costs : "analytic";
  const char *routing = f.routing != NULL ? f.routing : "uniform";
  g_autoptr (AfdServeSteps) colo = NULL, pre = NULL, dec = NULL;
  AfdServePoolSpec ps = { .model = f.model, .costs = costs, .routing = routing,
                          .network = network, .seed = ws.seed };
  if (!disagg)
    {
      g_autoptr (cJSON) opts = pool_options (plugins, f.strategy, f.sets, "--set", error);
      if (opts == NULL)
        return 2;
      ps.name = "colocated";
      ps.cluster = f.cluster;
      ps.strategy = f.strategy;
      ps.options = opts;
      if ((colo = afd_serve_steps_new (&ps, plugins, error)) == NULL)
        return 1;
    }
  else
    {
      g_autoptr (cJSON) po = pool_options (plugins, f.prefill_strategy, f.prefill_sets, "--prefill-set",
                                              error);
      if (po == NULL)
        return 2;
      g_autoptr (cJSON) dopt = pool_options (plugins, f.decode_strategy, f.decode_sets, "--decode-set",
                                                error);
      if (dopt == NULL)
        return 2;
      ps.name = "prefill";
      ps.cluster = f.prefill_cluster != NULL ? f.prefill_cluster : f.cluster;
      ps.strategy = f.prefill_strategy;
      ps.options = po;
      if ((pre = afd_serve_steps_new (&ps, plugins, error)) == NULL)
        return 1;
      ps.name = "decode";
      ps.cluster = f.decode_cluster != NULL ? f.decode_cluster : f.cluster;
      ps.strategy = f.decode_strategy;
      ps.options = dopt;
      if ((dec = afd_serve_steps_new (&ps, plugins, error)) == NULL)
        return 1;
    }
  AfdServeConfig cfg = {
    .colocated = colo, .prefill = pre, .decode = dec,
    .kv_cluster = f.kv_cluster != NULL ? f.kv_cluster : f.cluster,
    .kv_streams = (guint) kv_streams, .max_batch = max_batch, .max_tokens = max_tokens,
    .chunked_prefill = chunked, .kv_limit_tokens = kv_tokens, .ttft_slo_s = ttft_slo_s, .tpot_slo_s = tpot_slo_s,
    .sample_interval_s = sample_s, .trace_path = f.trace, .trace_requests = (guint) trace_requests,
    .progress = !f.quiet && isatty (STDERR_FILENO) ? draw_progress : NULL,
  };
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, error);
  if (res == NULL)
    return 1;

  /* The summary: provenance, workload, then the result's blocks. */
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  g_autoptr (AfdExperiment) exp = afd_experiment_new ();
  g_free (exp->cluster);
  exp->cluster = g_strdup (disagg && f.cluster == NULL ? f.decode_cluster : f.cluster);
  g_free (exp->model);
  exp->model = g_strdup (f.model);
  exp->seed = ws.seed;
  cJSON *prov = afd_experiment_add_provenance (exp, root, "serve", error);
  if (prov == NULL || (f.workload != NULL && !afd_provenance_add_input (prov, f.workload, error)))
    return 1;
  cJSON_AddStringToObject (prov, "cost_model", costs);
  cJSON_AddStringToObject (prov, "network", afd_network_fidelity_name (network));
  cJSON *wl = cJSON_AddObjectToObject (root, "workload");
  cJSON_AddStringToObject (wl, "model", f.model);
  if (f.workload != NULL)
    cJSON_AddStringToObject (wl, "trace", f.workload);
  else
    {
      cJSON_AddStringToObject (wl, "arrival", ws.arrival == AFD_SERVE_ARRIVAL_GAMMA ? "gamma"
                                                                                   : "poisson");
      afd_json_add_number (wl, "cv", ws.cv);
      afd_json_add_number (wl, "rate_per_s", ws.rate_per_s);
      g_autoptr (GString) d = g_string_new (NULL);
      afd_serve_length_describe (&ws.prompt, d);
      cJSON_AddStringToObject (wl, "prompt_tokens", d->str);
      g_string_truncate (d, 0);
      afd_serve_length_describe (&ws.output, d);
      cJSON_AddStringToObject (wl, "output_tokens", d->str);
    }
  afd_json_add_number (wl, "requests", reqs->len);
  cJSON_AddStringToObject (wl, "routing", routing);
  cJSON *body = afd_serve_result_json (res);
  for (cJSON *it = body->child; it != NULL; it = it->next)
    cJSON_AddItemReferenceToObject (root, it->string, it);
  if (!f.quiet)
    print_results (root);
  if (f.json != NULL && !afd_json_write_file (f.json, root, error))
    return 1;
  if (f.requests_csv != NULL && !afd_serve_result_write_csv (res, f.requests_csv, error))
    return 1;
  return 0;
}

const AfdCommand afd_command_serve = {
  "serve", "simulate request serving: arrivals, batching, KV, TTFT/TPOT percentiles, goodput",
  cmd_serve, NULL, 0
};
