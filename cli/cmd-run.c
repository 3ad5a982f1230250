/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `afdsim run` (one experiment: flags or EXPERIMENT.json; with neither, the seeds'
 * headline experiment) and `afdsim compare` (several strategies side by side).
 *
 * The commands parse flags into an AfdExperiment (sim/experiment.h), run it with the registry
 * lookups of their command context (cli/cli.h), print a table on stdout
 * and write the summary JSON atomically when asked. Errors go back to main() as GErrors.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/run-options.h"
#include "sim/fault.h"
#include "sim/json.h"

/* Reads a number from a run's summary. */
static double
num (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsNumber (v) ? v->valuedouble : 0;
}

/* A string of a run's summary, or "-". */
static const char *
str (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsString (v) ? v->valuestring : "-";
}

/* "1 GPU", "16 GPUs": a count with its unit. */
static char *
count_of (double n, const char *unit)
{
  return g_strdup_printf ("%.0f %s%s", n, unit, n == 1 ? "" : "s");
}

/* Prints the comparison table (and the claims beside our predictions). Every number carries
 * its unit in the column head; per-GPU figures are over the GPUs the placement uses. */
static void
print_table (const AfdExperiment *exp, const cJSON *summary, GPtrArray *traces)
{
  const cJSON *wl = cJSON_GetObjectItem (summary, "workload");
  gboolean prefill = strcmp (str (wl, "phase"), "prefill") == 0;
  g_autofree char *gpus = count_of (num (wl, "gpus"), "GPU");
  printf ("%s on %s (%s), %s, batch %g sequences, context %g tokens, routing %s\n",
          str (wl, "model"), str (wl, "cluster"), gpus, str (wl, "phase"), num (wl, "batch"),
          num (wl, "context"), exp->routing);
  printf ("%-14s %9s %10s %13s %10s %7s %6s %6s %8s  %s\n", "run", "GPUs used",
          prefill ? "TTFT ms" : "TPOT ms", prefill ? "prefill tok/s" : "tokens/s", "tok/s/GPU",
          "util %", "HFU %", "MFU %", "max GB", "bound by (its largest critical-path op)");
  const cJSON *runs = cJSON_GetObjectItem (summary, "runs");
  const cJSON *r;
  gboolean any_claims = FALSE;
  double ridge = 0;
  cJSON_ArrayForEach (r, runs)
    {
      const cJSON *cp = cJSON_GetObjectItem (r, "critical_path");
      const cJSON *ops = cJSON_GetObjectItem (cp, "ops");
      const char *top = "-";
      double best = -1;
      const cJSON *o;
      /* The largest op of the class that bounds the step. */
      cJSON_ArrayForEach (o, ops)
        if (num (o, "seconds") > best && strcmp (str (o, "bound"), str (cp, "bound_by")) == 0)
          {
            best = num (o, "seconds");
            top = str (o, "name");
          }
      ridge = num (cp, "ridge_point_flop_per_byte");
      g_autofree char *used
          = g_strdup_printf ("%.0f/%.0f", num (r, "gpus_used"), num (r, "gpus_in_cluster"));
      printf ("%-14s %9s %10.3f %13.0f %10.0f %7.1f %6.1f %6.1f %8.1f  %s (%s)\n",
              str (r, "label"), used,
              (prefill ? num (r, "ttft_s") : num (r, "tpot_s")) * 1e3, num (r, "tokens_per_s"),
              num (r, "tokens_per_s_per_gpu"), num (r, "utilisation") * 100, num (r, "hfu") * 100,
              num (r, "mfu") * 100, num (r, "max_memory_bytes") / 1e9, str (cp, "bound_by"),
              top);
      any_claims = any_claims || cJSON_GetObjectItem (r, "claims") != NULL;
    }
  printf ("GPUs used: of the cluster's; tok/s/GPU, util, HFU and MFU are per GPU used. Bound by:\n"
          "what holds the critical path longest in roofline terms: memory (ops below the GPU's\n"
          "ridge point, %.0f FLOP/byte), compute (above it) or communication (collectives);\n"
          "see docs/user/metrics.md.\n",
          ridge);
  printf ("Placements (defaults derived from the cluster included):\n");
  cJSON_ArrayForEach (r, runs)
    printf ("  %s: %s\n", str (r, "label"), str (r, "strategy_description"));
  if (any_claims)
    {
      const char *source = NULL;
      cJSON_ArrayForEach (r, runs)
        {
          const cJSON *c = cJSON_GetObjectItem (r, "claims");
          if (c != NULL && cJSON_IsString (cJSON_GetObjectItem (c, "source")))
            source = cJSON_GetObjectItem (c, "source")->valuestring;
        }
      printf ("\nClaimed by the paper%s%s\n(claims, not targets: afdsim models physics and is "
              "never tuned to them):\n",
              source != NULL ? ": " : "", source != NULL ? source : "");
      printf ("%-14s %9s %10s %13s %10s %7s\n", "run", "", "TPOT ms", "tokens/s", "", "util %");
      cJSON_ArrayForEach (r, runs)
        {
          const cJSON *c = cJSON_GetObjectItem (r, "claims");
          if (c == NULL)
            continue;
          printf ("%-14s %9s %10.2f %13.0f %10s %7.1f\n", str (r, "label"), "",
                  num (c, "tpot_s") * 1e3, num (c, "tokens_per_s"), "",
                  num (c, "utilisation") * 100);
        }
      g_autofree char *dir = exp->path != NULL ? g_path_get_dirname (exp->path) : NULL;
      g_autofree char *readme = dir != NULL ? g_build_filename (dir, "README.md", NULL) : NULL;
      if (readme != NULL && g_file_test (readme, G_FILE_TEST_IS_REGULAR))
        printf ("Why the claims and the physics differ: %s\n", readme);
    }
  cJSON_ArrayForEach (r, runs)
    {
      const cJSON *its = cJSON_GetObjectItem (r, "iterations"), *it;
      if (its == NULL)
        continue;
      printf ("\n%s with faults (detection %g s):\n%5s %-10s %12s %14s  %s\n",
              str (r, "label"), num (r, "fault_detection_s"),
              "iter", "state", "TPOT ms", "tokens/s", "note");
      cJSON_ArrayForEach (it, its)
        {
          const cJSON *tp = cJSON_GetObjectItem (it, "tpot_s");
          g_autofree char *tpot = cJSON_IsNumber (tp)
                                      ? g_strdup_printf ("%.3f", tp->valuedouble * 1e3)
                                      : g_strdup ("-");
          printf ("%5.0f %-10s %12s %14.0f  %s\n", num (it, "index"),
                  str (it, "state"), tpot, num (it, "tokens_per_s"),
                  str (it, "note"));
        }
    }
  for (guint i = 0; traces != NULL && i < traces->len; i++)
    printf ("trace: %s\n", (char *) traces->pdata[i]);
}

/* Prints one line per run with what its step costs (docs/models/cost.md): "-" where the GPU
 * file gives no price or power. */
static void
print_economics (const cJSON *summary)
{
  const cJSON *wl = cJSON_GetObjectItem (summary, "workload");
  if (num (wl, "mtp_draft_tokens") > 0)
    printf ("MTP: %g draft tokens per step, %g accepted per step (TPOT = step time / %g)\n",
            num (wl, "mtp_draft_tokens"), num (wl, "accept_tokens"), num (wl, "accept_tokens"));
  printf ("%-14s %9s %10s %10s %10s %10s\n", "run", "GPUs used", "$/GPU-h", "$/h", "$/Mtok",
          "J/token");
  const cJSON *r;
  cJSON_ArrayForEach (r, cJSON_GetObjectItem (summary, "runs"))
    {
      const cJSON *e = cJSON_GetObjectItem (r, "economics");
      const char *keys[] = { "price_usd_per_gpu_hour", "usd_per_hour", "usd_per_million_tokens",
                             "joules_per_token" };
      const int digits[] = { 2, 2, 3, 3 };
      char cells[4][32];
      for (guint k = 0; k < 4; k++)
        {
          const cJSON *v = cJSON_GetObjectItem (e, keys[k]);
          if (cJSON_IsNumber (v))
            g_snprintf (cells[k], sizeof cells[k], "%.*f", digits[k], v->valuedouble);
          else
            g_strlcpy (cells[k], "-", sizeof cells[k]);
        }
      printf ("%-14s %9.0f %10s %10s %10s %10s\n", str (r, "label"),
              num (e, "gpus_used"), cells[0], cells[1], cells[2], cells[3]);
    }
}

/* Runs @exp, prints the table, writes the JSON. */
static int
execute (const AfdPlugins *plugins, AfdExperiment *exp, gboolean quiet, GError **error)
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
      print_economics (summary);
      if (exp->json != NULL)
        printf ("summary: %s\n", exp->json);
    }
  return 0;
}

/* Flags shared by run and compare. */
typedef struct {
  AfdRunOptions run; /* the strategy and workload flags (sim/experiment.h) */
  const AfdPlugins *plugins; /* (transfer none): the command context's registry lookups */
  char *strategy, *costs, *json, *trace;
  char *backend; /* run only: "sim" (--backend cuda goes to cli/cmd-validate.c first) */
  char *iterations, *fault_detection; /* sim/fault.h */
  char *max_memory;                   /* sim/limits.h */
  char **faults;                      /* --fault, repeated */
  char **strategies;
  char *strategy_help; /* --strategy's help: the registered names */
  gboolean quiet;
} Flags;

static void
flags_clear (Flags *f)
{
  char **all[] = { &f->strategy,   &f->costs,           &f->json,       &f->trace,
                   &f->iterations, &f->fault_detection, &f->max_memory, &f->strategy_help,
                   &f->backend };
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

static const char set_hint[] = " (e.g. --set dispatch=two-stage)";

static GOptionEntry *
entries (Flags *f, gboolean compare)
{
  const GOptionEntry strategy = {
    "strategy", 0, 0, compare ? G_OPTION_ARG_STRING_ARRAY : G_OPTION_ARG_STRING,
    compare ? (gpointer) &f->strategies : (gpointer) &f->strategy,
    compare ? "a strategy to compare (repeat)"
            : (f->strategy_help = afd_cli_strategy_names (f->plugins)),
    "S"
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
    /* run only (compare ends at the entry before): --backend cuda is taken by
     * cli/cmd-validate.c before this command runs, so its help lists it here. */
    { compare ? NULL : "backend", 0, 0, G_OPTION_ARG_STRING, &f->backend,
      "sim (default), or cuda: execute the graph on this host's GPUs (docs/validation.md)", "B" },
    { NULL },
  };
  return afd_run_options_entries (
      &f->run, f->plugins->strategy_list (), &strategy,
      "any strategy option, e.g. dispatch=two-stage, rebalance=true (repeat)", tail);
}

static int
afd_cmd_run (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { .plugins = cmd_ctx->plugins };
  g_autofree GOptionEntry *e = entries (&f, FALSE);
  static const char summary[]
      = "Replays one decode (or prefill) iteration of a deployment strategy. With no --strategy "
        "and no file, runs the seeds' headline experiment (experiments/seeds-headline); flags "
        "that choose a cluster, model or placement then need --strategy.";
  if (!afd_cli_parse_command (&afd_command_run, summary, e, &argc, &argv, error))
    return 2;
  if (f.backend != NULL && strcmp (f.backend, "sim") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--backend: '%s' is not sim or cuda",
                   f.backend);
      return 2;
    }
  g_autoptr (AfdExperiment) exp = NULL;
  if (f.strategy == NULL)
    {
      /* The headline experiment is fixed placements on its own cluster and model: flags
       * that choose another cluster, model or placement need a strategy of their own. An
       * experiment file's runs carry their own placements. */
      const AfdRunOptions *o = &f.run;
      const char *flag = o->cluster != NULL ? "cluster" : o->model != NULL ? "model" : NULL;
      if (argc >= 2 && !afd_run_options_refuse_with_file (o, "run", argv[1], error))
        return 2;
      if (argc < 2 && flag == NULL)
        flag = afd_run_options_first_strategy_flag (o);
      if (argc < 2 && flag != NULL)
        {
          g_autofree char *names = afd_cli_strategy_names (cmd_ctx->plugins);
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "run: --%s needs --strategy S (%s), or an EXPERIMENT.json; 'afdsim "
                       "compare --%s ...' runs several strategies side by side",
                       flag, names, flag);
          return 2;
        }
    }
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
      const char *names[] = { f.strategy, NULL };
      if (!afd_run_options_add_runs (&f.run, exp, cmd_ctx->plugins, names, set_hint, error))
        return 2;
    }
  if (!apply_flags (exp, &f, error))
    return 2;
  int status = execute (cmd_ctx->plugins, exp, f.quiet, error);
  if (argc < 2 && f.strategy == NULL && error != NULL && *error != NULL && exp->path != NULL
      && g_str_has_prefix ((*error)->message, exp->path))
    {
      /* The user named no file: say "the default experiment", not its path. */
      const char *rest = (*error)->message + strlen (exp->path);
      char *msg = g_strdup_printf ("the default experiment (seeds-headline)%s", rest);
      g_free ((*error)->message);
      (*error)->message = msg;
    }
  return status;
}

static int
afd_cmd_compare (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { .plugins = cmd_ctx->plugins };
  g_autofree GOptionEntry *e = entries (&f, TRUE);
  static const char summary[]
      = "Runs several strategies (--strategy, repeated; default masep, tppp, ep) on one "
        "cluster, model and workload and prints them side by side. A strategy flag applies to "
        "the strategies that declare it (afdsim list strategies --params) and is an error "
        "when none does.";
  if (!afd_cli_parse_command (&afd_command_compare, summary, e, &argc, &argv, error))
    return 2;
  g_autoptr (AfdExperiment) exp = afd_experiment_new ();
  /* Without --strategy: the classes that ask to be compared by default. */
  g_autoptr (GPtrArray) defaults = g_ptr_array_new ();
  const AfdStrategyClass *const *list = cmd_ctx->plugins->strategy_list ();
  for (guint i = 0; list[i] != NULL; i++)
    if (list[i]->compare_by_default)
      g_ptr_array_add (defaults, (gpointer) list[i]->name);
  g_ptr_array_add (defaults, NULL);
  const char *const *names = f.strategies != NULL ? (const char *const *) f.strategies
                                                  : (const char *const *) defaults->pdata;
  if (!afd_run_options_add_runs (&f.run, exp, cmd_ctx->plugins, names, set_hint, error))
    return 2;
  if (!apply_flags (exp, &f, error))
    return 2;
  return execute (cmd_ctx->plugins, exp, f.quiet, error);
}

const AfdCommand afd_command_run = {
  "run", "replay one iteration of a strategy (flags or EXPERIMENT.json; none: the seeds' "
         "headline experiment)",
  afd_cmd_run, "[EXPERIMENT.json]", 1
};

const AfdCommand afd_command_compare = {
  "compare", "run several strategies side by side on one workload", afd_cmd_compare, "", 0
};
