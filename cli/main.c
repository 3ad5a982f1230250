/* SPDX-License-Identifier: MIT */
/*
 * main.c - the afdsim program: the command table and the composition root.
 *
 * The composition root: it wires the registries of models/ and backends/ into the context
 * every command receives (cli/cli.h). It is also the only place that prints an error and picks the
 * exit status (0 success, 1 failure, 2 command-line error).
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "backends/registry.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "models/registry.h"
#include "models/roofline.h"
#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/provenance.h"

/* What `afdsim` with no arguments runs: the seeds' headline experiment (run with no flags). */
#define DEFAULT_COMMAND "run"

static int cmd_help (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error);
static int cmd_list (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error);
static int cmd_version (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error);

static const AfdCommand command_help = { "help", "show the commands, or one command's flags",
                                         cmd_help, "[COMMAND]", 2 };
static const AfdCommand command_list = {
  "list", "list what is shipped: models, gpus, clusters, experiments, strategies", cmd_list,
  "[models|gpus|clusters|experiments|strategies]", 1
};
static const AfdCommand command_version = { "version", "print version and built-in features",
                                            cmd_version, NULL, 0 };

/* The command table, in the order `afdsim help` shows it. */
static const AfdCommand *const commands[] = {
  &afd_command_run_backend, /* cli/cmd-run.c's run, or --backend cuda */
  &afd_command_compare,
  &afd_command_bench_strategies,
  &afd_command_sweep,
  &afd_command_serve,
  &afd_command_demo,
  &afd_command_bench_engine,
  &afd_command_collective,
  &afd_command_cost,
  &afd_command_bench_network,
  &afd_command_gen_cluster,
  &command_list,
  &afd_command_show_model,
  &afd_command_roofline,
  &afd_command_calibrate,
  &afd_command_fit,
  &afd_command_validate,
  &command_help,
  &command_version,
  NULL,
};

/* Prints the version line and the built-in optional features. */
static int
cmd_version (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  if (!afd_cli_parse_command (&command_version, command_version.summary, NULL, &argc, &argv,
                              error))
    return 2;
  const char *features = AFD_FEATURES;
  printf ("afdsim %s (git %s)\nfeatures: %s\n", PACKAGE_VERSION, AFD_GIT_REVISION,
          features[0] ? features : "none");
  return 0;
}

/* Prints the command table, or runs "CMD --help". */
static int
cmd_help (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  if (argc >= 2 && argv[1][0] != '-')
    {
      int words = 0;
      const AfdCommand *cmd = afd_cli_find (commands, argc - 1, argv + 1, &words, error);
      if (cmd == NULL)
        return 2;
      char *sub_argv[] = { (char *) cmd->name, (char *) "--help", NULL };
      return cmd->run (cmd_ctx, 2, sub_argv, error);
    }
  printf ("Usage: afdsim [COMMAND] [OPTIONS]\n\n"
          "Simulates attention/MoE placement on GPU clusters. With no command, runs '%s'\n"
          "(options without a command are its options: 'afdsim -q' is 'afdsim %s -q').\n\n"
          "Commands:\n",
          DEFAULT_COMMAND, DEFAULT_COMMAND);
  for (guint i = 0; commands[i] != NULL; i++)
    printf ("  %-18s %s\n", commands[i]->name, commands[i]->summary);
  printf ("\nRun 'afdsim COMMAND --help' for a command's flags; 'afdsim --version' for the "
          "version.\nDocumentation: docs/README.md, man afdsim.\n");
  return 0;
}

/* One kind of shipped data for `afdsim list`. */
typedef struct {
  const char *what;
  const char *kind;
} ListKind;

static const ListKind list_kinds[] = {
  { "models", "models/llm" },
  { "gpus", "topologies/gpus" },
  { "clusters", "topologies/clusters" },
  { "experiments", "experiments" },
};

/* Appends the values a search over @klass tries on @cluster, parameter by parameter, and the
 * size of its search space (afd_strategy_search_space). */
static void
append_search_on (GString *out, const AfdStrategyClass *klass, const AfdCluster *cluster,
                  const char *name)
{
  guint g = afd_cluster_gpu_count (cluster), per_node = afd_cluster_gpus_per_node (cluster);
  g_string_append_printf (out, "  on %s (%u GPUs, %u per node):\n", name, g, per_node);
  for (const AfdStrategyParam *p = klass->params; p->key != NULL; p++)
    {
      if (p->search == AFD_STRATEGY_SEARCH_DEFAULT)
        continue;
      g_autoptr (GPtrArray) values = afd_strategy_search_values (p, g, per_node);
      g_string_append_printf (out, "    %s:", p->key);
      for (guint i = 0; i < values->len; i++)
        {
          g_autofree char *v = cJSON_PrintUnformatted (values->pdata[i]);
          g_string_append_printf (out, "%s %s", i ? "," : "", v);
        }
      if (p->partner != NULL)
        g_string_append_printf (out, " (%s: the rest)", p->partner);
      g_string_append_c (out, '\n');
    }
  g_autoptr (GPtrArray) space = afd_strategy_search_space (klass, g, per_node);
  g_string_append_printf (out, "    search space: %u option sets\n", space->len);
}

/* Lists shipped data, all kinds or the one named. */
static int
cmd_list (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  gboolean params = FALSE;
  g_autofree char *cluster_name = NULL;
  const GOptionEntry entries[] = {
    { "params", 0, 0, G_OPTION_ARG_NONE, &params,
      "with strategies: every parameter (key, flag, type, range, default, search values)",
      NULL },
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &cluster_name,
      "with --params: the values a search tries on this cluster, and how many points", "C" },
    { NULL },
  };
  if (!afd_cli_parse_command (&command_list, command_list.summary, entries, &argc, &argv, error))
    return 2;
  g_autoptr (AfdCluster) cluster = NULL;
  if (cluster_name != NULL)
    {
      if (!params)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "list: --cluster needs --params");
          return 2;
        }
      cluster = afd_cluster_load (cluster_name, error);
      if (cluster == NULL)
        return 1;
    }
  const char *only = argc >= 2 ? argv[1] : NULL;
  gboolean found = FALSE;
  for (guint k = 0; k < G_N_ELEMENTS (list_kinds); k++)
    {
      if (only != NULL && strcmp (only, list_kinds[k].what) != 0)
        continue;
      found = TRUE;
      g_autoptr (GPtrArray) names = afd_data_list (list_kinds[k].kind, error);
      if (names == NULL)
        return 1;
      if (only == NULL)
        printf ("%s:\n", list_kinds[k].what);
      for (guint i = 0; i < names->len; i++)
        printf ("%s%s\n", only == NULL ? "  " : "", (char *) names->pdata[i]);
    }
  /* Strategies come from the registry, not the data folder. */
  if (only == NULL || strcmp (only, "strategies") == 0)
    {
      found = TRUE;
      const AfdStrategyClass *const *list = cmd_ctx->plugins->strategy_list ();
      if (only == NULL)
        printf ("strategies:\n");
      for (guint i = 0; list[i] != NULL; i++)
        {
          printf ("%s%-8s %s\n", only == NULL ? "  " : "", list[i]->name, list[i]->summary);
          g_autoptr (GString) text = g_string_new (NULL);
          if (params)
            afd_strategy_class_describe_params (list[i], text);
          if (cluster != NULL)
            append_search_on (text, list[i], cluster, cluster_name);
          fputs (text->str, stdout);
        }
    }
  if (!found)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "list: unknown kind '%s' (models, gpus, clusters, experiments, strategies)",
                   only);
      return 2;
    }
  return 0;
}

/* Creates a cost model from a spec "NAME" (e.g. "analytic") for run/compare. */
static AfdCostModel *
cost_model_from_spec (const char *spec, GError **error)
{
  /* "NAME:FILE" hands FILE to the backend as {"file": FILE} (--costs profile:H200). */
  const char *colon = strchr (spec, ':');
  g_autofree char *name = colon != NULL ? g_strndup (spec, (gsize) (colon - spec)) : g_strdup (spec);
  const AfdCostModelClass *klass = afd_cost_model_lookup (name, error);
  if (klass == NULL)
    return NULL;
  g_autoptr (cJSON) params = NULL;
  if (colon != NULL)
    {
      params = cJSON_CreateObject ();
      cJSON_AddStringToObject (params, "file", colon + 1);
    }
  return afd_cost_model_new (klass, params, error);
}

/* Registry lookups handed to every command in its context (docs/internals/architecture.md). */
static const AfdPlugins plugins = {
  .strategy_lookup = afd_strategy_lookup,
  .strategy_list = afd_strategy_list,
  .cost_model_new = cost_model_from_spec,
};

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  setlocale (LC_ALL, "");
  /* Numbers in output and input always use '.' whatever the user's locale. */
  setlocale (LC_NUMERIC, "C");
  afd_provenance_set_command_line (argc, argv);
  /* SIGINT/SIGTERM/SIGHUP remove temporary files before the process dies (sim/files.h). */
  afd_files_install_signal_cleanup ();
  const AfdCommandContext context = { .plugins = &plugins };

  if (argc >= 2 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0))
    return cmd_version (&context, argc - 1, argv + 1, &error);
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    return cmd_help (&context, 1, argv + 1, &error);

  int words = 1;
  const AfdCommand *cmd;
  char *default_argv[] = { (char *) DEFAULT_COMMAND, NULL };
  int sub_argc = argc - 1;
  char **sub_argv = argv + 1;
  g_autoptr (GPtrArray) with_default = NULL;
  if (argc < 2)
    {
      sub_argc = 1;
      sub_argv = default_argv;
    }
  else if (argv[1][0] == '-' && argv[1][1] != '\0')
    {
      /* Flags with no command ("afdsim -q", "afdsim --json s.json") are the default
       * command's flags, as "With no command, runs 'run'" in `afdsim help` says. */
      with_default = g_ptr_array_new ();
      g_ptr_array_add (with_default, (gpointer) DEFAULT_COMMAND);
      for (int i = 1; i < argc; i++)
        g_ptr_array_add (with_default, argv[i]);
      g_ptr_array_add (with_default, NULL);
      sub_argc = (int) with_default->len - 1;
      sub_argv = (char **) with_default->pdata;
    }
  cmd = afd_cli_find (commands, sub_argc, sub_argv, &words, &error);
  int status = 0;
  if (cmd != NULL)
    {
      /* Hand the command an argv whose [0] is its full name, as GOption expects. */
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_ptr_array_add (args, (gpointer) cmd->name);
      for (int i = words; i < sub_argc; i++)
        g_ptr_array_add (args, sub_argv[i]);
      g_ptr_array_add (args, NULL);
      status = cmd->run (&context, (int) args->len - 1, (char **) args->pdata, &error);
    }
  if (error != NULL)
    {
      fflush (stdout);
      fprintf (stderr, "afdsim: %s\n", error->message);
      return afd_error_exit_status (error);
    }
  return status;
}
