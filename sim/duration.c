/* SPDX-License-Identifier: MIT */
/* duration.c - the one duration parser (see sim/duration.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/duration.h"
#include "sim/error.h"

gboolean
afd_duration_parse (const char *what, const char *text, gboolean bare_seconds, double max_s,
                    int code, AfdTime *out_ns, double *out_s, GError **error)
{
  static const struct {
    const char *unit;
    double ns;
  } units[] = { { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1.0 } };
  g_return_val_if_fail (what != NULL && text != NULL, FALSE);
  if (text[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, code,
                   "%s is empty: give a number with a unit (s, ms, us or ns), e.g. 12.5ms", what);
      return FALSE;
    }
  const char *digits = text + (text[0] == '-' || text[0] == '+');
  if (g_ascii_strncasecmp (digits, "nan", 3) == 0 || g_ascii_strncasecmp (digits, "inf", 3) == 0)
    {
      g_set_error (error, AFD_ERROR, code, "%s is not a finite number", what);
      return FALSE;
    }
  /* The unit is the trailing run of letters. */
  gsize n = strlen (text);
  while (n > 0 && g_ascii_isalpha (text[n - 1]))
    n--;
  const char *unit = text + n;
  double ns_per_unit = 0;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (unit, units[i].unit) == 0)
      ns_per_unit = units[i].ns;
  if (unit[0] == '\0' && bare_seconds)
    ns_per_unit = 1e9;
  else if (unit[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, code, "%s has no unit (s, ms, us or ns), e.g. %sms", what,
                   text);
      return FALSE;
    }
  if (ns_per_unit == 0 && n == 0)
    {
      g_set_error (error, AFD_ERROR, code,
                   "%s is not a duration (a number and a unit s, ms, us or ns)", what);
      return FALSE;
    }
  if (ns_per_unit == 0)
    {
      g_set_error (error, AFD_ERROR, code, "%s has an unknown unit '%s' (s, ms, us or ns)", what,
                   unit);
      return FALSE;
    }
  g_autofree char *number = g_strndup (text, n);
  if (number[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, code, "%s has no number before its unit", what);
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  double v = 0;
  if (!afd_cli_parse_double (what, number, -G_MAXDOUBLE, G_MAXDOUBLE, &v, &local))
    {
      /* The CLI helper's message ("WHAT: 'x' is not a number"), with the caller's code. */
      g_set_error_literal (error, AFD_ERROR, code, local->message);
      return FALSE;
    }
  if (v < 0)
    {
      g_set_error (error, AFD_ERROR, code, "%s is negative (a duration is >= 0)", what);
      return FALSE;
    }
  if (v * ns_per_unit > max_s * 1e9)
    {
      g_set_error (error, AFD_ERROR, code, "%s is too large (at most %g s)", what, max_s);
      return FALSE;
    }
  if (out_ns != NULL)
    *out_ns = (AfdTime) llround (v * ns_per_unit);
  if (out_s != NULL)
    *out_s = v * (ns_per_unit / 1e9);
  return TRUE;
}
