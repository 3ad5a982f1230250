/* SPDX-License-Identifier: MIT */
/* sweep-csv.c - the CSV writer of a sweep's JSONL output (see afd_sweep_csv_write in
 * sim/sweep.h, columns in docs/user/sweep.md). It reads the JSONL lines, not the sweep. */
#include "config.h"

#include <string.h>

#include "sim/error.h"
#include "sim/experiment-keys.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/sweep.h"

/* Appends one CSV field, quoted when it holds a comma, quote or newline. */
static void
csv_field (GString *out, const char *text, gboolean first)
{
  if (!first)
    g_string_append_c (out, ',');
  if (strpbrk (text, ",\"\n\r") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

/* Appends a JSON value as a CSV field: strings bare, numbers as JSON prints them, else empty. */
static void
csv_value (GString *out, const cJSON *v, gboolean first)
{
  if (cJSON_IsString (v))
    csv_field (out, v->valuestring, first);
  else if (cJSON_IsNumber (v) || cJSON_IsBool (v))
    {
      g_autofree char *t = cJSON_PrintUnformatted (v);
      csv_field (out, t, first);
    }
  else
    csv_field (out, "", first);
}

/* Adds the keys of @obj not yet in @keys. */
static void
collect_keys (GPtrArray *keys, const cJSON *obj)
{
  const cJSON *v;
  cJSON_ArrayForEach (v, obj)
    {
      gboolean seen = FALSE;
      for (guint i = 0; i < keys->len && !seen; i++)
        seen = strcmp (keys->pdata[i], v->string) == 0;
      if (!seen)
        g_ptr_array_add (keys, g_strdup (v->string));
    }
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

gboolean
afd_sweep_csv_write (const char *jsonl, const char *csv, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (jsonl, &data, &len, error))
    {
      (*error)->domain = AFD_ERROR, (*error)->code = AFD_ERROR_IO;
      return FALSE;
    }
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  g_auto (GStrv) texts = g_strsplit (data, "\n", -1);
  for (guint i = 0; texts[i] != NULL; i++)
    {
      if (texts[i][0] == '\0')
        continue;
      cJSON *obj = cJSON_Parse (texts[i]);
      if (!cJSON_IsObject (obj))
        {
          cJSON_Delete (obj);
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: line %u: not a JSON object", jsonl,
                       i + 1);
          return FALSE;
        }
      g_ptr_array_add (lines, obj);
    }
  static const char *const metric_cols[] = { "gpus", "gpus_used", "iteration_time_s", "tpot_s",
                                             "tokens_per_s", "tokens_per_s_per_gpu", "hfu", "mfu",
                                             "utilisation", "comm_fraction", "total_flops",
                                             "peak_flop_per_s", "max_memory_bytes", "bound_by",
                                             "usd_per_million_tokens", "joules_per_token",
                                             "out_of_grid_lookups", NULL };
  /* Optional config columns appear when any line has them; options and overrides sorted. */
  g_autoptr (GPtrArray) cols = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  for (const AfdExperimentKey *k = afd_experiment_keys (); k->name != NULL; k++)
    for (guint i = 0; (k->where & AFD_EXPERIMENT_KEY_POINT) != 0 && i < lines->len; i++)
      if (cJSON_GetObjectItemCaseSensitive (
              cJSON_GetObjectItemCaseSensitive (lines->pdata[i], "config"), k->name))
        {
          g_ptr_array_add (cols, g_strdup (k->name));
          break;
        }
  for (guint i = 0; i < lines->len; i++)
    {
      const cJSON *config = cJSON_GetObjectItemCaseSensitive (lines->pdata[i], "config");
      collect_keys (opts, cJSON_GetObjectItemCaseSensitive (config, "options"));
      collect_keys (sets, cJSON_GetObjectItemCaseSensitive (config, "set"));
    }
  g_ptr_array_sort (opts, compare_strings);
  g_ptr_array_sort (sets, compare_strings);

  g_autoptr (GString) out = g_string_new (NULL);
  csv_field (out, "index", TRUE);
  csv_field (out, "id", FALSE);
  csv_field (out, "status", FALSE);
  for (guint c = 0; c < cols->len; c++)
    csv_field (out, cols->pdata[c], FALSE);
  for (guint c = 0; c < opts->len; c++)
    csv_field (out, opts->pdata[c], FALSE);
  for (guint c = 0; c < sets->len; c++)
    csv_field (out, sets->pdata[c], FALSE);
  csv_field (out, "roles", FALSE);
  for (guint c = 0; metric_cols[c] != NULL; c++)
    csv_field (out, metric_cols[c], FALSE);
  csv_field (out, "message", FALSE);
  g_string_append_c (out, '\n');
  for (guint i = 0; i < lines->len; i++)
    {
      const cJSON *l = lines->pdata[i];
      const cJSON *config = cJSON_GetObjectItemCaseSensitive (l, "config");
      const cJSON *o = cJSON_GetObjectItemCaseSensitive (config, "options");
      const cJSON *s = cJSON_GetObjectItemCaseSensitive (config, "set");
      csv_value (out, cJSON_GetObjectItemCaseSensitive (l, "index"), TRUE);
      csv_value (out, cJSON_GetObjectItemCaseSensitive (l, "id"), FALSE);
      csv_value (out, cJSON_GetObjectItemCaseSensitive (l, "status"), FALSE);
      for (guint c = 0; c < cols->len; c++)
        csv_value (out, cJSON_GetObjectItemCaseSensitive (config, cols->pdata[c]), FALSE);
      for (guint c = 0; c < opts->len; c++)
        csv_value (out, cJSON_GetObjectItemCaseSensitive (o, opts->pdata[c]), FALSE);
      for (guint c = 0; c < sets->len; c++)
        csv_value (out, cJSON_GetObjectItemCaseSensitive (s, sets->pdata[c]), FALSE);
      /* roles as "attention:12;moe:4" */
      g_autoptr (GString) roles = g_string_new (NULL);
      const cJSON *r;
      cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive (l, "roles"))
        g_string_append_printf (roles, "%s%s:%g", roles->len ? ";" : "", r->string,
                                r->valuedouble);
      csv_field (out, roles->str, FALSE);
      for (guint c = 0; metric_cols[c] != NULL; c++)
        csv_value (out, cJSON_GetObjectItemCaseSensitive (l, metric_cols[c]), FALSE);
      csv_value (out, cJSON_GetObjectItemCaseSensitive (l, "message"), FALSE);
      g_string_append_c (out, '\n');
    }
  return afd_file_write_atomic (csv, out->str, out->len, error);
}
