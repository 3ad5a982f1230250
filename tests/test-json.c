/* SPDX-License-Identifier: MIT */
/* Tests for sim/json.c: strict key checking, typed getters, messages, atomic writes. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim/json.h"
#include "tests/test-helpers.h"

static const AfdJsonWhere where = { "f.json", "gpus[2]", AFD_ERROR_TOPOLOGY };

/* An unknown key is an error that names the file, the path and the allowed keys. */
Test (json, rejects_unknown_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text ("{\"a\": 1, \"bb\": 2}", "f.json",
                                                AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  static const char *const allowed[] = { "a", NULL };
  cr_assert_not (afd_json_check_object (root, &where, allowed, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
  afd_assert_error_contains (error, "f.json: gpus[2].bb: unknown key");
}

/* The same key twice is rejected, not silently resolved to the first. */
Test (json, rejects_duplicate_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text ("{\"a\": 1, \"a\": 2}", "f.json",
                                                AFD_ERROR_CONFIG, &error);
  static const char *const allowed[] = { "a", NULL };
  cr_assert_not (afd_json_check_object (root, &where, allowed, &error));
  afd_assert_error_contains (error, "gpus[2].a: duplicate key");
}

/* Syntax errors give a line and column. */
Test (json, syntax_error_has_line_and_column)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text ("{\n  \"a\": 1,\n  oops\n}", "f.json",
                                                AFD_ERROR_CONFIG, &error);
  cr_assert_null (root);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "f.json: line 3, column");
}

/* Numbers are checked against their flags; defaults survive absent optional keys. */
Test (json, number_flags)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text (
      "{\"neg\": -5, \"half\": 0.5, \"zero\": 0, \"s\": \"x\"}", "f.json", AFD_ERROR_CONFIG,
      &error);
  double v = 7;
  cr_assert (afd_json_get_number (root, &where, "absent", AFD_JSON_POSITIVE, &v, &error));
  cr_assert_eq (v, 7);
  cr_assert (afd_json_get_number (root, &where, "half", AFD_JSON_FRACTION, &v, &error));
  cr_assert_eq (v, 0.5);
  cr_assert_not (afd_json_get_number (root, &where, "neg", AFD_JSON_POSITIVE, &v, &error));
  afd_assert_error_contains (error, "gpus[2].neg: must be > 0 (got -5)");
  g_clear_error (&error);
  cr_assert_not (afd_json_get_number (root, &where, "zero", AFD_JSON_FRACTION, &v, &error));
  g_clear_error (&error);
  cr_assert_not (afd_json_get_number (root, &where, "s", AFD_JSON_OPTIONAL, &v, &error));
  afd_assert_error_contains (error, "must be a number");
  g_clear_error (&error);
  cr_assert_not (afd_json_get_number (root, &where, "missing", AFD_JSON_REQUIRED, &v, &error));
  afd_assert_error_contains (error, "gpus[2].missing: missing required key");
}

/* Integers must be whole and inside their range. */
Test (json, int_range)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text ("{\"n\": 8, \"f\": 2.5, \"big\": 1e300}",
                                                "f.json", AFD_ERROR_CONFIG, &error);
  gint64 n = 0;
  cr_assert (afd_json_get_int (root, &where, "n", AFD_JSON_REQUIRED, 1, 16, &n, &error));
  cr_assert_eq (n, 8);
  cr_assert_not (afd_json_get_int (root, &where, "n", AFD_JSON_REQUIRED, 1, 4, &n, &error));
  g_clear_error (&error);
  cr_assert_not (afd_json_get_int (root, &where, "f", AFD_JSON_REQUIRED, 1, 4, &n, &error));
  afd_assert_error_contains (error, "whole number");
  g_clear_error (&error);
  cr_assert_not (afd_json_get_int (root, &where, "big", AFD_JSON_REQUIRED, 0, G_MAXINT64, &n,
                                   &error));
  cr_assert_eq (n, 8, "output must be untouched on error");
}

/* Written files are complete JSON and replace the old file in one step. */
Test (json, writes_atomically)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-json-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  afd_json_add_number (root, "time_s", 1.5);
  afd_json_add_number (root, "nan_s", 0.0 / 0.0);
  cr_assert (afd_json_write_file (path, root, &error));
  afd_assert_no_error (error);
  g_autoptr (cJSON) back = afd_json_parse_file (path, AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  cr_assert_float_eq (cJSON_GetObjectItem (back, "time_s")->valuedouble, 1.5, 0);
  cr_assert (cJSON_IsNull (cJSON_GetObjectItem (back, "nan_s")));
  /* No temporary files are left behind. */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint count = 0;
  while (g_dir_read_name (d))
    count++;
  cr_assert_eq (count, 1);
  g_unlink (path);
  g_rmdir (dir);
}

/* An unwritable path is an I/O error naming the path. */
Test (json, unwritable_path_is_io_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cr_assert_not (afd_json_write_file ("/nonexistent-dir/x.json", root, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "/nonexistent-dir/x.json");
}
