/* SPDX-License-Identifier: MIT */
/* cli.c - strict parsing of command-line numbers (see sim/cli.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/error.h"

/* Rejects leading/trailing white space, which strto* would silently accept. */
static gboolean
check_text (const char *flag, const char *text, GError **error)
{
  if (text[0] == '\0' || g_ascii_isspace (text[0]) || g_ascii_isspace (text[strlen (text) - 1]))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not a number", flag, text);
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_cli_parse_double (const char *flag, const char *text, double min, double max,
                      double *out_value, GError **error)
{
  if (text == NULL)
    return TRUE;
  if (!check_text (flag, text, error))
    return FALSE;
  /* strtod accepts "nan", "inf" and hex floats; only plain decimal numbers are allowed. */
  for (const char *p = text; *p; p++)
    if (!(g_ascii_isdigit (*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not a number", flag, text);
        return FALSE;
      }
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0')
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not a number", flag, text);
      return FALSE;
    }
  if (errno == ERANGE || !isfinite (v))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is out of range", flag, text);
      return FALSE;
    }
  if (v < min || v > max)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: %s is outside [%g, %g]", flag, text,
                   min, max);
      return FALSE;
    }
  /* "-0" is zero; a negative zero would print as "-0" in reports and results. */
  if (v == 0)
    v = 0.0;
  *out_value = v;
  return TRUE;
}

gboolean
afd_cli_parse_int (const char *flag, const char *text, gint64 min, gint64 max, gint64 *out_value,
                   GError **error)
{
  if (text == NULL)
    return TRUE;
  if (!check_text (flag, text, error))
    return FALSE;
  gint64 v;
  if (strpbrk (text, "eE") != NULL)
    {
      /* "2e7" style: go through double, but only exact integers below 2^53 pass. */
      double d = 0;
      if (!afd_cli_parse_double (flag, text, -9007199254740992.0, 9007199254740992.0, &d, error))
        return FALSE;
      if (d != floor (d))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not an integer", flag,
                       text);
          return FALSE;
        }
      v = (gint64) d;
    }
  else
    {
      for (const char *p = text; *p; p++)
        if (!(g_ascii_isdigit (*p) || ((*p == '-' || *p == '+') && p == text)))
          {
            g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not an integer", flag,
                         text);
            return FALSE;
          }
      char *end = NULL;
      errno = 0;
      v = g_ascii_strtoll (text, &end, 10);
      if (end == text || *end != '\0')
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not an integer", flag,
                       text);
          return FALSE;
        }
      if (errno == ERANGE)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is out of range", flag, text);
          return FALSE;
        }
    }
  if (v < min || v > max)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "%s: %s is outside [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", flag, text,
                   min, max);
      return FALSE;
    }
  *out_value = v;
  return TRUE;
}

gboolean
afd_cli_parse_bytes (const char *flag, const char *text, guint64 min, guint64 max,
                     guint64 *out_value, GError **error)
{
  if (text == NULL)
    return TRUE;
  if (!check_text (flag, text, error))
    return FALSE;
  static const struct {
    const char *suffix;
    guint64 scale;
  } suffixes[] = {
    { "TiB", G_GUINT64_CONSTANT (1) << 40 }, { "GiB", G_GUINT64_CONSTANT (1) << 30 },
    { "MiB", G_GUINT64_CONSTANT (1) << 20 }, { "KiB", G_GUINT64_CONSTANT (1) << 10 },
    { "T", G_GUINT64_CONSTANT (1) << 40 },   { "G", G_GUINT64_CONSTANT (1) << 30 },
    { "M", G_GUINT64_CONSTANT (1) << 20 },   { "K", G_GUINT64_CONSTANT (1) << 10 },
    { "B", 1 },
  };
  gsize len = strlen (text);
  guint64 scale = 1;
  g_autofree char *digits = g_strdup (text);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      gsize sl = strlen (suffixes[i].suffix);
      if (len > sl && g_ascii_strcasecmp (text + len - sl, suffixes[i].suffix) == 0)
        {
          scale = suffixes[i].scale;
          digits[len - sl] = '\0';
          break;
        }
    }
  gint64 v = 0;
  g_autoptr (GError) local_error = NULL;
  if (!afd_cli_parse_int (flag, digits, 0, G_MAXINT64, &v, &local_error))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "%s: '%s' is not a byte count (examples: 1024, 64K, 16MiB, 1G)", flag, text);
      return FALSE;
    }
  if ((guint64) v > G_MAXUINT64 / scale)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is out of range", flag, text);
      return FALSE;
    }
  guint64 bytes = (guint64) v * scale;
  if (bytes < min || bytes > max)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "%s: %s is outside [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] bytes", flag,
                   text, min, max);
      return FALSE;
    }
  *out_value = bytes;
  return TRUE;
}
