/* SPDX-License-Identifier: MIT */
/* Tests for sim/json.c: strict key checking, typed getters, messages, atomic writes. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/files.h"
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

/* Issue #14: duplicates are found among many keys (a hash set, not a quadratic scan). */
Test (json, duplicate_among_many_keys)
{
  g_autoptr (GString) text = g_string_new ("{");
  for (guint i = 0; i < 50000; i++)
    g_string_append_printf (text, "\"a\": 0, ");
  g_string_append (text, "\"a\": 1}");
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text (text->str, "f.json", AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  static const char *const allowed[] = { "a", NULL };
  cr_assert_not (afd_json_check_object (root, &where, allowed, &error));
  afd_assert_error_contains (error, "f.json: gpus[2].a: duplicate key");
}

/* Issue #14: outputs against each other and inputs, by inode after following links. */
Test (json, files_check_distinct)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-files-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "a.json", NULL);
  g_autofree char *b = g_build_filename (dir, "b.json", NULL);
  g_autofree char *link = g_build_filename (dir, "l.json", NULL);
  g_autofree char *dot = g_strdup_printf ("%s/./a.json", dir);
  cr_assert (g_file_set_contents (a, "{}", 2, NULL));
  cr_assert (symlink ("a.json", link) == 0);
  g_autoptr (GError) error = NULL;
  AfdFileUse outs[] = { { "--json", b }, { "--trace", link } };
  AfdFileUse ins[] = { { "--model", a } };
  cr_assert_not (afd_files_check_distinct (outs, 2, ins, 1, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
  afd_assert_error_contains (error, "--trace and --model name the same file");
  g_clear_error (&error);
  /* Two outputs that do not exist yet: compared by resolved name. */
  AfdFileUse same[] = { { "--json", b }, { "--csv", NULL }, { "--trace", b } };
  cr_assert_not (afd_files_check_distinct (same, 3, NULL, 0, &error));
  afd_assert_error_contains (error, "--json and --trace name the same file");
  g_clear_error (&error);
  AfdFileUse via_dot[] = { { "--json", dot } };
  cr_assert_not (afd_files_check_distinct (via_dot, 1, ins, 1, &error));
  g_clear_error (&error);
  AfdFileUse null_twice[] = { { "--json", "/dev/null" }, { "--trace", "/dev/null" } };
  cr_assert (afd_files_check_distinct (null_twice, 2, ins, 1, &error));
  afd_assert_no_error (error);
  g_unlink (link);
  g_unlink (a);
  g_rmdir (dir);
}

/* Issue #14: readers refuse FIFOs (without blocking), devices and oversized files. */
Test (json, read_refuses_special_and_large_files)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-files-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *big = g_build_filename (dir, "big.json", NULL);
  cr_assert (mkfifo (fifo, 0600) == 0);
  cr_assert (g_file_set_contents (big, "{\"a\": 1}", -1, NULL));
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  cr_assert_not (afd_file_read (fifo, 100, &data, NULL, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "is a FIFO, not a regular file");
  g_clear_error (&error);
  cr_assert_not (afd_file_read ("/dev/zero", 100, &data, NULL, &error));
  afd_assert_error_contains (error, "is a character device, not a regular file");
  g_clear_error (&error);
  cr_assert_not (afd_file_read (big, 4, &data, NULL, &error));
  afd_assert_error_contains (error, "more than the limit of 4 bytes");
  g_clear_error (&error);
  gsize len = 0;
  cr_assert (afd_file_read (big, 100, &data, &len, &error));
  cr_assert_eq (len, 8);
  g_free (data);
  g_unlink (fifo);
  g_unlink (big);
  g_rmdir (dir);
}

/* Issue #14: a symbolic link stays a link, its target replaced; a closed output waits for
 * its commit (all or none) and leaves nothing when freed uncommitted. */
Test (json, output_follows_links_and_commits_late)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-files-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, "t.json", NULL);
  g_autofree char *link = g_build_filename (dir, "l.json", NULL);
  cr_assert (g_file_set_contents (target, "old", -1, NULL));
  cr_assert (symlink ("t.json", link) == 0);
  g_autoptr (GError) error = NULL;
  cr_assert (afd_file_write_atomic (link, "new", 3, &error));
  cr_assert (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_autofree char *text = NULL;
  cr_assert (g_file_get_contents (target, &text, NULL, NULL));
  cr_assert_str_eq (text, "new");
  AfdOutput *out = afd_output_open (target, &error);
  cr_assert_not_null (out);
  afd_output_write (out, "later", 5);
  cr_assert (afd_output_close (out, &error));
  g_clear_pointer (&text, g_free);
  cr_assert (g_file_get_contents (target, &text, NULL, NULL));
  cr_assert_str_eq (text, "new", "closed but not committed: the target is untouched");
  afd_output_free (out);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  cr_assert_eq (n, 2, "a temporary file was left");
  g_unlink (link);
  g_unlink (target);
  g_rmdir (dir);
}

/* Issue #14: SIGTERM while an output is being written removes its temporary file (and a
 * registered folder) before the process dies of the signal. Runs in a child process. */
Test (json, sigterm_removes_temporary_files)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-files-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, "trace.json", NULL);
  g_autofree char *folder = g_build_filename (dir, "private", NULL);
  g_autofree char *inner = g_build_filename (folder, "copy.json", NULL);
  pid_t pid = fork ();
  cr_assert (pid >= 0);
  if (pid == 0)
    {
      afd_files_install_signal_cleanup ();
      AfdOutput *out = afd_output_open (target, NULL);
      if (out == NULL)
        _exit (3);
      afd_output_write (out, "{", 1);
      if (g_mkdir (folder, 0700) != 0 || !g_file_set_contents (inner, "{}", 2, NULL))
        _exit (4);
      afd_files_register_temp (folder);
      kill (getpid (), SIGTERM);
      for (;;)
        pause ();
    }
  int status = 0;
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM, "status %d", status);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name = g_dir_read_name (d);
  cr_assert_null (name, "'%s' left behind", name);
  g_rmdir (dir);
}
