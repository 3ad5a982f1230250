/* SPDX-License-Identifier: MIT */
/*
 * cmd-sweep.c - `afdsim sweep`: runs a grid of configurations (docs/user/sweep.md).
 *
 * Axes come from flags (each flag takes a comma-separated list; integer flags also take
 * ranges A..B[/STEP]; --set KEY=LIST adds any key) and from an experiment file's "sweep"
 * block. Points run on --jobs threads and, under mpirun/srun, over MPI ranks; results go to
 * the JSONL file given by --output (resumed when it exists) and, with --csv, to a CSV. The
 * progress line is drawn on stderr only when stderr is a terminal.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/sweep.h"

/* A flag that adds an axis over one key. */
typedef struct {
  const char *flag; /* long name without "--" */
  const char *key;  /* assignment key */
  const char *help;
} AxisFlag;

/* The axis flags before the strategies' flags, in the order their axes are added (the first
 * varies slowest). */
static const AxisFlag head_flags[] = {
  { "cluster", "cluster", "clusters (names or files)" },
  { "model", "model", "models (names or files)" },
  { "strategy", "strategy", "strategies (default: the first of afdsim list strategies)" },
  { "phase", "phase", "decode, prefill" },
  { "network", "network", "analytic, flow" },
  { "costs", "costs", "cost models" },
  { "routing", "routing", "routing specs (uniform, zipf:S, ...): the skew axis" },
  { "nic-bandwidth", "cluster.generator.scale_out.nic_bandwidth_bytes_per_s",
    "NIC bandwidths, bytes/s per direction (generated clusters)" },
  { "ratio", "ratio", "ratios A:B of --total-gpus (or the cluster) for a strategy's GPU split" },
};

/* The axis flags after them. */
static const AxisFlag tail_flags[] = {
  { "batch", "batch", "batch sizes, sequences" },
  { "context", "context", "context lengths, tokens" },
  { "seed", "seed", "seeds" },
  { "mtp", "mtp", "MTP draft tokens per decode step (docs/models/mtp.md)" },
  { "accept", "accept", "mean accepted tokens per step, 1 <= L <= mtp+1" },
  { "price", "price", "GPU prices GPU=USD_PER_HOUR (docs/models/cost.md)" },
};

/* Every axis flag: the head, one per distinct strategy flag of the parameter tables
 * (sim/strategy.h; class then table order, help "NAME, NAME: help"), then the tail. The
 * strings of the strategy flags are the tables'; helps are appended to @helps. */
static GArray *
axis_flags_new (const AfdStrategyClass *const *classes, GPtrArray *helps)
{
  GArray *flags = g_array_new (FALSE, FALSE, sizeof (AxisFlag));
  g_array_append_vals (flags, head_flags, G_N_ELEMENTS (head_flags));
  for (guint c = 0; classes[c] != NULL; c++)
    for (const AfdStrategyParam *p = classes[c]->params; p != NULL && p->key != NULL; p++)
      {
        gboolean seen = p->flag == NULL;
        for (guint i = 0; i < flags->len && !seen; i++)
          seen = strcmp (g_array_index (flags, AxisFlag, i).flag, p->flag) == 0;
        if (seen)
          continue;
        g_autoptr (GString) help = g_string_new (NULL);
        for (guint d = c; classes[d] != NULL; d++)
          {
            const AfdStrategyParam *q = afd_strategy_param_find (classes[d], p->key);
            if (q != NULL)
              g_string_append_printf (help, "%s%s", help->len ? ", " : "", classes[d]->name);
          }
        g_string_append_printf (help, ": %s", p->help);
        if (p->search == AFD_STRATEGY_SEARCH_GPU_SPLIT && p->partner != NULL)
          g_string_append_printf (help, "; with --total-gpus, %s = total - %s", p->partner,
                                  p->key);
        char *text = g_string_free (g_steal_pointer (&help), FALSE);
        g_ptr_array_add (helps, text);
        AxisFlag f = { p->flag, p->key, text };
        g_array_append_val (flags, f);
      }
  g_array_append_vals (flags, tail_flags, G_N_ELEMENTS (tail_flags));
  return flags;
}

static int
afd_cmd_sweep (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_autoptr (GPtrArray) helps = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) flags = axis_flags_new (cmd_ctx->plugins->strategy_list (), helps);
  const AxisFlag *axis_flags = (const AxisFlag *) (gpointer) flags->data;
  g_autofree char **values = g_new0 (char *, flags->len);
  g_autofree char *output = NULL, *csv = NULL, *jobs_text = NULL, *total = NULL;
  g_auto (GStrv) sets = NULL;
  gboolean list = FALSE, quiet = FALSE;
  g_autoptr (GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  for (guint i = 0; i < flags->len; i++)
    {
      GOptionEntry e = { axis_flags[i].flag, 0, 0, G_OPTION_ARG_STRING, &values[i],
                         axis_flags[i].help, "LIST" };
      g_array_append_val (entries, e);
    }
  GOptionEntry more[] = {
    { "total-gpus", 0, 0, G_OPTION_ARG_STRING, &total,
      "GPUs a strategy's split shares (--ratio, or its first flag)", "N" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "axis over any key: experiment key, strategy option, cluster.PATH, gpu.PATH, model.PATH "
      "(repeat)", "KEY=LIST" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "JSONL results, resumed when it exists (default sweep.jsonl)", "FILE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "also write a CSV of all results", "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_STRING, &jobs_text, "worker threads (default: cores)", "N" },
    { "list", 0, 0, G_OPTION_ARG_NONE, &list, "print the points (JSONL) and run nothing", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "no summary line", NULL },
  };
  g_array_append_vals (entries, more, G_N_ELEMENTS (more));
  static const char summary[]
      = "Runs every point of a grid of configurations: the Cartesian product of the axes "
        "given by flags (comma-separated lists; integer flags also take ranges A..B[/STEP]) "
        "and by the \"sweep\" block of SWEEP.json. One JSONL line per point, in point "
        "order; re-running with the same --output resumes. Under mpirun/srun the points are "
        "spread over the ranks. See docs/user/sweep.md.";
  gboolean parsed = afd_cli_parse_command (&afd_command_sweep, summary,
                                           (GOptionEntry *) entries->data, &argc, &argv, error);
  for (guint i = 0; i < flags->len; i++)
    if (!parsed)
      g_free (values[i]);
  if (!parsed)
    return 2;

  g_autoptr (AfdSweep) sweep = afd_sweep_new (cmd_ctx->plugins->strategy_list ());
  int status = 2;
  gboolean ok = TRUE;
  if (argc >= 2 && !afd_sweep_load (sweep, argv[1], error))
    {
      ok = FALSE;
      status = 1;
    }
  for (guint i = 0; i < flags->len; i++)
    {
      if (ok && values[i] != NULL)
        {
          g_autofree char *flag = g_strdup_printf ("--%s", axis_flags[i].flag);
          ok = afd_sweep_add_axis (sweep, flag, axis_flags[i].key, values[i], error);
        }
      g_free (values[i]);
    }
  if (ok && total != NULL)
    ok = afd_sweep_set (sweep, "--total-gpus", "total_gpus", total, error);
  for (guint i = 0; ok && sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');
      if (eq == NULL || eq == sets[i])
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--set: '%s' is not KEY=LIST", sets[i]);
          return 2;
        }
      g_autofree char *key = g_strndup (sets[i], (gsize) (eq - sets[i]));
      g_autofree char *flag = g_strdup_printf ("--set %s", key);
      ok = afd_sweep_add_axis (sweep, flag, key, eq + 1, error);
    }
  if (!ok)
    return status;
  gint64 jobs = g_get_num_processors ();
  if (!afd_cli_parse_int ("--jobs", jobs_text, 1, 4096, &jobs, error))
    return 2;

  guint64 n = afd_sweep_point_count (sweep);
  if (list)
    {
      for (guint64 i = 0; i < n; i++)
        {
          g_autoptr (cJSON) config = afd_sweep_point_config (sweep, i);
          g_autofree char *id = afd_sweep_config_id (config);
          g_autofree char *text = cJSON_PrintUnformatted (config);
          printf ("{\"index\":%" G_GUINT64_FORMAT ",\"id\":\"%s\",\"config\":%s}\n", i, id, text);
        }
      return 0;
    }
  if (cmd_ctx->plugins == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "sweep: no strategy registry wired");
      return 1;
    }
  guint rank = 0, size = 1;
  if (!afd_sweep_mpi_init (&rank, &size, error))
    return 1;
  AfdSweepRunOptions opts = {
    .output = output != NULL ? output : "sweep.jsonl",
    .csv = csv,
    .jobs = (guint) jobs,
    .progress = rank == 0 && isatty (STDERR_FILENO),
    .rank = rank,
    .size = size,
  };
  if (!afd_sweep_check_files (sweep, argc >= 2 ? argv[1] : NULL, &opts, error))
    {
      afd_sweep_mpi_finalize ();
      return 2;
    }
  AfdSweepStats stats = { 0 };
  ok = afd_sweep_run (sweep, cmd_ctx->plugins, &opts, &stats, error);
  afd_sweep_mpi_finalize ();
  if (!ok && rank != 0)
    g_clear_error (error); /* rank 0 reports it, once */
  if (!ok)
    return 1;
  if (rank == 0 && !quiet)
    printf ("sweep: %" G_GUINT64_FORMAT " points (%" G_GUINT64_FORMAT " resumed, %" G_GUINT64_FORMAT
            " run: %" G_GUINT64_FORMAT " ok, %" G_GUINT64_FORMAT " infeasible, %" G_GUINT64_FORMAT
            " error) in %.2f s, %.1f points/s on %u thread%s x %u rank%s -> %s%s%s\n",
            stats.total, stats.resumed, stats.computed, stats.ok, stats.infeasible,
            stats.failed, stats.wall_s, stats.wall_s > 0 ? stats.computed / stats.wall_s : 0,
            opts.jobs, opts.jobs == 1 ? "" : "s", size, size == 1 ? "" : "s", opts.output,
            csv != NULL ? ", " : "", csv != NULL ? csv : "");
  if (rank == 0 && stats.failed > 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "sweep: %" G_GUINT64_FORMAT " point%s failed (status \"error\" in %s); first: %s",
                   stats.failed, stats.failed == 1 ? "" : "s", opts.output, stats.first_error);
      afd_sweep_stats_clear (&stats);
      return 1;
    }
  afd_sweep_stats_clear (&stats);
  return 0;
}

const AfdCommand afd_command_sweep = {
  "sweep", "run a grid of configurations (ratios, batches, bandwidths, ...): JSONL/CSV, "
           "parallel, MPI, resumable",
  afd_cmd_sweep, "[SWEEP.json]", 1
};
