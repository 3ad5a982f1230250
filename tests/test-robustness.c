/* SPDX-License-Identifier: MIT */
/*
 * test-robustness.c - hostile inputs for every JSON reader and the CLI number parsers.
 *
 * Each bad input must give a clean GError in the AFD_ERROR domain (CONFIG, TOPOLOGY or IO)
 * whose message names the file and fits on one valid UTF-8 line; never a crash, a hang, a
 * GLib warning (G_DEBUG=fatal-warnings) or a leak (the ASan build). The inputs are
 * tests/data/robust-*.json plus files made here (long keys, directories, unreadable files).
 * Regressions for what tests/fuzz/ found are marked "fuzz finding"; docs/reliability.md
 * lists every input with the message it gets.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "models/registry.h"
#include "models/routing.h"
#include "sim/cli.h"
#include "sim/cluster.h"
#include "sim/experiment.h"
#include "sim/gpu-spec.h"
#include "sim/json.h"
#include "sim/llm.h"
#include "sim/sweep.h"
#include "tests/test-helpers.h"

/* A reader under test: loads @path, returns FALSE with @error set on refusal. */
typedef gboolean (*ReaderFunc) (const char *path, GError **error);

typedef struct {
  const char *name;
  ReaderFunc load;
} Reader;

/* The strict JSON layer itself: parse, then a top-level object with only "name". */
static gboolean
load_json (const char *path, GError **error)
{
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return FALSE;
  static const char *const allowed[] = { "name", NULL };
  const AfdJsonWhere where = { path, "", AFD_ERROR_CONFIG };
  return afd_json_check_object (root, &where, allowed, error);
}

static gboolean
load_gpu (const char *path, GError **error)
{
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (path, error);
  return spec != NULL;
}

static gboolean
load_cluster (const char *path, GError **error)
{
  g_autoptr (AfdCluster) cluster = afd_cluster_load (path, error);
  return cluster != NULL;
}

static gboolean
load_llm (const char *path, GError **error)
{
  g_autoptr (AfdLlm) llm = afd_llm_load_file (path, error);
  return llm != NULL;
}

static gboolean
load_experiment (const char *path, GError **error)
{
  g_autoptr (AfdExperiment) exp = afd_experiment_load (path, error);
  return exp != NULL;
}

/* The expert-count file of `--routing file:PATH`. */
static gboolean
load_routing_file (const char *path, GError **error)
{
  g_autofree char *spec = g_strconcat ("file:", path, NULL);
  g_autoptr (AfdRouting) routing = afd_routing_new (spec, 8, 2, error);
  return routing != NULL;
}

/* Every reader of a file a user writes by hand (the roofline hardware file's reader is
 * static in cli/cmd-roofline.c: tests/fuzz/fuzz-roofline-hardware.c covers it). */
static const Reader readers[] = {
  { "json", load_json },
  { "gpu-spec", load_gpu },
  { "cluster", load_cluster },
  { "llm", load_llm },
  { "experiment", load_experiment },
  { "routing-file", load_routing_file },
};

/* Asserts that @reader refuses @path cleanly; returns the message (transfer full). */
static char *
expect_refused (const Reader *reader, const char *path)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = reader->load (path, &error);
  cr_assert (!ok, "%s reader accepted %s", reader->name, path);
  cr_assert (error != NULL, "%s reader failed on %s without an error", reader->name, path);
  cr_assert (error->domain == AFD_ERROR
               && (error->code == AFD_ERROR_CONFIG || error->code == AFD_ERROR_TOPOLOGY
                   || error->code == AFD_ERROR_IO),
             "%s reader on %s: unexpected error %s/%d: %s", reader->name, path,
             g_quark_to_string (error->domain), error->code, error->message);
  cr_assert (strstr (error->message, path) != NULL, "%s reader on %s: message lacks the file: %s",
             reader->name, path, error->message);
  cr_assert (g_utf8_validate (error->message, -1, NULL) && strchr (error->message, '\n') == NULL,
             "%s reader on %s: message is not one valid UTF-8 line", reader->name, path);
  return g_strdup (error->message);
}

/* Asserts that every reader refuses @path and that each message contains @needle. */
static void
expect_all_refuse (const char *path, const char *needle)
{
  for (guint r = 0; r < G_N_ELEMENTS (readers); r++)
    {
      g_autofree char *message = expect_refused (&readers[r], path);
      if (needle != NULL)
        cr_assert (strstr (message, needle) != NULL, "%s reader on %s: expected '%s' in: %s",
                   readers[r].name, path, needle, message);
    }
}

/* Returns: (transfer full): tests/data/NAME. */
static char *
data_file (const char *name)
{
  return g_build_filename (TEST_DATA, name, NULL);
}

/* Temporary folders made by the running test (each test runs in its own process). */
static GPtrArray *temp_dirs = NULL;

/* Returns: (transfer full): a fresh temporary folder, removed when the test ends. */
static char *
temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("afd-robust-XXXXXX", &error);
  afd_assert_no_error (error);
  if (temp_dirs == NULL)
    temp_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (temp_dirs, g_strdup (dir));
  return dir;
}

/* Removes the temporary folders and what the tests left in them (files, links, empty dirs). */
static void
remove_temp_dirs (void)
{
  for (guint i = 0; temp_dirs != NULL && i < temp_dirs->len; i++)
    {
      const char *dir = temp_dirs->pdata[i];
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *entry;
      while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, entry, NULL);
          (void) g_remove (path);
        }
      (void) g_rmdir (dir);
    }
  g_clear_pointer (&temp_dirs, g_ptr_array_unref);
}

TestSuite (robustness, .fini = remove_temp_dirs);

/* Writes @len bytes to a new file in a fresh temporary folder; returns its path. */
static char *
temp_file (const char *name, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = temp_dir ();
  char *path = g_build_filename (dir, name, NULL);
  cr_assert (g_file_set_contents (path, data, (gssize) len, &error), "cannot write %s", path);
  return path;
}

/* Every robust-*.json input is refused by every reader with a clean, one-line message. */
Test (robustness, every_reader_refuses_every_bad_file)
{
  g_autoptr (GDir) dir = g_dir_open (TEST_DATA, 0, NULL);
  cr_assert_not_null (dir);
  guint checked = 0;
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      if (!g_str_has_prefix (entry, "robust-") || g_str_has_prefix (entry, "robust-ok-")
          || !g_str_has_suffix (entry, ".json"))
        continue;
      g_autofree char *path = data_file (entry);
      expect_all_refuse (path, NULL);
      checked++;
    }
  cr_assert_geq (checked, 11, "only %u robust-*.json inputs found", checked);
}

/* cJSON's leniencies that are harmless and documented: a UTF-8 byte order mark is skipped,
 * and "01" and "1." read as 1. */
Test (robustness, accepted_leniencies)
{
  g_autofree char *bom = data_file ("robust-ok-bom.json");
  g_autoptr (GError) error = NULL;
  cr_assert (load_json (bom, &error));
  afd_assert_no_error (error);
  static const char *const texts[] = { "{\"a\": 01}", "{\"a\": 1.}" };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (cJSON) root = afd_json_parse_text (texts[i], "lenient", AFD_ERROR_CONFIG, &error);
      afd_assert_no_error (error);
      cr_assert_float_eq (cJSON_GetObjectItem (root, "a")->valuedouble, 1.0, 0.0);
    }
}

/* Nesting beyond cJSON's limit (1000) is a syntax error with a position, not a stack overflow. */
Test (robustness, deep_nesting)
{
  g_autofree char *deep = data_file ("robust-deep.json");
  expect_all_refuse (deep, "invalid JSON");
  /* Just inside the limit, the tree parses and a reader refuses it for its content. */
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < 999; i++)
    g_string_append (text, "{\"x\":");
  g_string_append (text, "1");
  for (guint i = 0; i < 999; i++)
    g_string_append_c (text, '}');
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) root = afd_json_parse_text (text->str, "deep", AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  g_autofree char *path = temp_file ("deep-999.json", text->str, text->len);
  expect_all_refuse (path, NULL);
}

/* Numbers beyond double range parse as infinity and are refused as not finite; huge integers
 * are refused with their range. */
Test (robustness, huge_numbers)
{
  g_autofree char *huge = data_file ("robust-gpu-huge-number.json");
  g_autofree char *m1 = expect_refused (&readers[1], huge);
  afd_assert_error_contains (&(GError){ .message = m1 }, "hbm_bytes: must be a finite number");
  g_autofree char *big_int = data_file ("robust-gpu-huge-int.json");
  g_autofree char *m2 = expect_refused (&readers[1], big_int);
  afd_assert_error_contains (&(GError){ .message = m2 }, "sm_count: must be an integer in");
  g_autofree char *neg_zero = data_file ("robust-gpu-negative-zero.json");
  g_autofree char *m3 = expect_refused (&readers[1], neg_zero);
  afd_assert_error_contains (&(GError){ .message = m3 }, "l2_bytes: must be > 0");
}

/* NaN and infinity spellings are not JSON: a syntax error at their position. */
Test (robustness, nan_like_tokens)
{
  static const char *const tokens[] = { "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10",
                                        "+1", ".5", "1e", "--1", "1e999e" };
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"name\": %s}", tokens[i]);
      g_autofree char *path = temp_file ("nan.json", text, strlen (text));
      expect_all_refuse (path, "line 1, column ");
    }
}

/* Fuzz finding: a key that is not UTF-8 used to be copied raw into the message; keys and
 * strings must now be UTF-8, and the message shows the key with U+FFFD. */
Test (robustness, non_utf8_key_and_value)
{
  g_autofree char *key = data_file ("robust-bad-utf8-key.json");
  g_autofree char *m1 = expect_refused (&readers[0], key);
  afd_assert_error_contains (&(GError){ .message = m1 }, "\xef\xbf\xbd(: key is not valid UTF-8");
  g_autofree char *value = data_file ("robust-gpu-bad-utf8-name.json");
  g_autofree char *m2 = expect_refused (&readers[1], value);
  afd_assert_error_contains (&(GError){ .message = m2 }, "name: is not valid UTF-8");
}

/* Control characters in keys (here \n and \u0001) are refused, shown escaped on one line. */
Test (robustness, control_characters_in_key)
{
  g_autofree char *path = data_file ("robust-control-key.json");
  g_autofree char *m = expect_refused (&readers[0], path);
  afd_assert_error_contains (&(GError){ .message = m }, "a\\x0ab\\x01: key must not contain control characters (found \\x0a)");
}

/* A NUL byte makes the file "not a JSON text file" instead of silently cutting it short. */
Test (robustness, nul_byte)
{
  g_autofree char *path = data_file ("robust-nul.json");
  expect_all_refuse (path, "contains a NUL byte");
}

/* An empty file is a syntax error at line 1, column 1. */
Test (robustness, empty_file)
{
  g_autofree char *path = data_file ("robust-empty.json");
  expect_all_refuse (path, "line 1, column 1: invalid JSON (unexpected end)");
}

/* A directory given as a file is an I/O error naming it. */
Test (robustness, directory_as_file)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "dir.json", NULL);
  cr_assert_eq (g_mkdir (path, 0700), 0);
  for (guint r = 0; r < G_N_ELEMENTS (readers); r++)
    {
      g_autoptr (GError) e = NULL;
      cr_assert (!readers[r].load (path, &e));
      afd_assert_error (e, AFD_ERROR, AFD_ERROR_IO);
      afd_assert_error_contains (e, path);
    }
}

/* A file that cannot be read (symlink loop; mode 000 when not root) is an I/O error. */
Test (robustness, unreadable_file)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *loop = g_build_filename (dir, "loop.json", NULL);
  cr_assert_eq (symlink ("loop.json", loop), 0);
  g_autoptr (GError) e = NULL;
  cr_assert (!load_json (loop, &e));
  afd_assert_error (e, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (e, loop);
  for (guint r = 0; r < G_N_ELEMENTS (readers); r++)
    g_free (expect_refused (&readers[r], loop));
  if (geteuid () != 0)
    {
      g_autofree char *locked = g_build_filename (dir, "locked.json", NULL);
      cr_assert (g_file_set_contents (locked, "{}", 2, NULL));
      cr_assert_eq (g_chmod (locked, 0), 0);
      g_autoptr (GError) e2 = NULL;
      cr_assert (!load_json (locked, &e2));
      afd_assert_error (e2, AFD_ERROR, AFD_ERROR_IO);
      afd_assert_error_contains (e2, locked);
    }
}

/* A missing file is an I/O error naming it. */
Test (robustness, missing_file)
{
  for (guint r = 0; r < G_N_ELEMENTS (readers); r++)
    {
      g_autoptr (GError) e = NULL;
      cr_assert (!readers[r].load ("/nonexistent/afd-robust.json", &e));
      afd_assert_error (e, AFD_ERROR, AFD_ERROR_IO);
      afd_assert_error_contains (e, "/nonexistent/afd-robust.json");
    }
}

/* A 100000-character key is named in a short message (cut at 120 characters with "..."); the
 * rest is the reader's list of allowed keys (the GPU file's, some 430 characters, is the
 * longest). */
Test (robustness, very_long_key)
{
  g_autoptr (GString) text = g_string_new ("{\"");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (text, 'k');
  g_string_append (text, "\": 1}");
  g_autofree char *path = temp_file ("long-key.json", text->str, text->len);
  for (guint r = 0; r < G_N_ELEMENTS (readers); r++)
    {
      g_autofree char *m = expect_refused (&readers[r], path);
      cr_assert_lt (strlen (m), strlen (path) + 480, "message of %zu bytes", strlen (m));
    }
  g_autofree char *m = expect_refused (&readers[0], path);
  afd_assert_error_contains (&(GError){ .message = m }, "kkk...: unknown key");
}

/* CLI numbers: overflow, hex, blanks and empty text are usage errors; -0 is zero. */
Test (robustness, cli_numbers)
{
  static const char *const bad[] = { "1e309", "0x10", "", "  5", "5 ", "nan", "inf", "1e-400",
                                     "--5", "5e", "\xff" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
      gint64 iv = 7;
      double dv = 7;
      guint64 bv = 7;
      cr_assert (!afd_cli_parse_int ("--n", bad[i], G_MININT64, G_MAXINT64, &iv, &e1), "int '%s'",
                 bad[i]);
      cr_assert (!afd_cli_parse_double ("--x", bad[i], -G_MAXDOUBLE, G_MAXDOUBLE, &dv, &e2),
                 "double '%s'", bad[i]);
      cr_assert (!afd_cli_parse_bytes ("--b", bad[i], 0, G_MAXUINT64, &bv, &e3), "bytes '%s'",
                 bad[i]);
      afd_assert_error (e1, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error (e2, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error (e3, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error_contains (e1, "--n: ");
      cr_assert (iv == 7 && dv == 7 && bv == 7, "value changed on error for '%s'", bad[i]);
    }
  gint64 zero = 5;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_cli_parse_int ("--n", "-0", 0, 10, &zero, &error));
  cr_assert_eq (zero, 0);
  double dzero = 5;
  cr_assert (afd_cli_parse_double ("--x", "-0", 0, 10, &dzero, &error));
  /* Robustness finding: "-0" used to come back as negative zero and print as "-0". */
  cr_assert (dzero == 0.0 && !signbit (dzero), "-0 is not plain zero");
}

/* Fuzz finding: an empty routing spec (`afdsim run --routing ''`) crashed on a NULL name;
 * it is now a configuration error naming the spec. */
Test (robustness, empty_routing_spec)
{
  static const char *const specs[] = { "", ":", "zipf:", "hot::", "file:", "dirichlet:nan" };
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdRouting) routing = afd_routing_new (specs[i], 8, 2, &error);
      cr_assert_null (routing, "spec '%s' accepted", specs[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      afd_assert_error_contains (error, "routing '");
    }
}

/* Fuzz finding: cluster ids were echoed raw, so a non-UTF-8 link end made a non-UTF-8
 * message; ids must now be UTF-8 without control characters. */
Test (robustness, cluster_id_not_utf8)
{
  g_autofree char *path = data_file ("robust-cluster-bad-utf8-id.json");
  g_autofree char *m = expect_refused (&readers[2], path);
  afd_assert_error_contains (&(GError){ .message = m },
                             "links[6].b: is not valid UTF-8");
}

/* Fuzz finding: a raw line break inside a JSON string (cJSON accepts it) reached a message
 * through "network"; every string of a parsed file must now be free of control characters,
 * escaped or not. */
Test (robustness, control_characters_in_strings)
{
  g_autofree char *path = data_file ("robust-experiment-raw-newline.json");
  g_autofree char *m = expect_refused (&readers[4], path);
  afd_assert_error_contains (&(GError){ .message = m },
                             "network: must not contain control characters (found \\x0a)");
  static const char *const texts[] = { "{\"name\": \"a\\tb\"}", "{\"name\": \"a\\u001bb\"}",
                                       "{\"name\": \"a\x7f\"}" };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (cJSON) root = afd_json_parse_text (texts[i], "t.json", AFD_ERROR_CONFIG, &error);
      cr_assert_null (root, "'%s' accepted", texts[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      afd_assert_error_contains (error, "t.json: name: must not contain control characters");
    }
}

/* "\u0000" in a string would silently cut it short in cJSON ("name\u0000x" read as "name"),
 * so it is refused with its position; an escaped backslash before "u0000" is fine. */
Test (robustness, nul_escape_in_string)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) bad = afd_json_parse_text ("{\"a\": 1,\n \"name\\u0000x\": 2}", "k.json",
                                               AFD_ERROR_CONFIG, &error);
  cr_assert_null (bad);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "k.json: line 2, column 7: \\u0000 (NUL) in a string");
  g_clear_error (&error);
  g_autoptr (cJSON) ok = afd_json_parse_text ("{\"a\": \"\\\\u0000\", \"b\\\"\": 1}", "ok.json",
                                              AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (cJSON_GetObjectItem (ok, "a")->valuestring, "\\u0000");
}

/* Fuzz finding: a resumed sweep output whose id holds bytes that are not UTF-8 was quoted raw;
 * the id is now escaped, so the message is one ASCII line. */
Test (robustness, sweep_resume_bad_id)
{
  g_autoptr (AfdSweep) sweep = afd_sweep_new (afd_strategy_list ());
  g_autoptr (GError) error = NULL;
  cr_assert (afd_sweep_add_axis (sweep, "--batch", "batch", "1,2", &error));
  static const char line[] = "{\"index\": 0, \"id\": \"0123\xb1\"}\n";
  g_autofree char *path = temp_file ("sweep.jsonl", line, sizeof line - 1);
  guint64 done = 99;
  cr_assert (!afd_sweep_resume (sweep, path, &done, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "line 1: holds point 0 with id 0123\\261, but point 0");
  cr_assert (g_utf8_validate (error->message, -1, NULL));
}
