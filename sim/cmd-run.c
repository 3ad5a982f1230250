/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `afdsim run` (one experiment: flags or EXPERIMENT.json; with neither, the seeds'
 * headline experiment) and `afdsim compare` (several strategies side by side).
 *
 * The commands parse flags into an AfdExperiment (sim/experiment.h), run it with the registry
 * lookups the composition root registered (afd_cmd_run_set_plugins), print a table on stdout
 * and write the summary JSON atomically when asked. Errors go back to main() as GErrors.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/json.h"

static const AfdPlugins *plugins;

int afd_cmd_run (int argc, char **argv, GError **error);
int afd_cmd_compare (int argc, char **argv, GError **error);

void
afd_cmd_run_set_plugins (const AfdPlugins *p)
{
  plugins = p;
}

const AfdPlugins *
afd_cmd_run_plugins (void)
{
  return plugins;
}

/* Reads a number from a run's summary. */
static double
num (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsNumber (v) ? v->valuedouble : 0;
}

/* Prints the comparison table (and the claims beside our predictions). */
static void
print_table (const AfdExperiment *exp, const cJSON *summary, GPtrArray *traces)
{
  const cJSON *wl = cJSON_GetObjectItem (summary, "workload");
  printf ("%s on %s (%g GPUs), %s, batch %g sequences, context %g tokens, routing %s\n",
          cJSON_GetObjectItem (wl, "model")->valuestring,
          cJSON_GetObjectItem (wl, "cluster")->valuestring, num (wl, "gpus"),
          cJSON_GetObjectItem (wl, "phase")->valuestring, num (wl, "batch"), num (wl, "context"),
          exp->routing);
  printf ("%-14s %12s %14s %8s %8s %8s %10s  %s\n", "run", "TPOT ms", "tokens/s", "util %",
          "HFU %", "MFU %", "max GB", "bound by (top critical-path op)");
  const cJSON *runs = cJSON_GetObjectItem (summary, "runs");
  const cJSON *r;
  gboolean any_claims = FALSE;
  cJSON_ArrayForEach (r, runs)
    {
      const cJSON *cp = cJSON_GetObjectItem (r, "critical_path");
      const cJSON *ops = cJSON_GetObjectItem (cp, "ops");
      const char *top = "-";
      double best = -1;
      const cJSON *o;
      cJSON_ArrayForEach (o, ops)
        if (num (o, "seconds") > best)
          {
            best = num (o, "seconds");
            top = cJSON_GetObjectItem (o, "name")->valuestring;
          }
      printf ("%-14s %12.3f %14.0f %8.1f %8.1f %8.1f %10.1f  %s (%s)\n",
              cJSON_GetObjectItem (r, "label")->valuestring, num (r, "tpot_s") * 1e3,
              num (r, "tokens_per_s"), num (r, "utilisation") * 100, num (r, "hfu") * 100,
              num (r, "mfu") * 100, num (r, "max_memory_bytes") / 1e9,
              cJSON_GetObjectItem (cp, "bound_by")->valuestring, top);
      any_claims = any_claims || cJSON_GetObjectItem (r, "claims") != NULL;
    }
  if (any_claims)
    {
      printf ("\nClaimed by the paper (claims, not targets: afdsim models physics, never tunes to "
              "them):\n");
      printf ("%-14s %12s %14s %8s\n", "run", "TPOT ms", "tokens/s", "util %");
      cJSON_ArrayForEach (r, runs)
        {
          const cJSON *c = cJSON_GetObjectItem (r, "claims");
          if (c == NULL)
            continue;
          printf ("%-14s %12.2f %14.0f %8.1f\n", cJSON_GetObjectItem (r, "label")->valuestring,
                  num (c, "tpot_s") * 1e3, num (c, "tokens_per_s"), num (c, "utilisation") * 100);
        }
    }
  cJSON_ArrayForEach (r, runs)
    {
      const cJSON *its = cJSON_GetObjectItem (r, "iterations"), *it;
      if (its == NULL)
        continue;
      printf ("\n%s with faults (detection %g s):\n%5s %-10s %12s %14s  %s\n",
              cJSON_GetObjectItem (r, "label")->valuestring, num (r, "fault_detection_s"),
              "iter", "state", "TPOT ms", "tokens/s", "note");
      cJSON_ArrayForEach (it, its)
        {
          const cJSON *tp = cJSON_GetObjectItem (it, "tpot_s");
          g_autofree char *tpot = cJSON_IsNumber (tp)
                                      ? g_strdup_printf ("%.3f", tp->valuedouble * 1e3)
                                      : g_strdup ("-");
          printf ("%5.0f %-10s %12s %14.0f  %s\n", num (it, "index"),
                  cJSON_GetObjectItem (it, "state")->valuestring, tpot, num (it, "tokens_per_s"),
                  cJSON_GetObjectItem (it, "note")->valuestring);
        }
    }
  for (guint i = 0; traces != NULL && i < traces->len; i++)
    printf ("trace: %s\n", (char *) traces->pdata[i]);
}

/* Runs @exp, prints the table, writes the JSON. */
static int
execute (AfdExperiment *exp, gboolean quiet, GError **error)
{
  if (plugins == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "run: no strategy registry wired");
      return 1;
    }
  g_autoptr (GPtrArray) traces = NULL;
  g_autoptr (cJSON) summary = afd_experiment_run (exp, plugins, &traces, error);
  if (summary == NULL)
    return 1;
  /* Out-of-grid profile lookups (sim/experiment.c) are warnings on stderr, once per shape. */
  const cJSON *oog = cJSON_GetObjectItem (cJSON_GetObjectItem (summary, "provenance"),
                                          "out_of_grid");
  for (const cJSON *w = oog != NULL ? oog->child : NULL; w != NULL; w = w->next)
    if (cJSON_IsString (w))
      fprintf (stderr, "afdsim: warning: %s\n", w->valuestring);
  if (exp->json != NULL && !afd_json_write_file (exp->json, summary, error))
    return 1;
  if (!quiet)
    {
      print_table (exp, summary, traces);
      if (exp->json != NULL)
        printf ("summary: %s\n", exp->json);
    }
  return 0;
}

/* Flags shared by run and compare. */
typedef struct {
  AfdRunOptions run; /* the strategy and workload flags (sim/experiment.h) */
  char *strategy, *costs, *json, *trace;
  char *iterations, *fault_detection; /* sim/fault.h */
  char *max_memory;                   /* sim/limits.h */
  char **faults;                      /* --fault, repeated */
  char **strategies;
  gboolean quiet;
} Flags;

static void
flags_clear (Flags *f)
{
  char **all[] = { &f->strategy,   &f->costs,           &f->json,      &f->trace,
                   &f->iterations, &f->fault_detection, &f->max_memory };
  afd_run_options_clear (&f->run);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_free);
  g_clear_pointer (&f->strategies, g_strfreev);
  g_clear_pointer (&f->faults, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Flags, flags_clear)

/* Applies the workload flags to @exp. */
static gboolean
apply_flags (AfdExperiment *exp, const Flags *f, GError **error)
{
  gint64 v;
  if (!afd_run_options_apply (&f->run, exp, error))
    return FALSE;
  if (f->costs != NULL)
    g_free (exp->costs), exp->costs = g_strdup (f->costs);
  if (f->json != NULL)
    g_free (exp->json), exp->json = g_strdup (f->json);
  if (f->trace != NULL)
    g_free (exp->trace), exp->trace = g_strdup (f->trace);
  if (f->iterations != NULL)
    {
      if (!afd_cli_parse_int ("--iterations", f->iterations, 1, AFD_FAULT_MAX_ITERATIONS, &v,
                              error))
        return FALSE;
      exp->iterations = (guint) v;
    }
  if (f->max_memory != NULL)
    {
      guint64 bytes = 0;
      if (!afd_cli_parse_bytes ("--max-memory", f->max_memory, 1 << 20, G_GUINT64_CONSTANT (1) << 50,
                                &bytes, error))
        return FALSE;
      exp->sim_memory_limit_bytes = (double) bytes;
    }
  if (f->fault_detection != NULL
      && !afd_cli_parse_double ("--fault-detection", f->fault_detection, 0, 3600,
                                &exp->fault_detection_s, error))
    return FALSE;
  for (guint i = 0; f->faults != NULL && f->faults[i] != NULL; i++)
    {
      AfdFault *fault = afd_fault_parse (f->faults[i], AFD_ERROR_USAGE, error);
      if (fault == NULL)
        {
          g_prefix_error (error, "--fault: ");
          return FALSE;
        }
      g_ptr_array_add (exp->faults, fault);
    }
  return TRUE;
}

/* The strategy options given as flags. */
static cJSON *
flag_options (const Flags *f, GError **error)
{
  return afd_run_options_strategy (&f->run, " (e.g. --set dispatch=two-stage)", error);
}

static GOptionEntry *
entries (Flags *f, gboolean compare)
{
  const GOptionEntry strategy = {
    "strategy", 0, 0, compare ? G_OPTION_ARG_STRING_ARRAY : G_OPTION_ARG_STRING,
    compare ? (gpointer) &f->strategies : (gpointer) &f->strategy,
    compare ? "a strategy to compare (repeat)" : "masep, tppp, ep or afd", "S"
  };
  const GOptionEntry tail[] = {
    { "network", 0, 0, G_OPTION_ARG_STRING, &f->run.network, "analytic (default) or flow", "N" },
    { "costs", 0, 0, G_OPTION_ARG_STRING, &f->costs, "cost model (default analytic)", "C" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &f->json, "write the summary JSON here", "FILE" },
    { "trace", 0, 0, G_OPTION_ARG_STRING, &f->trace, "write a Chrome trace here", "FILE" },
    { "fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->faults,
      "inject a fault: gpu:G, link:A/B[:F], link:V[:F], straggler:G:X, each [@iterN | "
      "@t=TIME, e.g. @t=12.5ms] (repeat)",
      "SPEC" },
    { "iterations", 0, 0, G_OPTION_ARG_STRING, &f->iterations,
      "iterations to simulate with faults (default: the last fault's iteration + 3)", "N" },
    { "fault-detection", 0, 0, G_OPTION_ARG_STRING, &f->fault_detection,
      "seconds to detect a failure (default 1e-3)", "S" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &f->max_memory,
      "refuse runs estimated to need more simulator memory (default 16G)", "BYTES" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &f->quiet, "print nothing", NULL },
    { NULL },
  };
  return afd_run_options_entries (
      &f->run, &strategy, "any strategy option, e.g. dispatch=two-stage, rebalance=true (repeat)",
      tail);
}

int
afd_cmd_run (int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { 0 };
  g_autofree GOptionEntry *e = entries (&f, FALSE);
  static const char summary[]
      = "Replays one decode (or prefill) iteration of a deployment strategy. With no flags and "
        "no file, runs the seeds' headline experiment (experiments/seeds-headline).";
  if (!afd_cli_parse_command ("run", "[EXPERIMENT.json]", summary, e, &argc, &argv, 1, error))
    return 2;
  g_autoptr (AfdExperiment) exp = NULL;
  if (argc >= 2 || f.strategy == NULL)
    {
      exp = afd_experiment_load (argc >= 2 ? argv[1] : "seeds-headline", error);
      if (exp == NULL)
        return 1;
      if (f.strategy != NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "run: --strategy and an experiment file are exclusive");
          return 2;
        }
    }
  else
    {
      exp = afd_experiment_new ();
      cJSON *o = flag_options (&f, error);
      if (o == NULL)
        return 2;
      afd_experiment_add_run (exp, NULL, f.strategy, o);
    }
  if (!apply_flags (exp, &f, error))
    return 2;
  return execute (exp, f.quiet, error);
}

int
afd_cmd_compare (int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { 0 };
  g_autofree GOptionEntry *e = entries (&f, TRUE);
  static const char summary[]
      = "Runs several strategies (--strategy, repeated; default masep, tppp, ep) on one "
        "cluster, model and workload and prints them side by side. Strategy flags apply to "
        "every strategy, so give only those all of them accept.";
  if (!afd_cli_parse_command ("compare", "", summary, e, &argc, &argv, 0, error))
    return 2;
  g_autoptr (AfdExperiment) exp = afd_experiment_new ();
  const char *defaults[] = { "masep", "tppp", "ep", NULL };
  const char *const *names = f.strategies != NULL ? (const char *const *) f.strategies : defaults;
  for (guint i = 0; names[i] != NULL; i++)
    {
      cJSON *o = flag_options (&f, error);
      if (o == NULL)
        return 2;
      afd_experiment_add_run (exp, NULL, names[i], o);
    }
  if (!apply_flags (exp, &f, error))
    return 2;
  return execute (exp, f.quiet, error);
}

const AfdCommand afd_command_run = {
  "run", "replay one iteration of a strategy (flags or EXPERIMENT.json; none: the seeds' "
         "headline experiment)",
  afd_cmd_run
};

const AfdCommand afd_command_compare = { "compare",
                                         "run several strategies side by side on one workload",
                                         afd_cmd_compare };
