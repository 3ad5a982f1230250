/* SPDX-License-Identifier: MIT */
/* fault.c - fault specs and the inputs they derive (see sim/fault.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/duration.h"
#include "sim/error.h"
#include "sim/fault.h"
#include "sim/json.h"

void
afd_fault_free (AfdFault *self)
{
  if (self == NULL)
    return;
  g_free (self->spec);
  g_free (self->vertex_a);
  g_free (self->vertex_b);
  g_free (self);
}

/* Strict decimal unsigned integer (no sign, no spaces, no hex). */
static gboolean
parse_uint (const char *text, guint max, guint *out)
{
  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  char *end = NULL;
  errno = 0;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/* Strict finite decimal number (digits first; no hex, inf or nan). */
static gboolean
parse_number (const char *text, double *out)
{
  if (text == NULL || !(g_ascii_isdigit (text[0]) || text[0] == '.'))
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!(g_ascii_isdigit (*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '-' || *p == '+'))
      return FALSE;
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (text, &end);
  if (errno != 0 || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

/* A finite decimal number, signed (ranges are checked by the caller, with the value shown). */
static gboolean
parse_value (const char *text, double *out)
{
  if (text != NULL && (text[0] == '-' || text[0] == '+'))
    {
      double v;
      if (!parse_number (text + 1, &v))
        return FALSE;
      *out = text[0] == '-' ? -v : v;
      return TRUE;
    }
  return parse_number (text, out);
}

/* A vertex id: non-empty, no ':', '@', '/' or control characters. */
static gboolean
valid_id (const char *id)
{
  if (id == NULL || id[0] == '\0' || !g_utf8_validate (id, -1, NULL))
    return FALSE;
  for (const char *p = id; *p; p++)
    if (*p == ':' || *p == '@' || *p == '/' || (guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static const char syntax[]
    = "gpu:G, link:A/B, link:V, link:A/B:FRACTION, straggler:G:FACTOR, each optionally "
      "followed by @iterN or @t=TIME";

/* Parses @text, the TIME of "@t=TIME" in @spec, with the one duration parser
 * (sim/duration.h: a number and a unit s, ms, us or ns, 0 <= TIME <= AFD_FAULT_MAX_TIME_S,
 * rounded to the nearest nanosecond). Errors carry @code and quote the spec. */
static gboolean
parse_time (const char *spec, const char *text, int code, AfdTime *out_ns, GError **error)
{
  if (text[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, code,
                   "fault '%s': @t= needs a TIME with a unit (s, ms, us or ns), e.g. @t=12.5ms",
                   spec);
      return FALSE;
    }
  g_autofree char *what = g_strdup_printf ("fault '%s': TIME '%s'", spec, text);
  return afd_duration_parse (what, text, FALSE, AFD_FAULT_MAX_TIME_S, code, out_ns, NULL, error);
}

AfdFault *
afd_fault_parse (const char *spec, int code, GError **error)
{
  if (spec == NULL || spec[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, code, "fault '': empty (%s)", syntax);
      return NULL;
    }
  if (!g_utf8_validate (spec, -1, NULL))
    {
      g_set_error (error, AFD_ERROR, code, "fault: the spec is not valid UTF-8");
      return NULL;
    }
  for (const char *p = spec; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error (error, AFD_ERROR, code,
                     "fault: the spec must not contain control characters (found \\x%02x)",
                     (guchar) *p);
        return NULL;
      }
  g_autoptr (AfdFault) f = g_new0 (AfdFault, 1);
  f->spec = g_strdup (spec);
  g_autofree char *body = g_strdup (spec);
  char *at = strchr (body, '@');
  if (at != NULL)
    {
      *at++ = '\0';
      if (g_str_has_prefix (at, "t="))
        {
          if (strchr (at, '@') != NULL)
            {
              g_set_error (error, AFD_ERROR, code,
                           "fault '%s': give one @iterN or @t=TIME, not several", spec);
              return NULL;
            }
          if (!parse_time (spec, at + 2, code, &f->time_ns, error))
            return NULL;
          f->at_time = TRUE;
        }
      else if (!g_str_has_prefix (at, "iter")
          || !parse_uint (at + 4, AFD_FAULT_MAX_ITERATIONS - 1, &f->iteration))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': '@%s' is not @iterN with 0 <= N < %d", spec, at,
                       AFD_FAULT_MAX_ITERATIONS);
          return NULL;
        }
    }
  g_auto (GStrv) parts = g_strsplit (body, ":", 0);
  guint n = g_strv_length (parts);
  if (n >= 2 && strcmp (parts[0], "gpu") == 0)
    {
      f->kind = AFD_FAULT_GPU;
      if (n != 2 || !parse_uint (parts[1], G_MAXINT32, &f->gpu))
        {
          g_set_error (error, AFD_ERROR, code, "fault '%s': expected gpu:G with G a GPU index",
                       spec);
          return NULL;
        }
      return g_steal_pointer (&f);
    }
  if (n >= 2 && strcmp (parts[0], "straggler") == 0)
    {
      f->kind = AFD_FAULT_STRAGGLER;
      if (n != 3 || !parse_uint (parts[1], G_MAXINT32, &f->gpu) || !parse_value (parts[2], &f->factor))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': expected straggler:G:FACTOR with G a GPU index and "
                       "1 < FACTOR <= 1e6",
                       spec);
          return NULL;
        }
      /* The same check, and message, for --fault and a JSON "factor" (issue #14). */
      if (!(f->factor > 1 && f->factor <= 1e6))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': FACTOR must be 1 < FACTOR <= 1e6 (got %.17g; 1 would change "
                       "nothing)",
                       spec, f->factor);
          return NULL;
        }
      return g_steal_pointer (&f);
    }
  if (n >= 2 && strcmp (parts[0], "link") == 0)
    {
      f->kind = AFD_FAULT_LINK;
      f->fraction = 0;
      if (n > 3 || (n == 3 && !parse_value (parts[2], &f->fraction)))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': expected link:A/B or link:V, optionally :FRACTION with "
                       "0 < FRACTION < 1",
                       spec);
          return NULL;
        }
      /* The same check, and message, for --fault and a JSON "fraction" (issue #14). */
      if (n == 3 && !(f->fraction > 0 && f->fraction < 1))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': FRACTION must be 0 < FRACTION < 1 (got %.17g); leave it "
                       "out for a failed link",
                       spec, f->fraction);
          return NULL;
        }
      g_auto (GStrv) ends = g_strsplit (parts[1], "/", 0);
      guint ne = g_strv_length (ends);
      if (ne < 1 || ne > 2 || !valid_id (ends[0]) || (ne == 2 && !valid_id (ends[1])))
        {
          g_set_error (error, AFD_ERROR, code,
                       "fault '%s': '%s' is not a vertex id V or a link A/B", spec, parts[1]);
          return NULL;
        }
      f->vertex_a = g_strdup (ends[0]);
      f->vertex_b = ne == 2 ? g_strdup (ends[1]) : NULL;
      return g_steal_pointer (&f);
    }
  g_set_error (error, AFD_ERROR, code, "fault '%s': unknown kind (%s)", spec, syntax);
  return NULL;
}

AfdFault *
afd_fault_from_json (const cJSON *item, const char *file, const char *path, GError **error)
{
  if (cJSON_IsString (item))
    {
      AfdFault *f = afd_fault_parse (item->valuestring, AFD_ERROR_CONFIG, error);
      if (f == NULL)
        g_prefix_error (error, "%s: %s: ", file, path);
      return f;
    }
  if (!cJSON_IsObject (item))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: %s: must be a fault spec string or an object", file, path);
      return NULL;
    }
  static const char *const keys[] = { "kind",      "gpu",    "link", "fraction",
                                      "factor",    "iteration", "time_s", NULL };
  AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
  g_autofree char *kind = NULL, *link = NULL;
  gint64 gpu = -1, iteration = 0;
  double fraction = -1, factor = -1, time_s = -1;
  if (!afd_json_check_object (item, &w, keys, error)
      || !afd_json_get_string (item, &w, "kind", AFD_JSON_REQUIRED, &kind, error)
      || !afd_json_get_int (item, &w, "gpu", AFD_JSON_OPTIONAL, 0, G_MAXINT32, &gpu, error)
      || !afd_json_get_string (item, &w, "link", AFD_JSON_OPTIONAL, &link, error)
      || !afd_json_get_number (item, &w, "fraction", AFD_JSON_OPTIONAL, &fraction, error)
      || !afd_json_get_number (item, &w, "factor", AFD_JSON_OPTIONAL, &factor, error)
      || !afd_json_get_int (item, &w, "iteration", AFD_JSON_OPTIONAL, 0,
                            AFD_FAULT_MAX_ITERATIONS - 1, &iteration, error)
      || !afd_json_get_number (item, &w, "time_s", AFD_JSON_NONNEGATIVE, &time_s, error))
    return NULL;
  gboolean at_time = cJSON_GetObjectItemCaseSensitive (item, "time_s") != NULL;
  if (at_time && cJSON_GetObjectItemCaseSensitive (item, "iteration") != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: %s: give \"iteration\" or \"time_s\", not both", file, path);
      return NULL;
    }
  if (at_time && time_s > AFD_FAULT_MAX_TIME_S)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: %s.time_s: must be at most %g seconds (got %g)", file, path,
                   AFD_FAULT_MAX_TIME_S, time_s);
      return NULL;
    }
  /* Which keys each kind needs; the rest must be absent. */
  gboolean is_gpu = strcmp (kind, "gpu") == 0, is_link = strcmp (kind, "link") == 0,
           is_straggler = strcmp (kind, "straggler") == 0;
  const char *missing = NULL, *extra = NULL;
  if (!is_gpu && !is_link && !is_straggler)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: %s.kind: '%s' is not gpu, link or straggler", file, path, kind);
      return NULL;
    }
  /* Presence, not value, decides: a negative factor is out of range, not missing. */
  gboolean has_fraction = cJSON_GetObjectItemCaseSensitive (item, "fraction") != NULL,
           has_factor = cJSON_GetObjectItemCaseSensitive (item, "factor") != NULL;
  if ((is_gpu || is_straggler) && gpu < 0)
    missing = "gpu";
  else if (is_link && link == NULL)
    missing = "link";
  else if (is_straggler && !has_factor)
    missing = "factor";
  else if (is_link && gpu >= 0)
    extra = "gpu";
  else if (!is_link && link != NULL)
    extra = "link";
  else if (!is_link && has_fraction)
    extra = "fraction";
  else if (!is_straggler && has_factor)
    extra = "factor";
  if (missing != NULL || extra != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s.%s: %s for kind %s", file, path,
                   missing != NULL ? missing : extra,
                   missing != NULL ? "missing (required)" : "not allowed", kind);
      return NULL;
    }
  g_autoptr (GString) spec = g_string_new (kind);
  if (is_gpu)
    g_string_append_printf (spec, ":%" G_GINT64_FORMAT, gpu);
  else if (is_straggler)
    g_string_append_printf (spec, ":%" G_GINT64_FORMAT ":%.17g", gpu, factor);
  else
    {
      g_string_append_printf (spec, ":%s", link);
      if (has_fraction)
        g_string_append_printf (spec, ":%.17g", fraction);
    }
  if (at_time)
    {
      /* The shortest decimal that reads back as the same double, so the spec stays legible. */
      static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
        if (g_ascii_strtod (g_ascii_formatd (buf, sizeof buf, formats[i], time_s), NULL) == time_s)
          break;
      g_string_append_printf (spec, "@t=%ss", buf);
    }
  else
    g_string_append_printf (spec, "@iter%" G_GINT64_FORMAT, iteration);
  AfdFault *f = afd_fault_parse (spec->str, AFD_ERROR_CONFIG, error);
  if (f == NULL)
    g_prefix_error (error, "%s: %s: ", file, path);
  return f;
}

gboolean
afd_fault_is_failure (const AfdFault *self)
{
  return self->kind == AFD_FAULT_GPU || (self->kind == AFD_FAULT_LINK && self->fraction <= 0);
}

/* The vertex named @id, or G_MAXUINT. */
static guint
find_vertex (const AfdCluster *cluster, const char *id)
{
  for (guint v = 0; v < afd_cluster_vertex_count (cluster); v++)
    if (strcmp (afd_cluster_vertex_name (cluster, v), id) == 0)
      return v;
  return G_MAXUINT;
}

/* Does directed link @k belong to the fault's links? */
static gboolean
link_matches (const AfdLink *k, guint a, guint b)
{
  if (b == G_MAXUINT)
    return k->src == a || k->dst == a;
  return (k->src == a && k->dst == b) || (k->src == b && k->dst == a);
}

gboolean
afd_fault_check (const AfdFault *self, const AfdCluster *cluster, GError **error)
{
  guint n_gpus = afd_cluster_gpu_count (cluster);
  if (self->kind != AFD_FAULT_LINK)
    {
      if (self->gpu >= n_gpus)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "fault '%s': GPU %u does not exist (cluster %s has GPUs 0..%u)",
                       self->spec, self->gpu, afd_cluster_name (cluster), n_gpus - 1);
          return FALSE;
        }
      return TRUE;
    }
  const char *ids[2] = { self->vertex_a, self->vertex_b };
  guint v[2] = { G_MAXUINT, G_MAXUINT };
  for (guint i = 0; i < 2 && ids[i] != NULL; i++)
    {
      v[i] = find_vertex (cluster, ids[i]);
      if (v[i] == G_MAXUINT)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "fault '%s': cluster %s has no vertex '%s' (ids as in `afdsim show "
                       "cluster`, e.g. '%s')",
                       self->spec, afd_cluster_name (cluster), ids[i],
                       afd_cluster_vertex_name (cluster, afd_cluster_vertex_count (cluster) - 1));
          return FALSE;
        }
    }
  for (guint l = 0; l < afd_cluster_link_count (cluster); l++)
    if (link_matches (afd_cluster_link (cluster, l), v[0], v[1]))
      return TRUE;
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "fault '%s': no link between '%s' and '%s'",
               self->spec, self->vertex_a, self->vertex_b);
  return FALSE;
}

/* Fills @scale (per directed link) with the smallest fraction of the link faults that hit the
 * link (1 when none; 0 = failed). With @rejoin (per vertex, nullable) a failure (fraction 0)
 * of a link with an end in @rejoin is left out (the link keeps its other faults' fraction).
 * With @skip_invalid, faults that fail afd_fault_check() are ignored instead of failing. */
static gboolean
link_scales (const AfdCluster *cluster, AfdFault *const *faults, guint n, const guint8 *rejoin,
             gboolean skip_invalid, double *scale, GError **error)
{
  guint nl = afd_cluster_link_count (cluster);
  for (guint l = 0; l < nl; l++)
    scale[l] = 1.0;
  for (guint i = 0; i < n; i++)
    {
      const AfdFault *f = faults[i];
      if (f->kind != AFD_FAULT_LINK)
        continue;
      if (!afd_fault_check (f, cluster, skip_invalid ? NULL : error))
        {
          if (skip_invalid)
            continue;
          return FALSE;
        }
      guint a = find_vertex (cluster, f->vertex_a);
      guint b = f->vertex_b != NULL ? find_vertex (cluster, f->vertex_b) : G_MAXUINT;
      for (guint l = 0; l < nl; l++)
        {
          const AfdLink *k = afd_cluster_link (cluster, l);
          if (!link_matches (k, a, b))
            continue;
          if (f->fraction <= 0 && rejoin != NULL && (rejoin[k->src] || rejoin[k->dst]))
            continue;
          scale[l] = MIN (scale[l], f->fraction);
        }
    }
  return TRUE;
}

/* Marks in @out_outside (per vertex) the vertices outside the main component of the cluster
 * without the links whose @scale is 0: of the connected components (undirected, through any
 * vertex), the one holding the most GPUs, ties to the one holding the lowest GPU index.
 * Returns the number of GPUs outside it. */
static guint
outside_main (const AfdCluster *cluster, const double *scale, guint8 *out_outside)
{
  guint nv = afd_cluster_vertex_count (cluster), ng = afd_cluster_gpu_count (cluster);
  g_autofree guint *comp = g_new (guint, nv);
  g_autofree guint *queue = g_new (guint, nv);
  for (guint v = 0; v < nv; v++)
    comp[v] = G_MAXUINT;
  guint n_comp = 0, best = 0, best_gpus = 0;
  /* GPUs are vertices 0..ng-1, so components are found in the order of their lowest GPU;
   * a strict > keeps the first of equal ones. */
  for (guint s = 0; s < nv; s++)
    {
      if (comp[s] != G_MAXUINT)
        continue;
      guint head = 0, tail = 0, gpus = 0;
      comp[s] = n_comp;
      queue[tail++] = s;
      while (head < tail)
        {
          guint v = queue[head++];
          gpus += v < ng ? 1 : 0;
          guint n_out;
          const guint *out = afd_cluster_out_links (cluster, v, &n_out);
          for (guint k = 0; k < n_out; k++)
            {
              guint w = afd_cluster_link (cluster, out[k])->dst;
              if (scale[out[k]] > 0 && comp[w] == G_MAXUINT)
                {
                  comp[w] = n_comp;
                  queue[tail++] = w;
                }
            }
        }
      if (gpus > best_gpus)
        {
          best = n_comp;
          best_gpus = gpus;
        }
      n_comp++;
    }
  guint cut = 0;
  for (guint v = 0; v < nv; v++)
    {
      out_outside[v] = comp[v] != best;
      cut += v < ng && out_outside[v] ? 1 : 0;
    }
  return cut;
}

guint
afd_fault_cut_off_gpus (const AfdCluster *cluster, AfdFault *const *faults, guint n,
                        guint8 *out_cut)
{
  guint nl = afd_cluster_link_count (cluster), nv = afd_cluster_vertex_count (cluster);
  g_autofree double *scale = g_new (double, MAX (nl, 1u));
  g_autofree guint8 *outside = g_new (guint8, nv);
  link_scales (cluster, faults, n, NULL, TRUE, scale, NULL);
  guint cut = outside_main (cluster, scale, outside);
  memcpy (out_cut, outside, afd_cluster_gpu_count (cluster));
  return cut;
}

AfdCluster *
afd_fault_derive_cluster_full (const AfdCluster *cluster, AfdFault *const *faults, guint n,
                               AfdFaultCutMode mode, GError **error)
{
  guint nl = afd_cluster_link_count (cluster), nv = afd_cluster_vertex_count (cluster);
  g_autofree double *scale = g_new (double, MAX (nl, 1u));
  if (!link_scales (cluster, faults, n, NULL, FALSE, scale, error))
    return NULL;
  if (mode == AFD_FAULT_CUT_FAIL)
    return afd_cluster_copy_with_link_scale (cluster, scale, error);
  g_autofree guint8 *outside = g_new (guint8, nv);
  guint cut = outside_main (cluster, scale, outside);
  if (mode == AFD_FAULT_CUT_EXEMPT)
    return afd_cluster_copy_with_link_scale_full (cluster, scale, outside, error);
  /* AFD_FAULT_CUT_REJOIN: the failures of links with an end outside the main component are
   * left out, so the cut-off parts keep their links to the rest; every GPU is routed. */
  if (cut > 0 && !link_scales (cluster, faults, n, outside, FALSE, scale, error))
    return NULL;
  return afd_cluster_copy_with_link_scale (cluster, scale, error);
}

AfdCluster *
afd_fault_derive_cluster (const AfdCluster *cluster, AfdFault *const *faults, guint n,
                          GError **error)
{
  return afd_fault_derive_cluster_full (cluster, faults, n, AFD_FAULT_CUT_FAIL, error);
}

void
afd_fault_compute_scale (AfdFault *const *faults, guint n, guint n_gpus, double *out_scale)
{
  for (guint g = 0; g < n_gpus; g++)
    out_scale[g] = 1.0;
  for (guint i = 0; i < n; i++)
    if (faults[i]->kind == AFD_FAULT_STRAGGLER && faults[i]->gpu < n_gpus)
      out_scale[faults[i]->gpu] *= faults[i]->factor;
}
