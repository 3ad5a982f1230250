/* SPDX-License-Identifier: MIT */
/* cli.c - command lookup and option parsing for the afdsim command table (see cli/cli.h). */
#include "config.h"

#include <string.h>

#include "cli/cli.h"
#include "sim/data-dir.h"
#include "sim/error.h"

char *
afd_cli_strategy_names (const AfdPlugins *plugins)
{
  const AfdStrategyClass *const *list = plugins->strategy_list ();
  g_autoptr (GString) out = g_string_new (NULL);
  for (guint i = 0; list[i] != NULL; i++)
    g_string_append_printf (out, "%s%s", i == 0 ? "" : list[i + 1] == NULL ? " or " : ", ",
                            list[i]->name);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Counts the words of a command name. */
static int
name_words (const char *name)
{
  return strchr (name, ' ') != NULL ? 2 : 1;
}

const AfdCommand *
afd_cli_find (const AfdCommand *const *commands, int argc, char **argv, int *out_words,
              GError **error)
{
  g_return_val_if_fail (argc >= 1, NULL);

  if (argc >= 2 && argv[1][0] != '-')
    {
      g_autofree char *two = g_strdup_printf ("%s %s", argv[0], argv[1]);
      for (guint i = 0; commands[i] != NULL; i++)
        if (g_ascii_strcasecmp (commands[i]->name, two) == 0)
          {
            *out_words = 2;
            return commands[i];
          }
    }
  for (guint i = 0; commands[i] != NULL; i++)
    if (g_ascii_strcasecmp (commands[i]->name, argv[0]) == 0)
      {
        *out_words = 1;
        return commands[i];
      }

  /* A group word such as "bench": say which second words exist. */
  g_autoptr (GString) group = g_string_new (NULL);
  gsize first_len = strlen (argv[0]);
  for (guint i = 0; commands[i] != NULL; i++)
    if (name_words (commands[i]->name) == 2
        && g_ascii_strncasecmp (commands[i]->name, argv[0], first_len) == 0
        && commands[i]->name[first_len] == ' ')
      g_string_append_printf (group, "%s'%s'", group->len ? ", " : "", commands[i]->name);
  if (group->len > 0)
    {
      if (argc >= 2)
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "unknown command '%s %s' (try %s)",
                     argv[0], argv[1], group->str);
      else
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "'%s' needs a subcommand: %s", argv[0],
                     group->str);
      return NULL;
    }
  /* Names are typed: suggest the nearest (sim/data-dir.h). */
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; commands[i] != NULL; i++)
    g_ptr_array_add (names, (gpointer) commands[i]->name);
  g_ptr_array_add (names, NULL);
  g_autofree char *hint = afd_data_did_you_mean ((const char *const *) names->pdata, argv[0]);
  g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "unknown command '%s'%s%s (see 'afdsim help')",
               argv[0], hint != NULL ? ": " : "", hint != NULL ? hint : "");
  return NULL;
}

gboolean
afd_cli_parse_options (GOptionContext *context, const char *command, int *argc, char ***argv,
                       int max_positional, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  /* GOption stops at "--"; everything after it is positional. */
  if (!g_option_context_parse (context, argc, argv, &local_error))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: %s", command, local_error->message);
      return FALSE;
    }
  int positional = 0;
  for (int i = 1; i < *argc; i++)
    {
      const char *arg = (*argv)[i];
      if (arg[0] == '-' && arg[1] != '\0' && strcmp (arg, "--") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: unknown option %s", command, arg);
          return FALSE;
        }
      if (strcmp (arg, "--") != 0)
        positional++;
    }
  if (positional > max_positional)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: unexpected argument '%s'", command,
                   (*argv)[*argc - 1]);
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_cli_parse_command (const AfdCommand *command, const char *summary,
                       const GOptionEntry *entries, int *argc, char ***argv, GError **error)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (command->usage);
  g_option_context_set_summary (ctx, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (ctx, entries, NULL);
  return afd_cli_parse_options (ctx, command->name, argc, argv, command->max_args, error);
}
