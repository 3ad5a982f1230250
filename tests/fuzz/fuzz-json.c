/* SPDX-License-Identifier: MIT */
/*
 * fuzz-json.c - libFuzzer target for sim/json.c: afd_json_parse_text, afd_json_parse_file and
 * every strict getter, on arbitrary bytes.
 *
 * Rules checked on every input (tests/fuzz/fuzz-common.h has the shared ones):
 *   - parse_text and parse_file agree: a file without NUL bytes parses exactly when its text
 *     does; a file with a NUL byte is refused;
 *   - a failure is AFD_ERROR_CONFIG (the code asked for) or AFD_ERROR_IO, naming the source;
 *   - what parses is printed back by cJSON and parses again (nothing we accept is unwritable);
 *   - every getter on every key of every object either succeeds with a value that meets its
 *     flags or fails with a one-line message naming the file.
 * Not checked: what the values mean; the per-reader targets (fuzz-gpu-spec.c, ...) do that.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "sim/json.h"
#include "tests/fuzz/fuzz-common.h"

#define FUZZ_NAME "fuzz.json"

static const int config_codes[] = { AFD_ERROR_CONFIG, -1 };
static const int file_codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* Runs every getter on @key of @obj and checks the result against the flags. */
static void
exercise_key (const cJSON *obj, const char *path, const char *key)
{
  const AfdJsonWhere where = { FUZZ_NAME, path, AFD_ERROR_CONFIG };
  static const AfdJsonFlags number_flags[] = {
    AFD_JSON_OPTIONAL,
    AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
    AFD_JSON_NONNEGATIVE,
    AFD_JSON_FRACTION,
    AFD_JSON_INTEGER | AFD_JSON_POSITIVE,
  };
  for (guint i = 0; i < G_N_ELEMENTS (number_flags); i++)
    {
      g_autoptr (GError) error = NULL;
      double v = 42.0;
      if (afd_json_get_number (obj, &where, key, number_flags[i], &v, &error))
        {
          fuzz_assert (isfinite (v), "get_number accepted a non-finite value");
          fuzz_assert (!(number_flags[i] & AFD_JSON_POSITIVE) || v > 0, "POSITIVE broken");
          fuzz_assert (!(number_flags[i] & AFD_JSON_NONNEGATIVE) || v >= 0, "NONNEGATIVE broken");
          fuzz_assert (!(number_flags[i] & AFD_JSON_FRACTION) || (v > 0 && v <= 1),
                       "FRACTION broken");
          fuzz_assert (!(number_flags[i] & AFD_JSON_INTEGER) || v == floor (v), "INTEGER broken");
        }
      else
        fuzz_check_error (error, FUZZ_NAME, config_codes);
    }

  static const gint64 ranges[][2] = {
    { G_MININT64, G_MAXINT64 },
    { 0, G_MAXINT32 },
    { 1, 1 << 20 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 v = 7;
      if (afd_json_get_int (obj, &where, key, AFD_JSON_REQUIRED, ranges[i][0], ranges[i][1], &v,
                            &error))
        fuzz_assert (v >= ranges[i][0] && v <= ranges[i][1], "get_int out of range");
      else
        fuzz_check_error (error, FUZZ_NAME, config_codes);
    }

  {
    g_autoptr (GError) error = NULL;
    g_autofree char *s = g_strdup ("default");
    if (afd_json_get_string (obj, &where, key, AFD_JSON_REQUIRED, &s, &error))
      fuzz_assert (s != NULL && s[0] != '\0' && g_utf8_validate (s, -1, NULL),
                   "get_string accepted an empty or non-UTF-8 string");
    else
      fuzz_check_error (error, FUZZ_NAME, config_codes);
  }
  {
    g_autoptr (GError) error = NULL;
    gboolean b = FALSE;
    if (!afd_json_get_bool (obj, &where, key, AFD_JSON_REQUIRED, &b, &error))
      fuzz_check_error (error, FUZZ_NAME, config_codes);
  }
  static const int types[] = { cJSON_Object, cJSON_Array };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GError) error = NULL;
      const cJSON *child = NULL;
      if (afd_json_get_child (obj, &where, key, AFD_JSON_REQUIRED, types[i], &child, &error))
        fuzz_assert (child != NULL && (child->type & 0xFF) == types[i], "get_child wrong type");
      else
        fuzz_check_error (error, FUZZ_NAME, config_codes);
    }
}

/* Walks the tree: checks every object's keys and runs the getters on them. */
static void
walk (const cJSON *node, const char *path, guint depth)
{
  if (cJSON_IsObject (node))
    {
      const AfdJsonWhere where = { FUZZ_NAME, path, AFD_ERROR_CONFIG };
      static const char *const allowed[] = { "name", "source", "a", "b", "hbm_bytes", NULL };
      g_autoptr (GError) error = NULL;
      if (!afd_json_check_object (node, &where, allowed, &error))
        fuzz_check_error (error, FUZZ_NAME, config_codes);
      /* A missing required key is an error too. */
      g_clear_error (&error);
      double v = 0;
      if (!afd_json_get_number (node, &where, "\x01no such key", AFD_JSON_REQUIRED, &v, &error))
        fuzz_check_error (error, FUZZ_NAME, config_codes);
      else
        fuzz_fail ("a missing required key was accepted");
    }
  guint index = 0;
  for (const cJSON *item = node->child; item != NULL; item = item->next, index++)
    {
      g_autofree char *child_path = item->string ? afd_json_path (path, item->string)
                                                 : afd_json_path_index (path, index);
      /* Lookups are linear in the key count: the first 32 keys exercise every getter. */
      if (cJSON_IsObject (node) && item->string != NULL && index < 32)
        exercise_key (node, path, item->string);
      /* Getters and paths are linear; keep very deep trees from costing quadratic time. */
      if (depth < 64)
        walk (item, child_path, depth + 1);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr (GError) text_error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text (text, FUZZ_NAME, AFD_ERROR_CONFIG, &text_error);
  if (root == NULL)
    fuzz_check_error (text_error, FUZZ_NAME, config_codes);

  /* The same bytes through a file. */
  const char *path = fuzz_write_file (FUZZ_NAME, data, size);
  g_autoptr (GError) file_error = NULL;
  g_autoptr (cJSON) from_file = afd_json_parse_file (path, AFD_ERROR_CONFIG, &file_error);
  gboolean has_nul = memchr (data, '\0', size) != NULL;
  if (from_file == NULL)
    {
      fuzz_check_error (file_error, path, file_codes);
      fuzz_assert (has_nul || root == NULL, "parse_file refused what parse_text accepted: %s",
                   file_error->message);
    }
  else
    {
      fuzz_assert (!has_nul, "parse_file accepted a file with a NUL byte");
      fuzz_assert (root != NULL, "parse_file accepted what parse_text refused");
    }
  if (root == NULL)
    return 0;

  /* Whatever we accept, cJSON writes back as JSON we accept again. */
  g_autofree char *printed = cJSON_PrintUnformatted (root);
  fuzz_assert (printed != NULL, "cJSON could not print a parsed tree");
  g_autoptr (GError) reparse_error = NULL;
  g_autoptr (cJSON) again = afd_json_parse_text (printed, "printed", AFD_ERROR_CONFIG,
                                                 &reparse_error);
  fuzz_assert (again != NULL, "printed tree does not parse: %s", reparse_error->message);

  walk (root, "", 0);
  return 0;
}
