/* SPDX-License-Identifier: MIT */
/* Tests for sim/cli.c: strict number parsing and command lookup. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/data-dir.h"
#include "tests/test-helpers.h"

/* Integers: junk, overflow, negatives outside the range and NaN are rejected; 2e7 is fine. */
Test (cli_parse, int_rejects_bad_text)
{
  static const char *const bad[] = { "", " 1", "1 ", "abc", "12x", "1.5", "nan", "inf",
                                     "99999999999999999999", "-1", "0x10", "1e400", "2.5e0" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 v = 42;
      cr_assert_not (afd_cli_parse_int ("--n", bad[i], 0, G_MAXINT64, &v, &error), "%s", bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error_contains (error, "--n");
      cr_assert_eq (v, 42, "output must be untouched");
    }
  gint64 v = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_cli_parse_int ("--n", "2e7", 0, G_MAXINT64, &v, &error));
  cr_assert_eq (v, 20000000);
  cr_assert (afd_cli_parse_int ("--n", "100000", 0, G_MAXINT64, &v, &error));
  cr_assert_eq (v, 100000);
}

/* Doubles: NaN, infinities, hex and overflow are rejected. */
Test (cli_parse, double_rejects_bad_text)
{
  static const char *const bad[] = { "nan", "NaN", "inf", "-inf", "1e999", "0x1p3", "1.5.2",
                                     "--1", "", "2,5" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      double v = 1;
      cr_assert_not (afd_cli_parse_double ("--x", bad[i], -1e300, 1e300, &v, &error), "%s",
                     bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
    }
  double v = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_cli_parse_double ("--x", "2.5e-3", 0, 1, &v, &error));
  cr_assert_float_eq (v, 2.5e-3, 0);
  cr_assert_not (afd_cli_parse_double ("--x", "-0.5", 0, 1, &v, &error));
}

/* Byte counts take binary suffixes as nccl-tests does. */
Test (cli_parse, bytes_suffixes)
{
  guint64 v = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_cli_parse_bytes ("--bytes", "64K", 0, G_MAXUINT64, &v, &error));
  cr_assert_eq (v, 65536);
  cr_assert (afd_cli_parse_bytes ("--bytes", "1GiB", 0, G_MAXUINT64, &v, &error));
  cr_assert_eq (v, G_GUINT64_CONSTANT (1) << 30);
  cr_assert_not (afd_cli_parse_bytes ("--bytes", "1.5M", 0, G_MAXUINT64, &v, &error));
  g_clear_error (&error);
  cr_assert_not (afd_cli_parse_bytes ("--bytes", "99999999999T", 0, G_MAXUINT64, &v, &error));
}

static int
noop (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  return 0;
}

static const AfdCommand c_run = { "run", "r", noop, "[EXPERIMENT.json]", 1 };
static const AfdCommand c_bench_engine = { "bench engine", "b", noop, NULL, 0 };
static const AfdCommand *const table[] = { &c_run, &c_bench_engine, NULL };

/* Two-word commands match before one-word ones; a bare group word lists its members. */
Test (cli_parse, finds_commands)
{
  int words = 0;
  g_autoptr (GError) error = NULL;
  char *a1[] = { (char *) "bench", (char *) "engine", (char *) "--json" };
  cr_assert_eq (afd_cli_find (table, 3, a1, &words, &error), &c_bench_engine);
  cr_assert_eq (words, 2);
  char *a2[] = { (char *) "run", (char *) "x.json" };
  cr_assert_eq (afd_cli_find (table, 2, a2, &words, &error), &c_run);
  cr_assert_eq (words, 1);
  char *a3[] = { (char *) "bench" };
  cr_assert_null (afd_cli_find (table, 1, a3, &words, &error));
  afd_assert_error_contains (error, "'bench engine'");
  g_clear_error (&error);
  char *a4[] = { (char *) "frobnicate" };
  cr_assert_null (afd_cli_find (table, 1, a4, &words, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
}

/* Command names match in any case; a typo suggests the nearest (issue 13). */
Test (cli_parse, finds_commands_in_any_case_and_suggests)
{
  int words = 0;
  g_autoptr (GError) error = NULL;
  char *a1[] = { (char *) "BENCH", (char *) "Engine" };
  cr_assert_eq (afd_cli_find (table, 2, a1, &words, &error), &c_bench_engine);
  char *a2[] = { (char *) "Run" };
  cr_assert_eq (afd_cli_find (table, 1, a2, &words, &error), &c_run);
  char *a3[] = { (char *) "rnu" };
  cr_assert_null (afd_cli_find (table, 1, a3, &words, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
  afd_assert_error_contains (error, "did you mean run?");
}

/* Suggestions: nearest first, case-insensitive, at most three, none when nothing is near.
 * "h800" -> H800 (distance 0 ignoring case), H200 and H100 (1 edit) before H20 (2 edits);
 * the list is cut at three. */
Test (cli_parse, did_you_mean_nearest_first)
{
  static const char *const gpus[] = { "A100-SXM4-80GB", "H20", "H100", "H200", "H800", NULL };
  g_autofree char *a = afd_data_did_you_mean (gpus, "h800");
  cr_assert_str_eq (a, "did you mean H800, H100, H200?");
  static const char *const clusters[] = { "a100-4x4-hdr", "dgx-a100-x16", "h800-x40", NULL };
  g_autofree char *b = afd_data_did_you_mean (clusters, "h800x40");
  cr_assert_str_eq (b, "did you mean h800-x40?");
  cr_assert_null (afd_data_did_you_mean (clusters, "frobnicate"));
}

/* The command table carries each command's usage and how many positional arguments it takes:
 * afd_cli_parse_command reads them from the entry (one file is fine for run, none for bench
 * engine), and messages name the command. */
Test (cli_parse, command_from_the_table)
{
  g_autoptr (GError) error = NULL;
  char *a1[] = { (char *) "run", (char *) "x.json", NULL };
  int argc = 2;
  char **argv = a1;
  cr_assert (afd_cli_parse_command (&c_run, "s", NULL, &argc, &argv, &error));
  char *a2[] = { (char *) "bench engine", (char *) "x.json", NULL };
  argc = 2;
  argv = a2;
  cr_assert_not (afd_cli_parse_command (&c_bench_engine, "s", NULL, &argc, &argv, &error));
  cr_assert_str_eq (error->message, "bench engine: unexpected argument 'x.json'");
}
