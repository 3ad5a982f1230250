/* SPDX-License-Identifier: MIT */
/* provenance.c - the one provenance writer (see sim/provenance.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/provenance.h"

static char *command_line; /* written once by main(), before any thread starts */

/* Returns: TRUE when @word needs no shell quoting. */
static gboolean
plain_word (const char *word)
{
  if (word[0] == '\0')
    return FALSE;
  for (const char *p = word; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-_./=:,@+%^", *p) == NULL)
      return FALSE;
  return TRUE;
}

void
afd_provenance_set_command_line (int argc, char **argv)
{
  g_autoptr (GString) s = g_string_new ("afdsim");
  for (int i = 1; i < argc && argv[i] != NULL; i++)
    {
      g_string_append_c (s, ' ');
      if (plain_word (argv[i]))
        g_string_append (s, argv[i]);
      else
        {
          g_autofree char *q = g_shell_quote (argv[i]);
          g_string_append (s, q);
        }
    }
  g_free (command_line);
  command_line = g_string_free (g_steal_pointer (&s), FALSE);
}

const char *
afd_provenance_command_line (void)
{
  return command_line != NULL ? command_line : "";
}

cJSON *
afd_provenance_add (cJSON *root, const char *command)
{
  g_return_val_if_fail (root != NULL && command != NULL, NULL);
  cJSON *prov = cJSON_AddObjectToObject (root, "provenance");
  cJSON_AddStringToObject (prov, "version", PACKAGE_VERSION);
  cJSON_AddStringToObject (prov, "git_revision", AFD_GIT_REVISION);
  cJSON_AddStringToObject (prov, "features", AFD_FEATURES);
  cJSON_AddStringToObject (prov, "command", command);
  cJSON_AddStringToObject (prov, "command_line", afd_provenance_command_line ());
  cJSON_AddArrayToObject (prov, "inputs");
  return prov;
}

/* Returns: (transfer full) (nullable): @path with every symbolic link resolved. */
static char *
resolve (const char *path)
{
  char *r = realpath (path, NULL);
  if (r == NULL)
    return NULL;
  char *out = g_strdup (r);
  free (r);
  return out;
}

/* Path relative to the data folder when the file lies inside one of its shipped folders
 * (experiments, topologies, models/llm), with symbolic links resolved on both sides: the build
 * tree's data folder links to the sources, so the same file must get the same name however
 * afdsim was started (stable across installs and builds). */
static char *
stable_path (const char *path)
{
  static const char *const kinds[] = { "experiments", "topologies", "models/llm" };
  const char *dir = afd_data_dir (NULL);
  g_autofree char *real = resolve (path);
  for (guint k = 0; dir != NULL && real != NULL && k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree char *kdir = g_build_filename (dir, kinds[k], NULL);
      g_autofree char *real_kdir = resolve (kdir);
      if (real_kdir == NULL)
        continue;
      gsize n = strlen (real_kdir);
      if (g_str_has_prefix (real, real_kdir) && real[n] == '/')
        return g_strdup_printf ("%s/%s", kinds[k], real + n + 1);
    }
  return g_strdup (path);
}

gboolean
afd_provenance_add_input (cJSON *provenance, const char *path, GError **error)
{
  g_return_val_if_fail (provenance != NULL && path != NULL, FALSE);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "provenance: %s", local->message);
      return FALSE;
    }
  g_autofree char *sum
      = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)data, len);
  g_autofree char *rel = stable_path (path);
  cJSON *inputs = cJSON_GetObjectItemCaseSensitive (provenance, "inputs");
  g_return_val_if_fail (cJSON_IsArray (inputs), FALSE);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "path", rel);
  cJSON_AddStringToObject (o, "sha256", sum);
  cJSON_AddItemToArray (inputs, o);
  return TRUE;
}
