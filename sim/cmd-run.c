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
  char *cluster, *model, *strategy, *attn, *moe, *tp, *pp, *dp, *ep, *mb, *batch, *context,
      *phase, *routing, *seed, *network, *costs, *json, *trace, *attn_nodes, *ffn_nodes;
  char *iterations, *fault_detection; /* sim/fault.h */
  char *max_memory;                   /* sim/limits.h */
  char **faults;                      /* --fault, repeated */
  char **strategies;
  char **sets;
  gboolean quiet;
} Flags;

static void
flags_clear (Flags *f)
{
  char **all[] = { &f->cluster, &f->model,   &f->strategy, &f->attn,       &f->moe,
                   &f->tp,      &f->pp,      &f->dp,       &f->ep,         &f->mb,
                   &f->batch,   &f->context, &f->phase,    &f->routing,    &f->seed,
                   &f->network, &f->costs,   &f->json,     &f->trace,      &f->attn_nodes,
                   &f->ffn_nodes, &f->iterations, &f->fault_detection,
                   &f->max_memory };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_free);
  g_clear_pointer (&f->strategies, g_strfreev);
  g_clear_pointer (&f->sets, g_strfreev);
  g_clear_pointer (&f->faults, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Flags, flags_clear)

/* Adds an integer flag to @options under @key. */
static gboolean
opt_int (cJSON *options, const char *flag, const char *text, const char *key, GError **error)
{
  gint64 v = 0;
  if (text == NULL)
    return TRUE;
  if (!afd_cli_parse_int (flag, text, 1, 1 << 20, &v, error))
    return FALSE;
  cJSON_AddNumberToObject (options, key, (double) v);
  return TRUE;
}

/* Applies the workload flags to @exp. */
static gboolean
apply_flags (AfdExperiment *exp, const Flags *f, GError **error)
{
  gint64 v;
  if (f->cluster != NULL)
    g_free (exp->cluster), exp->cluster = g_strdup (f->cluster);
  if (f->model != NULL)
    g_free (exp->model), exp->model = g_strdup (f->model);
  if (f->routing != NULL)
    g_free (exp->routing), exp->routing = g_strdup (f->routing);
  if (f->costs != NULL)
    g_free (exp->costs), exp->costs = g_strdup (f->costs);
  if (f->json != NULL)
    g_free (exp->json), exp->json = g_strdup (f->json);
  if (f->trace != NULL)
    g_free (exp->trace), exp->trace = g_strdup (f->trace);
  if (f->network != NULL)
    {
      if (strcmp (f->network, "analytic") != 0 && strcmp (f->network, "flow") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--network: '%s' is not analytic or flow", f->network);
          return FALSE;
        }
      g_free (exp->network), exp->network = g_strdup (f->network);
    }
  if (f->phase != NULL)
    {
      if (strcmp (f->phase, "decode") != 0 && strcmp (f->phase, "prefill") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--phase: '%s' is not decode or prefill", f->phase);
          return FALSE;
        }
      exp->prefill = strcmp (f->phase, "prefill") == 0;
    }
  if (f->batch != NULL)
    {
      if (!afd_cli_parse_int ("--batch", f->batch, 1, G_MAXINT32, &v, error))
        return FALSE;
      exp->batch = (guint64) v;
    }
  if (f->context != NULL)
    {
      if (!afd_cli_parse_int ("--context", f->context, 0, G_MAXINT32, &v, error))
        return FALSE;
      exp->context_tokens = (guint64) v;
    }
  if (f->seed != NULL)
    {
      if (!afd_cli_parse_int ("--seed", f->seed, 0, G_MAXINT64, &v, error))
        return FALSE;
      exp->seed = (guint64) v;
    }
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
  g_autoptr (cJSON) o = cJSON_CreateObject ();
  if (!opt_int (o, "--attn-gpus", f->attn, "attn_gpus", error)
      || !opt_int (o, "--moe-gpus", f->moe, "moe_gpus", error)
      || !opt_int (o, "--tp", f->tp, "tp", error) || !opt_int (o, "--pp", f->pp, "pp", error)
      || !opt_int (o, "--dp", f->dp, "dp", error) || !opt_int (o, "--ep", f->ep, "ep", error)
      || !opt_int (o, "--micro-batches", f->mb, "micro_batches", error)
      || !opt_int (o, "--attn-nodes", f->attn_nodes, "attn_nodes", error)
      || !opt_int (o, "--ffn-nodes", f->ffn_nodes, "ffn_nodes", error))
    return NULL;
  /* --set KEY=VALUE: VALUE is read as JSON when it parses (numbers, true, false), else as a
   * string; the strategy validates it like any option. */
  for (guint i = 0; f->sets != NULL && f->sets[i] != NULL; i++)
    {
      const char *eq = strchr (f->sets[i], '=');
      if (eq == NULL || eq == f->sets[i])
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--set: '%s' is not KEY=VALUE (e.g. --set dispatch=two-stage)", f->sets[i]);
          return NULL;
        }
      g_autofree char *key = g_strndup (f->sets[i], (gsize) (eq - f->sets[i]));
      cJSON *v = cJSON_Parse (eq + 1);
      if (v == NULL || cJSON_IsObject (v) || cJSON_IsArray (v) || cJSON_IsNull (v))
        {
          cJSON_Delete (v);
          v = cJSON_CreateString (eq + 1);
        }
      if (cJSON_GetObjectItemCaseSensitive (o, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive (o, key, v);
      else
        cJSON_AddItemToObject (o, key, v);
    }
  return g_steal_pointer (&o);
}

static GOptionEntry *
entries (Flags *f, gboolean compare)
{
  GOptionEntry e[] = {
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &f->cluster, "cluster name or file", "C" },
    { "model", 0, 0, G_OPTION_ARG_STRING, &f->model, "model name or file", "M" },
    { "strategy", 0, 0, compare ? G_OPTION_ARG_STRING_ARRAY : G_OPTION_ARG_STRING,
      compare ? (gpointer) &f->strategies : (gpointer) &f->strategy,
      compare ? "a strategy to compare (repeat)" : "masep, tppp, ep or afd", "S" },
    { "attn-gpus", 0, 0, G_OPTION_ARG_STRING, &f->attn, "masep: attention GPUs", "K" },
    { "moe-gpus", 0, 0, G_OPTION_ARG_STRING, &f->moe, "masep: MoE GPUs", "M" },
    { "tp", 0, 0, G_OPTION_ARG_STRING, &f->tp, "tppp: tensor-parallel size", "N" },
    { "pp", 0, 0, G_OPTION_ARG_STRING, &f->pp, "tppp: pipeline stages", "N" },
    { "dp", 0, 0, G_OPTION_ARG_STRING, &f->dp, "tppp: data-parallel replicas", "N" },
    { "ep", 0, 0, G_OPTION_ARG_STRING, &f->ep, "ep: expert-parallel GPUs", "N" },
    { "micro-batches", 0, 0, G_OPTION_ARG_STRING, &f->mb, "micro-batches", "N" },
    { "attn-nodes", 0, 0, G_OPTION_ARG_STRING, &f->attn_nodes, "afd: attention nodes", "N" },
    { "ffn-nodes", 0, 0, G_OPTION_ARG_STRING, &f->ffn_nodes, "afd: FFN nodes", "N" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->sets,
      "any strategy option, e.g. dispatch=two-stage, rebalance=true (repeat)", "KEY=VALUE" },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &f->batch, "sequences (default 1024)", "B" },
    { "context", 0, 0, G_OPTION_ARG_STRING, &f->context, "context tokens (default 2048)", "L" },
    { "phase", 0, 0, G_OPTION_ARG_STRING, &f->phase, "decode (default) or prefill", "P" },
    { "routing", 0, 0, G_OPTION_ARG_STRING, &f->routing, "uniform (default), zipf:S, …", "R" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &f->seed, "seed (default 1)", "N" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &f->network, "analytic (default) or flow", "N" },
    { "costs", 0, 0, G_OPTION_ARG_STRING, &f->costs, "cost model (default analytic)", "C" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &f->json, "write the summary JSON here", "FILE" },
    { "trace", 0, 0, G_OPTION_ARG_STRING, &f->trace, "write a Chrome trace here", "FILE" },
    { "fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->faults,
      "inject a fault: gpu:G, link:A/B[:F], link:V[:F], straggler:G:X, each [@iterN] (repeat)",
      "SPEC" },
    { "iterations", 0, 0, G_OPTION_ARG_STRING, &f->iterations,
      "iterations to simulate with faults (default: last fault's + 3)", "N" },
    { "fault-detection", 0, 0, G_OPTION_ARG_STRING, &f->fault_detection,
      "seconds to detect a failure (default 1e-3)", "S" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &f->max_memory,
      "refuse runs estimated to need more simulator memory (default 16G)", "BYTES" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &f->quiet, "print nothing", NULL },
    { NULL },
  };
  return g_memdup2 (e, sizeof e);
}

int
afd_cmd_run (int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { 0 };
  g_autofree GOptionEntry *e = entries (&f, FALSE);
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[EXPERIMENT.json]");
  g_option_context_set_summary (
      ctx, "Replays one decode (or prefill) iteration of a deployment strategy. With no flags and "
           "no file, runs the seeds' headline experiment (experiments/seeds-headline).");
  g_option_context_add_main_entries (ctx, e, NULL);
  if (!afd_cli_parse_options (ctx, "run", &argc, &argv, 1, error))
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
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_option_context_set_summary (
      ctx, "Runs several strategies (--strategy, repeated; default masep, tppp, ep) on one "
           "cluster, model and workload and prints them side by side. Strategy flags apply to "
           "every strategy, so give only those all of them accept.");
  g_option_context_add_main_entries (ctx, e, NULL);
  if (!afd_cli_parse_options (ctx, "compare", &argc, &argv, 0, error))
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
