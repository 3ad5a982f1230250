/* SPDX-License-Identifier: MIT */
/* Tests for sim/duration.c, the one duration parser (fault @t=TIME, roofline --slo/--gap). */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/duration.h"
#include "sim/error.h"
#include "tests/test-helpers.h"

/* Every unit, rounding to the nearest nanosecond, and the exact seconds. */
Test (duration, units_and_rounding)
{
  static const struct {
    const char *text;
    AfdTime ns;
    double s;
  } ok[] = {
    { "12.5ms", 12500000, 0.0125 }, { "1.5s", 1500000000, 1.5 }, { "250us", 250000, 250e-6 },
    { "7ns", 7, 7e-9 },             { "0s", 0, 0 },              { "1e-3s", 1000000, 1e-3 },
    { "0.4ns", 0, 0.4e-9 },         { "0.6ns", 1, 0.6e-9 },      { "+2ms", 2000000, 2e-3 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GError) error = NULL;
      AfdTime ns = -1;
      double s = -1;
      cr_assert (afd_duration_parse ("T", ok[i].text, FALSE, 10, AFD_ERROR_CONFIG, &ns, &s,
                                     &error),
                 "%s", ok[i].text);
      afd_assert_no_error (error);
      cr_assert_eq (ns, ok[i].ns, "%s: %" G_GINT64_FORMAT " ns", ok[i].text, ns);
      cr_assert_float_eq (s, ok[i].s, 1e-18, "%s", ok[i].text);
    }
  /* The old roofline scale factors exactly: 50ms is 50 · 1e-3 s, 15000us 15000 · 1e-6 s. */
  double s = 0;
  cr_assert (afd_duration_parse ("--slo", "50ms", TRUE, 3600, AFD_ERROR_USAGE, NULL, &s, NULL));
  cr_assert (s == 50 * 1e-3);
  cr_assert (afd_duration_parse ("--gap", "15000us", TRUE, 3600, AFD_ERROR_USAGE, NULL, &s, NULL));
  cr_assert (s == 15000 * 1e-6);
}

/* A bare number is seconds only where the caller allows it. */
Test (duration, bare_seconds)
{
  double s = 0;
  AfdTime ns = 0;
  cr_assert (afd_duration_parse ("--slo", "0.05", TRUE, 3600, AFD_ERROR_USAGE, &ns, &s, NULL));
  cr_assert_float_eq (s, 0.05, 1e-18);
  cr_assert_eq (ns, 50000000);
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_duration_parse ("TIME '5'", "5", FALSE, 10, AFD_ERROR_CONFIG, &ns, &s,
                                     &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  cr_assert_str_eq (error->message, "TIME '5' has no unit (s, ms, us or ns), e.g. 5ms");
}

/* Every bad text is refused with the caller's code and one message that starts with @what;
 * the outputs stay untouched. */
Test (duration, rejects_bad_text)
{
  static const struct {
    const char *text, *message;
  } bad[] = {
    { "", "D is empty: give a number with a unit (s, ms, us or ns), e.g. 12.5ms" },
    { "5min", "D has an unknown unit 'min' (s, ms, us or ns)" },
    { "abc", "D is not a duration (a number and a unit s, ms, us or ns)" },
    { "ms", "D has no number before its unit" },
    { "-1ms", "D is negative (a duration is >= 0)" },
    { "nan", "D is not a finite number" },
    { "-infms", "D is not a finite number" },
    { "11s", "D is too large (at most 10 s)" },
    { "10000001us", "D is too large (at most 10 s)" },
    { "1e400s", "D: '1e400' is out of range" },
    { "x5ms", "D: 'x5' is not a number" },
    { "0x10s", "D: '0x10' is not a number" },
    { " 5ms", "D: ' 5' is not a number" },
    { "5 ms", "D: '5 ' is not a number" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      AfdTime ns = 42;
      double s = 42;
      cr_assert_not (afd_duration_parse ("D", bad[i].text, TRUE, 10, AFD_ERROR_USAGE, &ns, &s,
                                         &error),
                     "'%s'", bad[i].text);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      cr_assert_str_eq (error->message, bad[i].message, "'%s'", bad[i].text);
      cr_assert (ns == 42 && s == 42, "'%s' touched the outputs", bad[i].text);
    }
}
