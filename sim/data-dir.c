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
      /* Names match case-insensitively ("h800" is H800); otherwise suggest the nearest. */
      g_autoptr (GPtrArray) names = afd_data_list (kind, NULL);
      for (guint i = 0; names != NULL && i < names->len; i++)
        if (g_ascii_strcasecmp (names->pdata[i], name_or_file) == 0)
          return afd_data_resolve (kind, what, names->pdata[i], error);
      if (names != NULL)
        g_ptr_array_add (names, NULL);
      g_autofree char *hint
          = names != NULL ? afd_data_did_you_mean ((const char *const *) names->pdata, name_or_file)
                          : NULL;
      const char *list = strcmp (kind, "models/llm") == 0            ? " models"
                         : strcmp (kind, "topologies/gpus") == 0     ? " gpus"
                         : strcmp (kind, "topologies/clusters") == 0 ? " clusters"
                         : strcmp (kind, "experiments") == 0         ? " experiments"
                                                                     : "";
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "unknown %s '%s'%s%s (not a file, and not shipped in %s/%s; see 'afdsim list%s')",
                   what, name_or_file, hint != NULL ? ": " : "", hint != NULL ? hint : "", dir,
                   kind, list);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* Levenshtein distance of @a and @b, case-insensitive. */
static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];
      row[0] = (guint) i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

/* A known name and how far it is from what was typed. */
typedef struct {
  guint distance;
  guint order; /* position in the caller's list: ties keep it */
  const char *name;
} Near;

static gint
compare_near (gconstpointer a, gconstpointer b)
{
  const Near *x = a, *y = b;
  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

char *
afd_data_did_you_mean (const char *const *names, const char *typed)
{
  g_return_val_if_fail (typed != NULL, NULL);
  /* Near: at most a third of the longer name's letters edited (at least 2), or one name
   * contained in the other ("h800" in "h800-x40"); the nearest first. */
  g_autofree char *low = g_ascii_strdown (typed, -1);
  g_autoptr (GArray) near = g_array_new (FALSE, FALSE, sizeof (Near));
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *name = g_ascii_strdown (names[i], -1);
      guint limit = MAX (2u, (guint) MAX (strlen (name), strlen (low)) / 3);
      guint d = edit_distance (name, low);
      gboolean inside = (strlen (low) >= 2 && strstr (name, low) != NULL)
                        || (strlen (name) >= 2 && strstr (low, name) != NULL);
      if (d <= limit || inside)
        {
          Near n = { d, i, names[i] };
          g_array_append_val (near, n);
        }
    }
  if (near->len == 0)
    return NULL;
  g_array_sort (near, compare_near);
  g_autoptr (GString) out = g_string_new ("did you mean ");
  for (guint i = 0; i < MIN (near->len, 3u); i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", g_array_index (near, Near, i).name);
  g_string_append_c (out, '?');
  return g_string_free (g_steal_pointer (&out), FALSE);
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
