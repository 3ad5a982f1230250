/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the afdsim command table: every subcommand is an AfdCommand (tmux's cmd_entry) in
 * the const table of cli/main.c, run with an explicit AfdCommandContext (tmux's
 * exec(cmd, item)) instead of file-level globals. Option parsing turns GOption's errors into
 * AFD_ERROR_USAGE (exit status 2); numbers go through sim/cli.h. This module prints nothing.
 */
#ifndef AFD_CLI_CLI_H
#define AFD_CLI_CLI_H

#include <glib.h>

#include "sim/cli.h"
#include "sim/strategy.h"

G_BEGIN_DECLS

/* What every command receives from the composition root (cli/main.c). */
typedef struct {
  const AfdPlugins *plugins; /* (transfer none): the registry lookups */
} AfdCommandContext;

/**
 * AfdCommandFunc:
 * @cmd_ctx: (transfer none): what the composition root hands every command
 * @argc: argument count; argv[0] is the command's full name ("bench engine")
 * @argv: (transfer none): arguments after the command name
 *
 * Returns: the exit status when no error is set (normally 0); with @error set the
 *   return value is ignored and main() derives the status from the error
 */
typedef int (*AfdCommandFunc) (const AfdCommandContext *cmd_ctx, int argc, char **argv,
                               GError **error);

typedef struct {
  const char *name;    /* one or two words: "run", "bench engine", "show model" */
  const char *summary; /* one line for `afdsim help` */
  AfdCommandFunc run;
  const char *usage;   /* (nullable) the usage line's positional part ("[EXPERIMENT.json]") */
  int max_args;        /* how many positional arguments the command takes */
} AfdCommand;

/* Returns: (transfer full): the registered strategies as "masep, tppp, ep or afd" (help
 * texts and messages). */
char *afd_cli_strategy_names (const AfdPlugins *plugins);

/**
 * afd_cli_find:
 * @commands: %NULL-terminated table
 * @argc: number of words in @argv (without the program name)
 * @out_words: (out): how many words of @argv the command name used (1 or 2)
 *
 * Finds the command whose name matches the longest prefix of @argv. A first word that only
 * starts multi-word commands ("bench") is an error listing them.
 *
 * Returns: (transfer none) (nullable): the command, or %NULL with AFD_ERROR_USAGE
 */
const AfdCommand *afd_cli_find (const AfdCommand *const *commands, int argc, char **argv,
                                int *out_words, GError **error);

/**
 * afd_cli_parse_options:
 * @context: a GOptionContext whose entries are strings, flags or string arrays
 * @max_positional: how many positional arguments the command takes
 *
 * Parses and removes options from @argc/@argv, turning GOption errors into AFD_ERROR_USAGE
 * messages prefixed with the command name. Leftover positional arguments beyond
 * @max_positional and anything starting with "-" are errors.
 *
 * Returns: %FALSE with @error set
 */
gboolean afd_cli_parse_options (GOptionContext *context, const char *command, int *argc,
                                char ***argv, int max_positional, GError **error);

/**
 * afd_cli_parse_command:
 * @command: the command's table entry: its name, usage (positional part) and how many
 *   positional arguments it takes
 * @summary: the --help summary
 * @entries: the command's options, %NULL-terminated
 *
 * Builds the command's GOptionContext and parses @argc/@argv with afd_cli_parse_options():
 * what every command does before reading its options.
 *
 * Returns: %FALSE with @error set (AFD_ERROR_USAGE)
 */
gboolean afd_cli_parse_command (const AfdCommand *command, const char *summary,
                                const GOptionEntry *entries, int *argc, char ***argv,
                                GError **error);

G_END_DECLS

#endif /* AFD_CLI_CLI_H */
