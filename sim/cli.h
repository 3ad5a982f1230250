/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the afdsim command table and strict command-line number parsing.
 *
 * Every subcommand is an AfdCommand in the const table of sim/main.c (tmux's cmd_entry).
 * Commands parse their flags with GOption, as strings, and convert numbers with the
 * afd_cli_parse_*() helpers, which reject negative or out-of-range values, NaN, infinities,
 * overflow and trailing junk with one message naming the flag. All command-line problems are
 * AFD_ERROR_USAGE (exit status 2). This module prints nothing.
 */
#ifndef AFD_SIM_CLI_H
#define AFD_SIM_CLI_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * AfdCommandFunc:
 * @argc: argument count; argv[0] is the command's full name ("bench engine")
 * @argv: (transfer none): arguments after the command name
 *
 * Returns: the exit status when no error is set (normally 0); with @error set the
 *   return value is ignored and main() derives the status from the error
 */
typedef int (*AfdCommandFunc) (int argc, char **argv, GError **error);

typedef struct {
  const char *name;    /* one or two words: "run", "bench engine", "show model" */
  const char *summary; /* one line for `afdsim help` */
  AfdCommandFunc run;
} AfdCommand;

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
 * @parameter: (nullable): the usage line's positional part ("[EXPERIMENT.json]"), as for
 *   g_option_context_new()
 * @summary: the --help summary
 * @entries: the command's options, %NULL-terminated
 *
 * Builds the command's GOptionContext and parses @argc/@argv with afd_cli_parse_options():
 * what every command does before reading its options.
 *
 * Returns: %FALSE with @error set (AFD_ERROR_USAGE)
 */
gboolean afd_cli_parse_command (const char *command, const char *parameter, const char *summary,
                                const GOptionEntry *entries, int *argc, char ***argv,
                                int max_positional, GError **error);

/**
 * afd_cli_parse_int:
 * @flag: the flag name shown in messages ("--pending")
 * @text: (nullable): the text to convert; %NULL leaves @out_value untouched and succeeds
 * @min: smallest accepted value (inclusive)
 * @max: largest accepted value (inclusive)
 *
 * Accepts decimal integers with an optional exponent form for convenience ("2e7", exact
 * integers only).
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag
 */
gboolean afd_cli_parse_int (const char *flag, const char *text, gint64 min, gint64 max,
                            gint64 *out_value, GError **error);

/**
 * afd_cli_parse_double:
 * @min: smallest accepted value (inclusive)
 * @max: largest accepted value (inclusive)
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag for junk, NaN, infinities, overflow,
 *   or values outside [@min, @max]
 */
gboolean afd_cli_parse_double (const char *flag, const char *text, double min, double max,
                               double *out_value, GError **error);

/**
 * afd_cli_parse_bytes:
 *
 * Parses a byte count: an integer with an optional binary suffix K, M, G, T (also KiB,
 * MiB, GiB, TiB; 1K = 1024 B, as nccl-tests reads -b/-e) or a plain "B".
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag
 */
gboolean afd_cli_parse_bytes (const char *flag, const char *text, guint64 min, guint64 max,
                              guint64 *out_value, GError **error);

G_END_DECLS

#endif /* AFD_SIM_CLI_H */
