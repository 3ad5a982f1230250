/* SPDX-License-Identifier: MIT */
/*
 * serve-workload.c - request arrivals and lengths for `afdsim serve` (docs/user/serve.md,
 * docs/models/serving.md).
 *
 * Poisson gaps: −ln(1 − U)/λ (inverse transform). Gamma gaps of shape k = 1/CV² and scale
 * θ = 1/(λk) (mean 1/λ, CV as given): Marsaglia & Tsang, "A simple method for generating
 * gamma variables", ACM TOMS 26(3), 2000, with the k < 1 boost X·U^(1/k). Normal draws for the
 * lognormal and Marsaglia-Tsang: Box-Muller (one of the pair used, so the stream position does
 * not depend on parity). Each gap is rounded to ns and accumulated in integer ns, so arrival
 * times do not drift with the sum's floating-point error.
 */
#include "config.h"

#include "sim/serve-workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/random.h"

gboolean
afd_serve_length_parse (const char *what, const char *text, int code, AfdServeLength *out_length,
                        GError **error)
{
  /* Messages show the text escaped (one valid UTF-8 line whatever the bytes). */
  g_autofree char *shown = g_strescape (text, NULL);
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  guint n = g_strv_length (parts);
  AfdServeLength len = { AFD_SERVE_LENGTH_FIXED, 0, 0 };
  const char *kind = n >= 2 ? parts[0] : "fixed";
  guint first = n >= 2 ? 1 : 0, want;
  if (strcmp (kind, "fixed") == 0)
    want = 1;
  else if (strcmp (kind, "uniform") == 0)
    len.kind = AFD_SERVE_LENGTH_UNIFORM, want = 2;
  else if (strcmp (kind, "lognormal") == 0)
    len.kind = AFD_SERVE_LENGTH_LOGNORMAL, want = 2;
  else
    {
      g_autofree char *shown_kind = g_strescape (kind, NULL);
      g_set_error (error, AFD_ERROR, code,
                   "%s '%s': unknown distribution '%s' (fixed:N, uniform:A:B, "
                   "lognormal:MEDIAN:SIGMA or N)", what, shown, shown_kind);
      return FALSE;
    }
  if (n - first != want)
    {
      g_set_error (error, AFD_ERROR, code, "%s '%s': %s takes %u number%s (fixed:N, uniform:A:B, "
                   "lognormal:MEDIAN:SIGMA)", what, shown, kind, want, want == 1 ? "" : "s");
      return FALSE;
    }
  double v[2] = { 0, 0 };
  for (guint i = 0; i < want; i++)
    {
      const char *s = parts[first + i];
      char *end = NULL;
      errno = 0;
      v[i] = g_ascii_strtod (s, &end);
      if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite (v[i]))
        {
          g_autofree char *shown_s = g_strescape (s, NULL);
          g_set_error (error, AFD_ERROR, code, "%s '%s': '%s' is not a number", what, shown,
                       shown_s);
          return FALSE;
        }
    }
  gboolean tokens_ok = v[0] >= 1 && v[0] <= AFD_SERVE_MAX_TOKENS && v[0] == floor (v[0]);
  if (len.kind != AFD_SERVE_LENGTH_LOGNORMAL && !tokens_ok)
    {
      g_set_error (error, AFD_ERROR, code, "%s '%s': %g is not a whole number of tokens in "
                   "[1, %d]", what, shown, v[0], AFD_SERVE_MAX_TOKENS);
      return FALSE;
    }
  if (len.kind == AFD_SERVE_LENGTH_UNIFORM
      && (v[1] < v[0] || v[1] > AFD_SERVE_MAX_TOKENS || v[1] != floor (v[1])))
    {
      g_set_error (error, AFD_ERROR, code, "%s '%s': the upper bound %g must be a whole number "
                   "of tokens in [%g, %d]", what, shown, v[1], v[0], AFD_SERVE_MAX_TOKENS);
      return FALSE;
    }
  if (len.kind == AFD_SERVE_LENGTH_LOGNORMAL
      && (v[0] < 1 || v[0] > AFD_SERVE_MAX_TOKENS || v[1] < 0 || v[1] > 4))
    {
      g_set_error (error, AFD_ERROR, code, "%s '%s': the median must be in [1, %d] tokens and "
                   "sigma in [0, 4]", what, shown, AFD_SERVE_MAX_TOKENS);
      return FALSE;
    }
  len.a = v[0];
  len.b = v[1];
  *out_length = len;
  return TRUE;
}

gboolean
afd_serve_arrival_parse (const char *what, const char *text, int code,
                         AfdServeArrivalKind *out_kind, double *out_cv, GError **error)
{
  if (strcmp (text, "poisson") == 0)
    {
      *out_kind = AFD_SERVE_ARRIVAL_POISSON;
      *out_cv = 1;
      return TRUE;
    }
  if (g_str_has_prefix (text, "gamma:"))
    {
      const char *s = text + 6;
      char *end = NULL;
      errno = 0;
      double cv = g_ascii_strtod (s, &end);
      if (s[0] != '\0' && *end == '\0' && errno == 0 && isfinite (cv) && cv > 0 && cv <= 100)
        {
          *out_kind = AFD_SERVE_ARRIVAL_GAMMA;
          *out_cv = cv;
          return TRUE;
        }
      g_autofree char *shown = g_strescape (text, NULL);
      g_set_error (error, AFD_ERROR, code, "%s '%s': CV must be a number in (0, 100]", what,
                   shown);
      return FALSE;
    }
  g_autofree char *shown = g_strescape (text, NULL);
  g_set_error (error, AFD_ERROR, code, "%s '%s': expected poisson or gamma:CV", what, shown);
  return FALSE;
}

void
afd_serve_length_describe (const AfdServeLength *length, GString *out)
{
  switch (length->kind)
    {
    case AFD_SERVE_LENGTH_FIXED:
      g_string_append_printf (out, "fixed:%g", length->a);
      break;
    case AFD_SERVE_LENGTH_UNIFORM:
      g_string_append_printf (out, "uniform:%g:%g", length->a, length->b);
      break;
    case AFD_SERVE_LENGTH_LOGNORMAL:
      g_string_append_printf (out, "lognormal:%g:%g", length->a, length->b);
      break;
    }
}



static guint32
draw_length (GRand *rng, const AfdServeLength *len)
{
  double v;
  switch (len->kind)
    {
    case AFD_SERVE_LENGTH_UNIFORM:
      return (guint32) g_rand_int_range (rng, (gint32) len->a, (gint32) len->b + 1);
    case AFD_SERVE_LENGTH_LOGNORMAL:
      v = round (exp (log (len->a) + len->b * afd_random_normal (rng)));
      return (guint32) CLAMP (v, 1.0, (double) AFD_SERVE_MAX_TOKENS);
    case AFD_SERVE_LENGTH_FIXED:
    default:
      return (guint32) len->a;
    }
}

GArray *
afd_serve_workload_generate (const AfdServeWorkloadSpec *spec, GError **error)
{
  g_return_val_if_fail (spec->rate_per_s > 0 && spec->n_requests >= 1, NULL);
  g_autoptr (GArray) out
      = g_array_sized_new (FALSE, FALSE, sizeof (AfdServeRequest), spec->n_requests);
  g_autoptr (GRand) arrivals = g_rand_new_with_seed (afd_rng_seed_for (spec->seed, "serve.arrivals"));
  g_autoptr (GRand) prompt = g_rand_new_with_seed (afd_rng_seed_for (spec->seed, "serve.prompt"));
  g_autoptr (GRand) output = g_rand_new_with_seed (afd_rng_seed_for (spec->seed, "serve.output"));
  double k = spec->arrival == AFD_SERVE_ARRIVAL_GAMMA ? 1.0 / (spec->cv * spec->cv) : 1.0;
  AfdTime t_ns = 0;
  for (guint64 i = 0; i < spec->n_requests; i++)
    {
      double gap_s;
      if (spec->arrival == AFD_SERVE_ARRIVAL_GAMMA)
        gap_s = afd_random_gamma (arrivals, k) / (spec->rate_per_s * k);
      else
        gap_s = -log (1.0 - g_rand_double (arrivals)) / spec->rate_per_s;
      if (!(gap_s <= AFD_SERVE_MAX_ARRIVAL_S)
          || t_ns + afd_time_from_seconds (gap_s) > AFD_SERVE_MAX_ARRIVAL_S * 1e9)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "request %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " would arrive "
                       "after %g s: lower the request count or raise the rate", i,
                       spec->n_requests, AFD_SERVE_MAX_ARRIVAL_S);
          return NULL;
        }
      t_ns += afd_time_from_seconds (gap_s);
      AfdServeRequest r = { t_ns, draw_length (prompt, &spec->prompt),
                            draw_length (output, &spec->output) };
      g_array_append_val (out, r);
    }
  return g_steal_pointer (&out);
}

/* Column roles of a trace CSV. */
enum { COL_ARRIVAL = 0, COL_PROMPT, COL_OUTPUT, N_COLS };

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian; H. Hinnant,
 * "chrono-compatible low-level date algorithms", days_from_civil); FALSE for a date that does
 * not exist or lies outside 1970..9999. */
static gboolean
days_from_civil (int y, int m, int d, gint64 *out_days)
{
  static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
    return FALSE;
  gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[m - 1] + (m == 2 && leap ? 1 : 0))
    return FALSE;
  gint64 yy = m <= 2 ? y - 1 : y;
  gint64 era = yy / 400, yoe = yy - era * 400;
  gint64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  *out_days = era * 146097 + doe - 719468;
  return TRUE;
}

/* Parses "YYYY-MM-DD HH:MM:SS[.frac]" (UTC) as whole minutes since 1970, in seconds, and the
 * seconds within the minute; FALSE when malformed. */
static gboolean
parse_timestamp (const char *s, gint64 *out_minute_s, double *out_s)
{
  int y, mo, d, h, mi, n = 0;
  if (strlen (s) < 17 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':'
      || s[16] != ':')
    return FALSE;
  for (guint i = 0; i < 16; i++)
    if (i != 4 && i != 7 && i != 10 && i != 13 && !g_ascii_isdigit (s[i]))
      return FALSE;
  if (sscanf (s, "%4d-%2d-%2d %2d:%2d:%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 17)
    return FALSE;
  const char *sec = s + n;
  char *end = NULL;
  errno = 0;
  double sv = g_ascii_strtod (sec, &end);
  if (end == sec || *end != '\0' || errno != 0 || !(sv >= 0 && sv < 61) || !g_ascii_isdigit (sec[0]))
    return FALSE;
  gint64 days;
  if (h > 23 || mi > 59 || !days_from_civil (y, mo, d, &days))
    return FALSE;
  *out_minute_s = days * 86400 + h * 3600 + mi * 60;
  *out_s = sv;
  return TRUE;
}

static gint
compare_arrival (gconstpointer a, gconstpointer b, gpointer unused)
{
  (void) unused;
  AfdTime x = ((const AfdServeRequest *) a)->arrival_ns, y = ((const AfdServeRequest *) b)->arrival_ns;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Strips the surrounding white space and one pair of double quotes. */
static char *
clean_field (char *f)
{
  g_strstrip (f);
  gsize n = strlen (f);
  if (n >= 2 && f[0] == '"' && f[n - 1] == '"')
    {
      f[n - 1] = '\0';
      f++;
      g_strstrip (f);
    }
  return f;
}

GArray *
afd_serve_workload_load_csv (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!afd_file_read (path, AFD_FILES_INPUT_MAX_BYTES, &text, &len, error))
    return NULL;
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: not a text file (NUL byte)", path);
      return NULL;
    }
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int col[N_COLS] = { -1, -1, -1 };
  gboolean azure = FALSE;
  guint header = 0, n_fields = 0;
  /* The header: the first line that is not blank or a '#' comment. */
  for (; lines[header] != NULL; header++)
    {
      char *l = g_strstrip (lines[header]);
      if (l[0] != '\0' && l[0] != '#')
        break;
    }
  if (lines[header] == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: empty trace (no header row "
                   "arrival_s,prompt_tokens,output_tokens or TIMESTAMP,ContextTokens,"
                   "GeneratedTokens)", path);
      return NULL;
    }
  g_auto (GStrv) names = g_strsplit (lines[header], ",", -1);
  n_fields = g_strv_length (names);
  static const char *const native[N_COLS] = { "arrival_s", "prompt_tokens", "output_tokens" };
  static const char *const az[N_COLS] = { "TIMESTAMP", "ContextTokens", "GeneratedTokens" };
  for (guint i = 0; i < n_fields; i++)
    {
      const char *nm = clean_field (names[i]);
      for (guint c = 0; c < N_COLS; c++)
        {
          gboolean is_native = strcmp (nm, native[c]) == 0, is_az = strcmp (nm, az[c]) == 0;
          if (!is_native && !is_az)
            continue;
          if (col[c] >= 0)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: column '%s' appears "
                           "twice", path, header + 1, nm);
              return NULL;
            }
          col[c] = (int) i;
          if (c == COL_ARRIVAL)
            azure = is_az;
        }
    }
  for (guint c = 0; c < N_COLS; c++)
    if (col[c] < 0)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                     "%s:%u: the header has no column '%s' (expected arrival_s,prompt_tokens,"
                     "output_tokens or the Azure trace's TIMESTAMP,ContextTokens,"
                     "GeneratedTokens)", path, header + 1, azure ? az[c] : native[c]);
        return NULL;
      }
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (AfdServeRequest));
  g_autoptr (GArray) secs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) minutes = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 t0_min = G_MAXINT64;
  for (guint li = header + 1; lines[li] != NULL; li++)
    {
      char *l = g_strstrip (lines[li]);
      if (l[0] == '\0' || l[0] == '#')
        continue;
      g_auto (GStrv) f = g_strsplit (l, ",", -1);
      if (g_strv_length (f) != n_fields)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: %u fields, the header has %u",
                       path, li + 1, g_strv_length (f), n_fields);
          return NULL;
        }
      double at_s = 0;
      gint64 at_min = 0;
      const char *a = clean_field (f[col[COL_ARRIVAL]]);
      if (azure)
        {
          if (!parse_timestamp (a, &at_min, &at_s))
            {
              g_autofree char *shown = g_strescape (a, NULL);
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: column 'TIMESTAMP': '%s' "
                           "is not YYYY-MM-DD HH:MM:SS[.fraction]", path, li + 1, shown);
              return NULL;
            }
        }
      else
        {
          char *end = NULL;
          errno = 0;
          at_s = g_ascii_strtod (a, &end);
          if (a[0] == '\0' || *end != '\0' || errno != 0 || !isfinite (at_s) || at_s < 0
              || at_s > AFD_SERVE_MAX_ARRIVAL_S)
            {
              g_autofree char *shown = g_strescape (a, NULL);
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: column 'arrival_s': '%s' "
                           "is not a number of seconds in [0, 1e9]", path, li + 1, shown);
              return NULL;
            }
        }
      guint32 tok[2];
      for (guint c = COL_PROMPT; c <= COL_OUTPUT; c++)
        {
          const char *s = clean_field (f[col[c]]);
          char *end = NULL;
          errno = 0;
          guint64 v = g_ascii_strtoull (s, &end, 10);
          if (!g_ascii_isdigit (s[0]) || *end != '\0' || errno != 0 || v < 1
              || v > AFD_SERVE_MAX_TOKENS)
            {
              const char *cn = azure ? az[c] : native[c];
              g_autofree char *shown = g_strescape (s, NULL);
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: column '%s': '%s' is not "
                           "a whole number of tokens in [1, %d]", path, li + 1, cn, shown,
                           AFD_SERVE_MAX_TOKENS);
              return NULL;
            }
          tok[c - COL_PROMPT] = (guint32) v;
        }
      if (out->len >= AFD_SERVE_MAX_REQUESTS)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s:%u: more than %d requests", path,
                       li + 1, AFD_SERVE_MAX_REQUESTS);
          return NULL;
        }
      AfdServeRequest r = { 0, tok[0], tok[1] };
      g_array_append_val (out, r);
      g_array_append_val (secs, at_s);
      g_array_append_val (minutes, at_min);
      t0_min = MIN (t0_min, at_min);
    }
  if (out->len == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: the trace has a header but no "
                   "requests", path);
      return NULL;
    }
  /* Azure: whole minutes since the earliest row's minute plus the seconds within the minute,
   * in integer ns (a Unix time in a double would lose the sub-microsecond digits); then
   * relative to the earliest row. */
  AfdTime first_ns = G_MAXINT64;
  for (guint i = 0; i < out->len; i++)
    {
      AfdTime t = afd_time_from_seconds (g_array_index (secs, double, i));
      gint64 span_s = azure ? g_array_index (minutes, gint64, i) - t0_min : 0;
      if (span_s > AFD_SERVE_MAX_ARRIVAL_S)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: column 'TIMESTAMP': the rows span "
                       "more than %g s", path, AFD_SERVE_MAX_ARRIVAL_S);
          return NULL;
        }
      t += span_s * AFD_TIME_NS_PER_S;
      g_array_index (out, AfdServeRequest, i).arrival_ns = t;
      first_ns = MIN (first_ns, t);
    }
  for (guint i = 0; azure && i < out->len; i++)
    {
      AfdTime *t = &g_array_index (out, AfdServeRequest, i).arrival_ns;
      *t -= first_ns;
      if (*t > AFD_SERVE_MAX_ARRIVAL_S * 1e9)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: column 'TIMESTAMP': the rows span "
                       "more than %g s", path, AFD_SERVE_MAX_ARRIVAL_S);
          return NULL;
        }
    }
  gboolean sorted = TRUE;
  for (guint i = 1; i < out->len && sorted; i++)
    sorted = g_array_index (out, AfdServeRequest, i - 1).arrival_ns
             <= g_array_index (out, AfdServeRequest, i).arrival_ns;
  if (!sorted)
    {
      /* g_qsort_with_data is a stable sort (GLib >= 2.32), so equal arrivals keep the file's
       * order. */
      g_qsort_with_data (out->data, (gint) out->len, sizeof (AfdServeRequest),
                         compare_arrival, NULL);
    }
  return g_steal_pointer (&out);
}
