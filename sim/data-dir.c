/* SPDX-License-Identifier: MIT */
/* data-dir.c - locating shipped data both installed and in the build tree (see data-dir.h). */
#include "config.h"

#include <string.h>

#include "sim/data-dir.h"
#include "sim/error.h"

/* A data folder is one that holds topologies/. */
static gboolean
is_data_dir (const char *dir)
{
  g_autofree char *probe = g_build_filename (dir, "topologies", NULL);
  return g_file_test (probe, G_FILE_TEST_IS_DIR);
}

/* Returns the folder of the running binary, or NULL where /proc is not available. */
static char *
exe_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  return exe ? g_path_get_dirname (exe) : NULL;
}

const char *
afd_data_dir (GError **error)
{
  static char *cached = NULL;
  if (cached != NULL)
    return cached;

  const char *env = g_getenv ("AFDSIM_DATA_DIR");
  if (env != NULL && env[0] != '\0')
    {
      if (!is_data_dir (env))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                       "AFDSIM_DATA_DIR=%s: not an afdsim data folder (no topologies/ inside)",
                       env);
          return NULL;
        }
      cached = g_strdup (env);
      return cached;
    }

  g_autoptr (GPtrArray) tried = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bindir = exe_dir ();
  if (bindir != NULL)
    {
      g_ptr_array_add (tried, g_build_filename (bindir, "afdsim-data-uninstalled", NULL));
      g_ptr_array_add (tried, g_build_filename (bindir, "..", "share", "afdsim", NULL));
    }
  g_ptr_array_add (tried, g_strdup (AFD_PKGDATADIR));
  for (guint i = 0; i < tried->len; i++)
    if (is_data_dir (tried->pdata[i]))
      {
        cached = g_canonicalize_filename (tried->pdata[i], NULL);
        return cached;
      }

  g_autoptr (GString) list = g_string_new (NULL);
  for (guint i = 0; i < tried->len; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) tried->pdata[i]);
  g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
               "cannot find afdsim's data folder (looked in %s); set AFDSIM_DATA_DIR", list->str);
  return NULL;
}

/* TRUE when @s should be taken as a path rather than a shipped name. */
static gboolean
looks_like_path (const char *s)
{
  return strchr (s, '/') != NULL || g_str_has_suffix (s, ".json");
}

char *
afd_data_resolve (const char *kind, const char *what, const char *name_or_file, GError **error)
{
  if (name_or_file == NULL || name_or_file[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "empty %s name", what);
      return NULL;
    }
  if (looks_like_path (name_or_file))
    {
      if (!g_file_test (name_or_file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: no such %s file", name_or_file, what);
          return NULL;
        }
      return g_strdup (name_or_file);
    }
  const char *dir = afd_data_dir (error);
  if (dir == NULL)
    return NULL;
  g_autofree char *path = NULL;
  if (strcmp (kind, "experiments") == 0)
    path = g_build_filename (dir, kind, name_or_file, "experiment.json", NULL);
  else
    {
      g_autofree char *file = g_strconcat (name_or_file, ".json", NULL);
      path = g_build_filename (dir, kind, file, NULL);
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "unknown %s '%s' (not a file, and not shipped in %s/%s; see 'afdsim list')",
                   what, name_or_file, dir, kind);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* Sort helper for g_ptr_array_sort on strings. */
static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
afd_data_list (const char *kind, GError **error)
{
  const char *dir = afd_data_dir (error);
  if (dir == NULL)
    return NULL;
  g_autofree char *folder = g_build_filename (dir, kind, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (folder, 0, NULL);
  if (d == NULL)
    return g_steal_pointer (&names);
  gboolean experiments = strcmp (kind, "experiments") == 0;
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      if (experiments)
        {
          g_autofree char *exp = g_build_filename (folder, entry, "experiment.json", NULL);
          if (g_file_test (exp, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add (names, g_strdup (entry));
        }
      else if (g_str_has_suffix (entry, ".json"))
        g_ptr_array_add (names, g_strndup (entry, strlen (entry) - 5));
    }
  g_ptr_array_sort (names, compare_strings);
  return g_steal_pointer (&names);
}
