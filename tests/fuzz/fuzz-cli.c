/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cli.c - libFuzzer target for the command-line number parsers of sim/cli.c:
 * afd_cli_parse_int, afd_cli_parse_double and afd_cli_parse_bytes.
 *
 * The input (up to its first NUL) is one flag value. Rules checked:
 *   - success gives a value inside [min, max] (finite for doubles);
 *   - failure is AFD_ERROR_USAGE with a message starting "FLAG: ", one line when the value is
 *     (valid UTF-8 values give valid UTF-8 messages);
 *   - the parsers agree: an integer accepted by parse_int is accepted by parse_double with the
 *     same value, and parse_bytes of a plain integer (no suffix) gives the same count.
 */
#include <math.h>

#include "sim/cli.h"
#include "tests/fuzz/fuzz-common.h"

#define FLAG "--fuzz"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* Checks a parser's error against the usage-error rules. */
static void
check_usage_error (const GError *error, const char *text)
{
  fuzz_assert (error != NULL, "parser failed without an error");
  fuzz_assert (g_error_matches (error, AFD_ERROR, AFD_ERROR_USAGE), "not a usage error: %s",
               error->message);
  fuzz_assert (g_str_has_prefix (error->message, FLAG ": "), "message does not start with the "
               "flag: %s", error->message);
  if (fuzz_is_one_line (text))
    fuzz_assert (fuzz_is_one_line (error->message), "message is not one valid UTF-8 line: %s",
                 error->message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);

  static const gint64 int_ranges[][2] = {
    { G_MININT64, G_MAXINT64 },
    { 0, G_MAXINT64 },
    { 1, 1000 },
  };
  gboolean int_ok = FALSE;
  gint64 int_value = 0;
  for (guint i = 0; i < G_N_ELEMENTS (int_ranges); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 v = -12345;
      if (afd_cli_parse_int (FLAG, text, int_ranges[i][0], int_ranges[i][1], &v, &error))
        {
          fuzz_assert (v >= int_ranges[i][0] && v <= int_ranges[i][1], "int out of range");
          if (i == 0)
            {
              int_ok = TRUE;
              int_value = v;
            }
        }
      else
        check_usage_error (error, text);
    }

  static const double double_ranges[][2] = {
    { -G_MAXDOUBLE, G_MAXDOUBLE },
    { 0.0, G_MAXDOUBLE },
    { 0.0, 1.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (double_ranges); i++)
    {
      g_autoptr (GError) error = NULL;
      double v = -1.5;
      if (afd_cli_parse_double (FLAG, text, double_ranges[i][0], double_ranges[i][1], &v, &error))
        {
          fuzz_assert (isfinite (v), "parse_double accepted a non-finite value");
          fuzz_assert (v >= double_ranges[i][0] && v <= double_ranges[i][1], "double out of range");
          /* Integers are numbers too: the two parsers must agree on them. */
          if (i == 0 && int_ok && fabs ((double) int_value) <= 9007199254740992.0)
            fuzz_assert (v == (double) int_value, "parse_int %" G_GINT64_FORMAT " but "
                         "parse_double %.17g for '%s'", int_value, v, text);
        }
      else
        {
          check_usage_error (error, text);
          fuzz_assert (!(i == 0 && int_ok && fabs ((double) int_value) <= 9007199254740992.0),
                       "parse_int accepted '%s' but parse_double refused it: %s", text,
                       error->message);
        }
    }

  static const guint64 byte_ranges[][2] = {
    { 0, G_MAXUINT64 },
    { 1, G_GUINT64_CONSTANT (1) << 40 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (byte_ranges); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 v = 99;
      if (afd_cli_parse_bytes (FLAG, text, byte_ranges[i][0], byte_ranges[i][1], &v, &error))
        {
          fuzz_assert (v >= byte_ranges[i][0] && v <= byte_ranges[i][1], "bytes out of range");
          if (int_ok && int_value >= 0)
            fuzz_assert (v == (guint64) int_value, "parse_bytes %" G_GUINT64_FORMAT " but "
                         "parse_int %" G_GINT64_FORMAT " for '%s'", v, int_value, text);
        }
      else
        {
          check_usage_error (error, text);
          fuzz_assert (!(i == 0 && int_ok && int_value >= 0),
                       "parse_int accepted '%s' but parse_bytes refused it: %s", text,
                       error->message);
        }
    }

  /* NULL means "flag not given": the value stays as it was. */
  gint64 untouched = 5;
  fuzz_assert (afd_cli_parse_int (FLAG, NULL, 0, 1, &untouched, NULL) && untouched == 5,
               "NULL text changed the value");
  return 0;
}
