/* SPDX-License-Identifier: MIT */
/*
 * cmd-bench-strategies.c - `afdsim bench strategies`: wall time and peak memory of strategy
 * replays (docs/performance.md "Strategies").
 *
 * Cases: the default experiment (experiments/seeds-headline, three strategies, median of
 * --repeat runs), and DeepSeek-V3 decode with EP320 (h800-x40, 61 layers, 2 micro-batches,
 * 64 sequences per GPU, context 4096): flat all-to-all-v with the analytic network, and
 * DeepSeek's two-stage node-limited dispatch (4 nodes) with the analytic and the flow-level
 * network (--quick skips the flow case; --flat-flow adds the flat one, minutes). Peak memory is the process's maximum resident set (getrusage) after the
 * case, so it only grows from case to case. Prints a table, or JSON with --json.
 */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/json.h"

/* Returns: the process's peak resident set, bytes. */
static double
peak_rss_bytes (void)
{
  struct rusage u;
  if (getrusage (RUSAGE_SELF, &u) != 0)
    return 0;
  return (double) u.ru_maxrss * 1024.0; /* Linux reports kilobytes */
}

/* Runs @exp @repeat times; returns the median wall time in seconds, or < 0 on error. */
static double
time_experiment (const AfdPlugins *plugins, const AfdExperiment *exp, guint repeat,
                 double *out_tpot_s, GError **error)
{
  g_autofree double *t = g_new (double, repeat);
  for (guint i = 0; i < repeat; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (cJSON) s = afd_experiment_run (exp, plugins, NULL, error);
      t[i] = (double) (g_get_monotonic_time () - t0) / 1e6;
      if (s == NULL)
        return -1;
      const cJSON *runs = cJSON_GetObjectItem (s, "runs");
      const cJSON *r0 = cJSON_GetArrayItem (runs, 0);
      *out_tpot_s = cJSON_GetNumberValue (cJSON_GetObjectItem (r0, "tpot_s"));
    }
  /* Insertion sort: repeat is small. */
  for (guint i = 1; i < repeat; i++)
    for (guint j = i; j > 0 && t[j - 1] > t[j]; j--)
      {
        double x = t[j];
        t[j] = t[j - 1];
        t[j - 1] = x;
      }
  return t[repeat / 2];
}

/* One benchmark case's results. */
typedef struct {
  const char *name;
  double wall_s;
  double tpot_s;
  double peak_rss_bytes;
  double limit_s;
} Case;

static int
bench_strategies (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  gboolean json = FALSE, quick = FALSE, flat_flow = FALSE;
  g_autofree char *repeat_text = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "skip the flow-network case", NULL },
    { "flat-flow", 0, 0, G_OPTION_ARG_NONE, &flat_flow,
      "also the flat all-to-all-v on the flow network (minutes)", NULL },
    { "repeat", 0, 0, G_OPTION_ARG_STRING, &repeat_text, "runs of the default experiment (5)",
      "N" },
    { NULL },
  };
  static const char summary[]
      = "Times strategy replays: the default experiment and "
        "DeepSeek-V3 decode with EP320 (docs/performance.md).";
  if (!afd_cli_parse_command (&afd_command_bench_strategies, summary, entries, &argc, &argv,
                              error))
    return 2;
  gint64 repeat = 5;
  if (!afd_cli_parse_int ("--repeat", repeat_text, 1, 1000, &repeat, error))
    return 2;
  if (cmd_ctx->plugins == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "bench strategies: no registry wired");
      return 1;
    }

  Case cases[5];
  guint n = 0;
  g_autoptr (AfdExperiment) headline = afd_experiment_load ("seeds-headline", error);
  if (headline == NULL)
    return 1;
  /* Time the simulation, not trace files written into the current folder. */
  g_clear_pointer (&headline->trace, g_free);
  cases[n] = (Case) { "default experiment (3 strategies, 16 GPUs)", 0, 0, 0, 0.1 };
  cases[n].wall_s
      = time_experiment (cmd_ctx->plugins, headline, (guint) repeat, &cases[n].tpot_s, error);
  if (cases[n].wall_s < 0)
    return 1;
  cases[n++].peak_rss_bytes = peak_rss_bytes ();

  /* DeepSeek-V3 EP320 variants: (two-stage dispatch, flow network). */
  static const struct {
    gboolean two_stage, flow;
    const char *name;
    double limit_s;
  } ds_cases[] = {
    { FALSE, FALSE, "deepseek-v3 EP320, flat a2a-v, analytic network", 1.0 },
    { TRUE, FALSE, "deepseek-v3 EP320, two-stage, analytic network", 1.0 },
    { TRUE, TRUE, "deepseek-v3 EP320, two-stage, flow network", 10.0 },
    { FALSE, TRUE, "deepseek-v3 EP320, flat a2a-v, flow network", 10.0 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (ds_cases); k++)
    {
      if ((ds_cases[k].flow && quick) || (ds_cases[k].flow && !ds_cases[k].two_stage && !flat_flow))
        continue;
      g_autoptr (AfdExperiment) ds = afd_experiment_new ();
      g_free (ds->cluster), ds->cluster = g_strdup ("h800-x40");
      g_free (ds->model), ds->model = g_strdup ("deepseek-v3");
      ds->batch = 320 * 64;
      ds->context_tokens = 4096;
      if (ds_cases[k].flow)
        ds->network = AFD_NETWORK_FLOW;
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "ep", 320);
      cJSON_AddNumberToObject (o, "micro_batches", 2);
      if (ds_cases[k].two_stage)
        {
          cJSON_AddStringToObject (o, "dispatch", "two-stage");
          cJSON_AddNumberToObject (o, "node_limit", 4);
        }
      afd_experiment_add_run (ds, "ep320", "ep", o);
      cases[n] = (Case) { ds_cases[k].name, 0, 0, 0, ds_cases[k].limit_s };
      cases[n].wall_s = time_experiment (cmd_ctx->plugins, ds, 1, &cases[n].tpot_s, error);
      if (cases[n].wall_s < 0)
        return 1;
      cases[n++].peak_rss_bytes = peak_rss_bytes ();
    }

  if (json)
    {
      g_autoptr (cJSON) root = cJSON_CreateArray ();
      for (guint i = 0; i < n; i++)
        {
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddStringToObject (o, "case", cases[i].name);
          afd_json_add_number (o, "wall_s", cases[i].wall_s);
          afd_json_add_number (o, "target_wall_s", cases[i].limit_s);
          afd_json_add_number (o, "simulated_tpot_s", cases[i].tpot_s);
          afd_json_add_number (o, "peak_rss_bytes", cases[i].peak_rss_bytes);
          cJSON_AddItemToArray (root, o);
        }
      g_autofree char *text = cJSON_Print (root);
      printf ("%s\n", text);
      return 0;
    }
  printf ("%-50s %10s %10s %14s %12s\n", "case", "wall s", "target s", "sim TPOT ms",
          "peak RSS MB");
  for (guint i = 0; i < n; i++)
    printf ("%-50s %10.4f %10.1f %14.3f %12.1f\n", cases[i].name, cases[i].wall_s,
            cases[i].limit_s, cases[i].tpot_s * 1e3, cases[i].peak_rss_bytes / 1e6);
  return 0;
}

const AfdCommand afd_command_bench_strategies = {
  "bench strategies", "time strategy replays (default experiment, DeepSeek-V3 EP320)",
  bench_strategies, "", 0
};
