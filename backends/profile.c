/* SPDX-License-Identifier: MIT */
/*
 * profile.c - load a measured GPU profile and price ops from it: the `profile` cost backend.
 *
 * Formulas (docs/user/profile-format.md, "How ops are priced"; checked by tests/test-profile.c):
 *   rate_at(x) = the curve's y, log-log interpolated between measured points; below the first
 *                point y₀·x/x₀ (the time of the smallest point: latency-bound); above the last
 *                point the last y (saturated).
 *   GEMM       in the table of the dtype with the nearest (N, K) = (Nₜ, Kₜ):
 *              tₜ(m) = 2·m·Nₜ·Kₜ / rate_at(m) (the table's own time at m), and
 *              t = max(t_floor, t₀ + (tₜ(m) − t₀)·(n·k)/(Nₜ·Kₜ)): only the part of the time
 *              above the kernel's fixed cost t₀ scales with the weights (at small M a GEMM is
 *              t₀ + weight bytes / bandwidth). t₀ = the intercept of the least-squares line
 *              through (Nₜ·Kₜ, tₜ(smallest M)) over the dtype's tables, clamped to
 *              [0, t_floor] (0 with fewer than two weight sizes); t_floor = the smallest
 *              median time measured in any table of the dtype: no GEMM is priced below the
 *              fastest GEMM kernel ever measured.
 *   grouped    t = f · count · Σₑ GEMM(tokensₑ, n, k) over experts with tokens, f = the median
 *              over the profile's grouped measurements of measured / Σₑ GEMM (1 without).
 *   decode     one curve per batch size: rate_b(context) = achieved KV-read bytes/s; the rate
 *              is log-log interpolated in P = batch·heads_kv between the two measured tables
 *              of the same shape class (kind, rows per KV head, head dims) around the
 *              request's P, and t = kv_bytes / rate.
 *   prefill    t = F / rate_at(2·F), F the causal FLOPs (the table holds full squares).
 *   memory     t = B / rate_at(B/2) (B bytes read + written; the table holds copies of size B/2).
 *   collective t = α + β·size in the size range holding size (α-β per range, from the profile).
 * Out of grid: a lookup whose shape lies outside what was measured (a coordinate more than a
 * factor 2 from the nearest measured one, m or context or P outside the chosen table's range,
 * fp8 priced from bf16 tables, a grouped GEMM with no grouped measurement near it) queues one
 * warning per op shape, naming the op and the nearest measured shape
 * (afd_profile_take_warnings); the price is the same either way.
 * No cJSON pointer outlives afd_profile_load(); lookups are pure.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backends/profile.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/op.h"
#include "sim/types.h"

/* A measured curve: strictly ascending xs, positive ys. */
typedef struct {
  guint n;
  double *x;
  double *y;
} Curve;

typedef struct {
  AfdDtype dtype;
  double n, k;
  Curve rate; /* x = M, y = FLOP/s */
} GemmTable;

typedef enum { KIND_MHA, KIND_GQA, KIND_MLA } AttnKind;
static const char *const attn_kind_names[] = { "mha", "gqa", "mla", NULL };

typedef struct {
  AttnKind kind;
  double heads_q, heads_kv, d_qk, d_v;
  double batch;
  Curve rate; /* x = context tokens, y = KV bytes read per second */
} DecodeTable;

typedef struct {
  double size_min, size_max, alpha_s, beta_s_per_byte;
} Fit;

typedef struct {
  char *op;
  guint gpus;
  char *tier;
  guint n_fits;
  Fit *fits;
} CollTable;

/* The shape a grouped GEMM table measured (for the out-of-grid check). */
typedef struct {
  AfdDtype dtype;
  double experts, n, k;
  double per_expert_min, per_expert_max; /* mean tokens per expert over its points */
} GroupedShape;

struct _AfdProfile {
  char *path;
  char *device_name;
  char *net_transport; /* provenance.nccl_net_transport (calibrate --two-nodes), or NULL */
  GArray *gemm;      /* GemmTable */
  GArray *decode;    /* DecodeTable */
  GArray *prefill;   /* Curve: x = full-square FLOPs, y = FLOP/s */
  Curve memory;      /* x = copy size, y = (read + write) bytes/s */
  GPtrArray *coll;   /* CollTable */
  guint n_grouped;   /* grouped GEMM tables */
  GArray *grouped_ratios; /* measured grouped time / sum-of-GEMMs model, per point (double) */
  double grouped_factor;  /* median of grouped_ratios; 1 without grouped measurements */
  double gemm_fixed_s[AFD_DTYPE_COUNT]; /* t₀ per dtype: fixed cost of one GEMM kernel */
  double gemm_floor_s[AFD_DTYPE_COUNT]; /* smallest measured GEMM time per dtype; 0: none */
  GArray *grouped_shapes; /* GroupedShape: what the grouped GEMM tables measured */
  /* Out-of-grid lookups (the only state op_time changes; prices never depend on it). */
  GMutex warn_lock;
  GHashTable *warned;     /* op shapes already reported (set of strings) */
  GPtrArray *pending;     /* warnings not yet taken (strings) */
};

static void
curve_clear (Curve *c)
{
  g_clear_pointer (&c->x, g_free);
  g_clear_pointer (&c->y, g_free);
  c->n = 0;
}

static void
gemm_table_clear (gpointer p)
{
  curve_clear (&((GemmTable *) p)->rate);
}

static void
decode_table_clear (gpointer p)
{
  curve_clear (&((DecodeTable *) p)->rate);
}

static void
coll_table_free (gpointer p)
{
  CollTable *t = p;
  g_free (t->op);
  g_free (t->tier);
  g_free (t->fits);
  g_free (t);
}

void
afd_profile_free (AfdProfile *profile)
{
  if (profile == NULL)
    return;
  g_free (profile->path);
  g_free (profile->device_name);
  g_free (profile->net_transport);
  g_clear_pointer (&profile->gemm, g_array_unref);
  g_clear_pointer (&profile->decode, g_array_unref);
  g_clear_pointer (&profile->prefill, g_array_unref);
  curve_clear (&profile->memory);
  g_clear_pointer (&profile->coll, g_ptr_array_unref);
  g_clear_pointer (&profile->grouped_ratios, g_array_unref);
  g_clear_pointer (&profile->grouped_shapes, g_array_unref);
  g_clear_pointer (&profile->warned, g_hash_table_unref);
  g_clear_pointer (&profile->pending, g_ptr_array_unref);
  g_mutex_clear (&profile->warn_lock);
  g_free (profile);
}

const char *
afd_profile_get_device_name (const AfdProfile *profile)
{
  return profile->device_name;
}

const char *
afd_profile_get_net_transport (const AfdProfile *profile)
{
  return profile->net_transport;
}

double
afd_profile_get_grouped_factor (const AfdProfile *profile)
{
  return profile->grouped_factor;
}

const char *
afd_profile_get_path (const AfdProfile *profile)
{
  return profile->path;
}

/* ---- loading ---------------------------------------------------------------------------- */

/* Compares two doubles for g_array_sort. */
static gint
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Keys of a measured point besides its x key (the statistics written by calibrate). */
#define STAT_KEYS                                                                       \
  "time_median_s", "time_min_s", "time_p10_s", "time_p90_s", "time_max_s", "repetitions"

/* A table's shape: a whole number in [1, 2^31) (issue #14: n: 0.5 reached the pricing). */
#define AFD_PROFILE_DIM (AFD_JSON_REQUIRED | AFD_JSON_POSITIVE | AFD_JSON_INTEGER)
#define AFD_PROFILE_DIM_MAX 2147483647.0

/* Checks that each of @keys, where present, is a whole number in [1, AFD_PROFILE_DIM_MAX]. */
static gboolean
check_dims (const cJSON *t, const AfdJsonWhere *w, const char *const *keys, GError **error)
{
  for (guint i = 0; keys[i] != NULL; i++)
    {
      gint64 v = 1;
      if (!afd_json_get_int (t, w, keys[i], AFD_JSON_POSITIVE, 1, (gint64) AFD_PROFILE_DIM_MAX,
                             &v, error))
        return FALSE;
    }
  return TRUE;
}

/* Checks that each of @keys, where present, is a non-empty string. */
static gboolean
check_strings (const cJSON *t, const AfdJsonWhere *w, const char *const *keys, GError **error)
{
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *v = NULL;
      if (!afd_json_get_string (t, w, keys[i], AFD_JSON_OPTIONAL, &v, error))
        return FALSE;
    }
  return TRUE;
}

/* Reads the "points" array of @table into @out: x from @x_key, y = work(x, point) / median,
 * where work is the point's @work_key (or x itself when NULL) times @work_scale. */
static gboolean
load_curve (const cJSON *table, const AfdJsonWhere *where, const char *x_key,
            const char *work_key, double work_scale, const char *const *point_keys, Curve *out,
            GError **error)
{
  const cJSON *points = NULL;
  if (!afd_json_get_child (table, where, "points", AFD_JSON_REQUIRED, cJSON_Array, &points, error))
    return FALSE;
  g_autofree char *ppath = afd_json_path (where->path, "points");
  guint n = (guint) cJSON_GetArraySize (points);
  if (n == 0)
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: %s: must hold at least one point",
                   where->file, ppath);
      return FALSE;
    }
  out->n = n;
  out->x = g_new0 (double, n);
  out->y = g_new0 (double, n);
  guint i = 0;
  for (const cJSON *p = points->child; p != NULL; p = p->next, i++)
    {
      g_autofree char *path = afd_json_path_index (ppath, i);
      AfdJsonWhere w = { where->file, path, where->code };
      double x = 0, t = 0, work = 0;
      if (!afd_json_check_object (p, &w, point_keys, error))
        return FALSE;
      /* Every listed key that holds a number must be a finite, non-negative number. */
      for (guint k = 0; point_keys[k] != NULL; k++)
        {
          const cJSON *item = cJSON_GetObjectItemCaseSensitive (p, point_keys[k]);
          double v = 0;
          if (item != NULL && !cJSON_IsArray (item)
              && !afd_json_get_number (p, &w, point_keys[k], AFD_JSON_NONNEGATIVE, &v, error))
            return FALSE;
        }
      if (!afd_json_get_number (p, &w, x_key, AFD_JSON_REQUIRED | AFD_JSON_POSITIVE, &x, error)
          || !afd_json_get_number (p, &w, "time_median_s", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                   &t, error))
        return FALSE;
      if (!afd_time_within_horizon (t))
        {
          g_set_error (error, AFD_ERROR, where->code,
                       "%s: %s.time_median_s: %g s is beyond the simulated-time horizon ("
                       AFD_TIME_HORIZON_TEXT ")", where->file, path, t);
          return FALSE;
        }
      work = x;
      if (work_key != NULL
          && !afd_json_get_number (p, &w, work_key, AFD_JSON_REQUIRED | AFD_JSON_POSITIVE, &work,
                                   error))
        return FALSE;
      if (i > 0 && x <= out->x[i - 1])
        {
          g_set_error (error, AFD_ERROR, where->code,
                       "%s: %s.%s: points must be in strictly ascending %s (%.17g after %.17g)",
                       where->file, path, x_key, x_key, x, out->x[i - 1]);
          return FALSE;
        }
      out->x[i] = x;
      out->y[i] = work * work_scale / t;
    }
  return TRUE;
}

/* Per dtype: the floor (smallest measured median time) and the fixed cost t₀ (intercept of
 * the least-squares line of the smallest-M time against N·K over the dtype's tables, clamped
 * to [0, floor]; 0 when the tables have fewer than two distinct N·K). */
static void
gemm_fit_fixed_cost (AfdProfile *prof)
{
  for (int d = 0; d < AFD_DTYPE_COUNT; d++)
    {
      double sx = 0, sy = 0, sxx = 0, sxy = 0, floor_s = G_MAXDOUBLE, n = 0;
      for (guint i = 0; i < prof->gemm->len; i++)
        {
          const GemmTable *g = &g_array_index (prof->gemm, GemmTable, i);
          if ((int) g->dtype != d)
            continue;
          for (guint j = 0; j < g->rate.n; j++)
            floor_s = MIN (floor_s, 2.0 * g->rate.x[j] * g->n * g->k / g->rate.y[j]);
          /* Fitted in units of 1e6 weight elements to keep the sums well conditioned. */
          double x = g->n * g->k * 1e-6, y = 2.0 * g->rate.x[0] * g->n * g->k / g->rate.y[0];
          sx += x;
          sy += y;
          sxx += x * x;
          sxy += x * y;
          n += 1;
        }
      if (n == 0)
        continue;
      prof->gemm_floor_s[d] = floor_s;
      double det = n * sxx - sx * sx;
      double fixed = 0;
      if (n >= 2 && det > 1e-12 * n * sxx)
        fixed = (sy * sxx - sx * sxy) / det;
      prof->gemm_fixed_s[d] = CLAMP (fixed, 0.0, floor_s);
    }
}

/* Reads the GEMM tables. */
static gboolean
load_gemm (AfdProfile *prof, const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "dtype", "n", "k", "points", NULL };
  static const char *const point_keys[] = { "m", "flop", "flop_per_s", STAT_KEYS, NULL };
  guint i = 0;
  for (const cJSON *t = arr->child; t != NULL; t = t->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("gemm", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      g_autofree char *dtype = NULL;
      GemmTable g = { 0 };
      if (!afd_json_check_object (t, &w, keys, error)
          || !afd_json_get_string (t, &w, "dtype", AFD_JSON_REQUIRED, &dtype, error)
          || !afd_json_get_number (t, &w, "n", AFD_PROFILE_DIM, &g.n, error)
          || !afd_json_get_number (t, &w, "k", AFD_PROFILE_DIM, &g.k, error)
          || !check_dims (t, &w, (const char *const[]) { "n", "k", NULL }, error))
        return FALSE;
      if (!afd_dtype_from_name (dtype, &g.dtype))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s.dtype: unknown dtype '%s'", file,
                       path, dtype);
          return FALSE;
        }
      /* rate = 2·m·n·k / t: work per point is m scaled by 2·n·k. */
      gboolean ok = load_curve (t, &w, "m", NULL, 2.0 * g.n * g.k, point_keys, &g.rate, error);
      g_array_append_val (prof->gemm, g); /* appended even on failure so the curve is freed */
      if (!ok)
        return FALSE;
    }
  gemm_fit_fixed_cost (prof);
  return TRUE;
}

/* Reads the decode attention tables. */
static gboolean
load_decode (AfdProfile *prof, const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "kind",       "dtype",      "heads_q", "heads_kv",
                                      "head_dim_qk", "head_dim_v", "batch",   "points",
                                      NULL };
  static const char *const point_keys[] = { "context", "kv_bytes", "flop",
                                            "kv_bytes_per_s", STAT_KEYS, NULL };
  guint i = 0;
  for (const cJSON *t = arr->child; t != NULL; t = t->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("attention_decode", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      g_autofree char *kind = NULL, *dtype = NULL;
      DecodeTable d = { 0 };
      AfdJsonFlags pos = AFD_JSON_REQUIRED | AFD_JSON_POSITIVE | AFD_JSON_INTEGER;
      if (!afd_json_check_object (t, &w, keys, error)
          || !afd_json_get_string (t, &w, "kind", AFD_JSON_REQUIRED, &kind, error)
          || !afd_json_get_string (t, &w, "dtype", AFD_JSON_OPTIONAL, &dtype, error)
          || !afd_json_get_number (t, &w, "heads_q", pos, &d.heads_q, error)
          || !afd_json_get_number (t, &w, "heads_kv", pos, &d.heads_kv, error)
          || !afd_json_get_number (t, &w, "head_dim_qk", pos, &d.d_qk, error)
          || !afd_json_get_number (t, &w, "head_dim_v", pos, &d.d_v, error)
          || !afd_json_get_number (t, &w, "batch", pos, &d.batch, error)
          || !check_dims (t, &w,
                          (const char *const[]) { "heads_q", "heads_kv", "head_dim_qk",
                                                  "head_dim_v", "batch", NULL },
                          error))
        return FALSE;
      guint k = 0;
      while (attn_kind_names[k] != NULL && strcmp (attn_kind_names[k], kind) != 0)
        k++;
      if (attn_kind_names[k] == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s.kind: unknown attention kind '%s' (mha, gqa, mla)", file, path,
                       kind);
          return FALSE;
        }
      d.kind = (AttnKind) k;
      if (d.heads_kv > d.heads_q)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s.heads_kv: %.17g KV heads exceed %.17g query heads", file, path,
                       d.heads_kv, d.heads_q);
          return FALSE;
        }
      gboolean ok = load_curve (t, &w, "context", "kv_bytes", 1.0, point_keys, &d.rate, error);
      g_array_append_val (prof->decode, d);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Reads the prefill attention tables. */
static gboolean
load_prefill (AfdProfile *prof, const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "kind", "dtype", "heads", "head_dim", "emulation",
                                      "points", NULL };
  static const char *const point_keys[] = { "seq_len", "flop", "flop_per_s", STAT_KEYS, NULL };
  guint i = 0;
  for (const cJSON *t = arr->child; t != NULL; t = t->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("attention_prefill", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      Curve c = { 0 };
      if (!afd_json_check_object (t, &w, keys, error)
          || !check_dims (t, &w, (const char *const[]) { "heads", "head_dim", NULL }, error)
          || !check_strings (t, &w, (const char *const[]) { "kind", "dtype", "emulation", NULL },
                             error))
        return FALSE;
      gboolean ok = load_curve (t, &w, "flop", NULL, 1.0, point_keys, &c, error);
      g_array_append_val (prof->prefill, c);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Validates the grouped GEMM tables (kept as measurements; pricing uses the GEMM tables). */
static gboolean
load_grouped (AfdProfile *prof, const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "dtype", "method", "experts", "n", "k", "distribution",
                                      "points", NULL };
  static const char *const point_keys[] = { "tokens_total", "tokens_max", "tokens_per_expert",
                                            "flop", "flop_per_s", STAT_KEYS, NULL };
  guint i = 0;
  for (const cJSON *t = arr->child; t != NULL; t = t->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("grouped_gemm", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      Curve c = { 0 };
      if (!afd_json_check_object (t, &w, keys, error))
        return FALSE;
      gboolean ok = load_curve (t, &w, "tokens_total", NULL, 1.0, point_keys, &c, error);
      curve_clear (&c);
      if (!ok)
        return FALSE;
      prof->n_grouped++;
      /* Ratio of each measured point to the sum-of-GEMMs model over the GEMM tables. */
      g_autofree char *dtype = NULL;
      double n = 0, k = 0;
      AfdDtype dt = AFD_DTYPE_BF16;
      if (!afd_json_get_string (t, &w, "dtype", AFD_JSON_REQUIRED, &dtype, error)
          || !afd_json_get_number (t, &w, "n", AFD_PROFILE_DIM, &n, error)
          || !afd_json_get_number (t, &w, "k", AFD_PROFILE_DIM, &k, error)
          || !check_dims (t, &w, (const char *const[]) { "n", "k", "experts", NULL }, error)
          || !check_strings (t, &w, (const char *const[]) { "method", "distribution", NULL },
                             error))
        return FALSE;
      if (!afd_dtype_from_name (dtype, &dt))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s.dtype: unknown dtype '%s'", file,
                       path, dtype);
          return FALSE;
        }
      double experts = 0;
      if (!afd_json_get_number (t, &w, "experts", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                &experts, error))
        return FALSE;
      GroupedShape gs = { dt, experts, n, k, G_MAXDOUBLE, 0 };
      guint j = 0;
      for (const cJSON *p = cJSON_GetObjectItem (t, "points")->child; p != NULL; p = p->next, j++)
        {
          double per_expert = cJSON_GetObjectItem (p, "tokens_total")->valuedouble / experts;
          gs.per_expert_min = MIN (gs.per_expert_min, per_expert);
          gs.per_expert_max = MAX (gs.per_expert_max, per_expert);
          const cJSON *tokens = cJSON_GetObjectItemCaseSensitive (p, "tokens_per_expert");
          double sum = 0, one = 0;
          if (!cJSON_IsArray (tokens))
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "%s: %s.points[%u].tokens_per_expert: must be an array of counts",
                           file, path, j);
              return FALSE;
            }
          for (const cJSON *e = tokens->child; e != NULL; e = e->next)
            {
              if (!cJSON_IsNumber (e) || !(e->valuedouble >= 0))
                {
                  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                               "%s: %s.points[%u].tokens_per_expert: counts must be numbers >= 0",
                               file, path, j);
                  return FALSE;
                }
              if (e->valuedouble >= 1 && prof->gemm->len > 0
                  && afd_profile_gemm_time (prof, dt, e->valuedouble, n, k, &one, NULL))
                sum += one;
            }
          double measured = cJSON_GetObjectItem (p, "time_median_s")->valuedouble;
          if (sum > 0)
            g_array_append_val (prof->grouped_ratios, (double){ measured / sum });
        }
      g_array_append_val (prof->grouped_shapes, gs);
    }
  return TRUE;
}

/* Reads the memory-copy table. */
static gboolean
load_memory (AfdProfile *prof, const cJSON *obj, const char *file, GError **error)
{
  static const char *const keys[] = { "method", "bandwidth_counts", "points", NULL };
  static const char *const point_keys[] = { "size_bytes", "bandwidth_bytes_per_s", STAT_KEYS,
                                            NULL };
  AfdJsonWhere w = { file, "memory_copy", AFD_ERROR_CONFIG };
  if (!afd_json_check_object (obj, &w, keys, error))
    return FALSE;
  /* Bytes moved = read + written = 2·size. */
  return load_curve (obj, &w, "size_bytes", NULL, 2.0, point_keys, &prof->memory, error);
}

static const char *const coll_ops[] = { "all_reduce", "all_gather", "reduce_scatter",
                                        "all_to_all", "broadcast",  "send_recv", NULL };

/* Returns nccl-tests' bus-bandwidth factor of @op over @n ranks. */
static double
bus_factor (const char *op, guint n)
{
  if (strcmp (op, "all_reduce") == 0)
    return 2.0 * (n - 1) / n;
  if (strcmp (op, "all_gather") == 0 || strcmp (op, "reduce_scatter") == 0
      || strcmp (op, "all_to_all") == 0)
    return (double) (n - 1) / n;
  return 1.0;
}

/* Reads the collective tables. */
static gboolean
load_collectives (AfdProfile *prof, const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "op", "gpus", "tier", "dtype", "bus_factor", "points",
                                      "fits", NULL };
  static const char *const point_keys[] = { "size_bytes", "algbw_bytes_per_s",
                                            "busbw_bytes_per_s", STAT_KEYS, NULL };
  static const char *const fit_keys[] = { "size_min_bytes", "size_max_bytes", "alpha_s",
                                          "beta_s_per_byte", NULL };
  guint i = 0;
  for (const cJSON *t = arr->child; t != NULL; t = t->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("collectives", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      CollTable *c = g_new0 (CollTable, 1);
      g_ptr_array_add (prof->coll, c);
      gint64 gpus = 0;
      double bus = 1;
      const cJSON *fits = NULL;
      Curve points = { 0 };
      if (!afd_json_check_object (t, &w, keys, error)
          || !afd_json_get_string (t, &w, "op", AFD_JSON_REQUIRED, &c->op, error)
          || !afd_json_get_int (t, &w, "gpus", AFD_JSON_REQUIRED, 1, 1 << 20, &gpus, error)
          || !afd_json_get_string (t, &w, "tier", AFD_JSON_REQUIRED, &c->tier, error)
          || !afd_json_get_child (t, &w, "fits", AFD_JSON_REQUIRED, cJSON_Array, &fits, error)
          || !afd_json_get_number (t, &w, "bus_factor", AFD_JSON_POSITIVE, &bus, error)
          || !check_strings (t, &w, (const char *const[]) { "dtype", NULL }, error))
        return FALSE;
      c->gpus = (guint) gpus;
      if (!g_strv_contains (coll_ops, c->op))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s.op: unknown collective '%s' (all_reduce, all_gather, "
                       "reduce_scatter, all_to_all, broadcast, send_recv)",
                       file, path, c->op);
          return FALSE;
        }
      gboolean ok = load_curve (t, &w, "size_bytes", NULL, 1.0, point_keys, &points, error);
      curve_clear (&points);
      if (!ok)
        return FALSE;
      g_autofree char *fpath = afd_json_path (path, "fits");
      c->n_fits = (guint) cJSON_GetArraySize (fits);
      if (c->n_fits == 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: %s: needs at least one α-β fit (calibrate measures two sizes or more)",
                       file, fpath);
          return FALSE;
        }
      c->fits = g_new0 (Fit, c->n_fits);
      guint j = 0;
      for (const cJSON *f = fits->child; f != NULL; f = f->next, j++)
        {
          g_autofree char *p = afd_json_path_index (fpath, j);
          AfdJsonWhere fw = { file, p, AFD_ERROR_CONFIG };
          Fit *fit = &c->fits[j];
          AfdJsonFlags req = AFD_JSON_REQUIRED;
          if (!afd_json_check_object (f, &fw, fit_keys, error)
              || !afd_json_get_number (f, &fw, "size_min_bytes", req | AFD_JSON_NONNEGATIVE,
                                       &fit->size_min, error)
              || !afd_json_get_number (f, &fw, "size_max_bytes", req | AFD_JSON_POSITIVE,
                                       &fit->size_max, error)
              || !afd_json_get_number (f, &fw, "alpha_s", req, &fit->alpha_s, error)
              || !afd_json_get_number (f, &fw, "beta_s_per_byte", req | AFD_JSON_NONNEGATIVE,
                                       &fit->beta_s_per_byte, error))
            return FALSE;
          if (fit->size_max <= fit->size_min || (j > 0 && fit->size_min < c->fits[j - 1].size_min))
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "%s: %s: size ranges must be non-empty and in ascending order", file,
                           p);
              return FALSE;
            }
          /* A fit must predict a positive time over its own range (α may be < 0). */
          if (fit->alpha_s + fit->beta_s_per_byte * fit->size_min <= 0
              || fit->alpha_s + fit->beta_s_per_byte * fit->size_max <= 0)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "%s: %s: α + β·size must be > 0 over [size_min_bytes, size_max_bytes]",
                           file, p);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Checks the verification records (kept in the file for readers; not used for pricing). */
static gboolean
check_verification (const cJSON *arr, const char *file, GError **error)
{
  static const char *const keys[] = { "op", "shape", "measured_s", "predicted_s", "error_rel",
                                      NULL };
  guint i = 0;
  for (const cJSON *c = arr->child; c != NULL; c = c->next, i++)
    {
      g_autofree char *path = afd_json_path_index ("verification", i);
      AfdJsonWhere w = { file, path, AFD_ERROR_CONFIG };
      double v = 0;
      if (!afd_json_check_object (c, &w, keys, error)
          || !afd_json_get_number (c, &w, "measured_s", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE, &v,
                                   error)
          || !afd_json_get_number (c, &w, "predicted_s", AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                   &v, error))
        return FALSE;
    }
  return TRUE;
}

/* Reads and checks the provenance block. */
static gboolean
load_provenance (AfdProfile *prof, const cJSON *obj, const char *file, GError **error)
{
  static const char *const keys[] = {
    "device_name",     "compute_capability", "sm_count",        "memory_bytes",
    "l2_bytes",        "gpu_count_visible",  "gpus_used",       "driver_version",
    "cuda_runtime_version", "cublas_version", "nccl_version",   "date_utc",
    "command",         "host",               "afdsim_version",  "git_revision",
    "features",        "warmup",             "repetitions",     "quick",
    "timeout_s",       "notes",              "nccl_net_transport", NULL,
  };
  AfdJsonWhere w = { file, "provenance", AFD_ERROR_CONFIG };
  g_autofree char *date = NULL, *command = NULL;
  return afd_json_check_object (obj, &w, keys, error)
         && afd_json_get_string (obj, &w, "device_name", AFD_JSON_REQUIRED, &prof->device_name,
                                 error)
         && afd_json_get_string (obj, &w, "date_utc", AFD_JSON_REQUIRED, &date, error)
         && afd_json_get_string (obj, &w, "command", AFD_JSON_REQUIRED, &command, error)
         && afd_json_get_string (obj, &w, "nccl_net_transport", AFD_JSON_OPTIONAL,
                                 &prof->net_transport, error);
}

AfdProfile *
afd_profile_load (const char *path, GError **error)
{
  static const char *const keys[] = { "format",      "format_version",    "provenance",
                                      "gemm",        "grouped_gemm",      "attention_decode",
                                      "attention_prefill", "memory_copy", "collectives",
                                      "verification", NULL };
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return NULL;
  AfdJsonWhere w = { path, "", AFD_ERROR_CONFIG };
  g_autoptr (AfdProfile) prof = g_new0 (AfdProfile, 1);
  prof->path = g_strdup (path);
  prof->gemm = g_array_new (FALSE, TRUE, sizeof (GemmTable));
  g_array_set_clear_func (prof->gemm, gemm_table_clear);
  prof->decode = g_array_new (FALSE, TRUE, sizeof (DecodeTable));
  g_array_set_clear_func (prof->decode, decode_table_clear);
  prof->prefill = g_array_new (FALSE, TRUE, sizeof (Curve));
  g_array_set_clear_func (prof->prefill, (GDestroyNotify) curve_clear);
  prof->coll = g_ptr_array_new_with_free_func (coll_table_free);
  prof->grouped_ratios = g_array_new (FALSE, FALSE, sizeof (double));
  prof->grouped_factor = 1.0;
  prof->grouped_shapes = g_array_new (FALSE, FALSE, sizeof (GroupedShape));
  g_mutex_init (&prof->warn_lock);
  prof->warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  prof->pending = g_ptr_array_new_with_free_func (g_free);

  g_autofree char *format = NULL;
  gint64 version = 0;
  const cJSON *prov = NULL, *gemm = NULL, *grouped = NULL, *decode = NULL, *prefill = NULL,
              *memory = NULL, *coll = NULL;
  if (!afd_json_check_object (root, &w, keys, error)
      || !afd_json_get_string (root, &w, "format", AFD_JSON_REQUIRED, &format, error))
    return NULL;
  if (strcmp (format, AFD_PROFILE_FORMAT) != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: format: '%s' is not an afdsim profile (expected '%s')", path, format,
                   AFD_PROFILE_FORMAT);
      return NULL;
    }
  if (!afd_json_get_int (root, &w, "format_version", AFD_JSON_REQUIRED, 1, G_MAXINT, &version,
                         error))
    return NULL;
  if (version != AFD_PROFILE_FORMAT_VERSION)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: format_version: %" G_GINT64_FORMAT
                   " is not supported (this afdsim reads version %d)",
                   path, version, AFD_PROFILE_FORMAT_VERSION);
      return NULL;
    }
  if (!afd_json_get_child (root, &w, "provenance", AFD_JSON_REQUIRED, cJSON_Object, &prov, error)
      || !load_provenance (prof, prov, path, error)
      || !afd_json_get_child (root, &w, "gemm", AFD_JSON_OPTIONAL, cJSON_Array, &gemm, error)
      || !afd_json_get_child (root, &w, "grouped_gemm", AFD_JSON_OPTIONAL, cJSON_Array, &grouped,
                              error)
      || !afd_json_get_child (root, &w, "attention_decode", AFD_JSON_OPTIONAL, cJSON_Array,
                              &decode, error)
      || !afd_json_get_child (root, &w, "attention_prefill", AFD_JSON_OPTIONAL, cJSON_Array,
                              &prefill, error)
      || !afd_json_get_child (root, &w, "memory_copy", AFD_JSON_OPTIONAL, cJSON_Object, &memory,
                              error)
      || !afd_json_get_child (root, &w, "collectives", AFD_JSON_OPTIONAL, cJSON_Array, &coll,
                              error))
    return NULL;
  const cJSON *verification = NULL;
  if (!afd_json_get_child (root, &w, "verification", AFD_JSON_OPTIONAL, cJSON_Array,
                           &verification, error)
      || (verification && !check_verification (verification, path, error)))
    return NULL;
  if ((gemm && !load_gemm (prof, gemm, path, error))
      || (grouped && !load_grouped (prof, grouped, path, error))
      || (decode && !load_decode (prof, decode, path, error))
      || (prefill && !load_prefill (prof, prefill, path, error))
      || (memory && !load_memory (prof, memory, path, error))
      || (coll && !load_collectives (prof, coll, path, error)))
    return NULL;
  if (prof->grouped_ratios->len > 0)
    {
      GArray *r = prof->grouped_ratios;
      g_array_sort (r, compare_double);
      guint n = r->len;
      prof->grouped_factor = n % 2 ? g_array_index (r, double, n / 2)
                                   : 0.5 * (g_array_index (r, double, n / 2 - 1)
                                            + g_array_index (r, double, n / 2));
    }
  return g_steal_pointer (&prof);
}

/* ---- lookups ---------------------------------------------------------------------------- */

/* The curve's y at @x: log-log interpolation inside, y₀·x/x₀ below, the last y above. */
static double
rate_at (const Curve *c, double x)
{
  if (x <= c->x[0])
    return c->y[0] * x / c->x[0];
  if (x >= c->x[c->n - 1])
    return c->y[c->n - 1];
  guint i = 1;
  while (c->x[i] < x)
    i++;
  double t = (log (x) - log (c->x[i - 1])) / (log (c->x[i]) - log (c->x[i - 1]));
  return exp (log (c->y[i - 1]) + t * (log (c->y[i]) - log (c->y[i - 1])));
}

/* Squared distance of two positive numbers in log space. */
static double
log_dist2 (double a, double b)
{
  double d = log (a) - log (b);
  return d * d;
}

/* The GEMM table afd_profile_gemm_time() prices (@n, @k) of @dtype from, or NULL. */
static const GemmTable *
nearest_gemm_table (const AfdProfile *profile, AfdDtype dtype, double n, double k)
{
  const GemmTable *best = NULL;
  double best_d = G_MAXDOUBLE;
  for (int pass = 0; pass < 2 && best == NULL; pass++)
    {
      /* Pass 1: fp8 without fp8 tables is priced as bf16 (documented fallback). */
      AfdDtype want = pass == 0 ? dtype : AFD_DTYPE_BF16;
      if (pass == 1 && dtype != AFD_DTYPE_FP8)
        break;
      for (guint i = 0; i < profile->gemm->len; i++)
        {
          const GemmTable *g = &g_array_index (profile->gemm, GemmTable, i);
          if (g->dtype != want)
            continue;
          double d = log_dist2 (n, g->n) + log_dist2 (k, g->k);
          if (d < best_d)
            {
              best_d = d;
              best = g;
            }
        }
    }
  return best;
}

gboolean
afd_profile_gemm_time (const AfdProfile *profile, AfdDtype dtype, double m, double n, double k,
                       double *out_s, GError **error)
{
  g_return_val_if_fail (m >= 1 && n >= 1 && k >= 1, FALSE);
  const GemmTable *best = nearest_gemm_table (profile, dtype, n, k);
  if (best == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "profile %s: no %s GEMM table (calibrate measures bf16, and fp8 on sm_89+)",
                   profile->path, afd_dtype_name (dtype));
      return FALSE;
    }
  double table_s = 2.0 * m * best->n * best->k / rate_at (&best->rate, m);
  double fixed = profile->gemm_fixed_s[best->dtype], floor_s = profile->gemm_floor_s[best->dtype];
  double t = fixed + (table_s - fixed) * (n * k) / (best->n * best->k);
  *out_s = MAX (t, floor_s);
  return TRUE;
}

gboolean
afd_profile_gemm_fixed_cost (const AfdProfile *profile, AfdDtype dtype, double *out_fixed_s,
                             double *out_floor_s)
{
  g_return_val_if_fail (profile != NULL && (int) dtype >= 0 && dtype < AFD_DTYPE_COUNT, FALSE);
  if (profile->gemm_floor_s[dtype] <= 0)
    return FALSE;
  if (out_fixed_s != NULL)
    *out_fixed_s = profile->gemm_fixed_s[dtype];
  if (out_floor_s != NULL)
    *out_floor_s = profile->gemm_floor_s[dtype];
  return TRUE;
}

/* Attention kind of a shape: MLA has one latent KV head wider than V; GQA shares KV heads. */
static AttnKind
attn_kind_of (guint heads_q, guint heads_kv, guint d_qk, guint d_v)
{
  if (heads_kv == 1 && d_qk > d_v && heads_q > 1)
    return KIND_MLA;
  return heads_kv < heads_q ? KIND_GQA : KIND_MHA;
}

/* The decode tables afd_profile_decode_attention_time() prices a shape from: the nearest
 * shape class (@out_best) and the measured P = batch·heads_kv around the request's (@out_lo,
 * @out_hi, equal when the request lies outside them). FALSE when there is no decode table. */
static gboolean
nearest_decode_tables (const AfdProfile *profile, guint heads_q, guint heads_kv,
                       guint head_dim_qk, guint head_dim_v, double batch, double query_tokens,
                       const DecodeTable **out_best, const DecodeTable **out_lo,
                       const DecodeTable **out_hi)
{
  AttnKind kind = attn_kind_of (heads_q, heads_kv, head_dim_qk, head_dim_v);
  double rows = (double) heads_q / heads_kv * MAX (query_tokens, 1.0);
  const DecodeTable *best = NULL;
  double best_d = G_MAXDOUBLE;
  /* The nearest shape: same kind first; any kind as a fallback (pass 1). */
  for (int pass = 0; pass < 2 && best == NULL; pass++)
    for (guint i = 0; i < profile->decode->len; i++)
      {
        const DecodeTable *t = &g_array_index (profile->decode, DecodeTable, i);
        if (pass == 0 && t->kind != kind)
          continue;
        double d = log_dist2 (rows, t->heads_q / t->heads_kv) + log_dist2 (head_dim_qk, t->d_qk);
        if (d < best_d)
          {
            best_d = d;
            best = t;
          }
      }
  if (best == NULL)
    return FALSE;
  /* The emulation runs batch·heads_kv identical problems, so tables of the chosen shape class
   * (kind, query rows per KV head, head dims) are indexed by P = batch·heads_kv, pooling e.g.
   * 8/8 and 32/32 MHA; pick the measured P around the request's: lo <= P <= hi if possible. */
  double problems = MAX (batch, 1.0) * heads_kv;
  const DecodeTable *lo = NULL, *hi = NULL;
  for (guint i = 0; i < profile->decode->len; i++)
    {
      const DecodeTable *t = &g_array_index (profile->decode, DecodeTable, i);
      if (t->kind != best->kind || t->heads_q / t->heads_kv != best->heads_q / best->heads_kv
          || t->d_qk != best->d_qk || t->d_v != best->d_v)
        continue;
      double tp = t->batch * t->heads_kv;
      if (tp <= problems && (lo == NULL || tp > lo->batch * lo->heads_kv))
        lo = t;
      if (tp >= problems && (hi == NULL || tp < hi->batch * hi->heads_kv))
        hi = t;
    }
  *out_best = best;
  *out_lo = lo != NULL ? lo : hi;
  *out_hi = hi != NULL ? hi : lo;
  return TRUE;
}

gboolean
afd_profile_decode_attention_time (const AfdProfile *profile, guint heads_q, guint heads_kv,
                                   guint head_dim_qk, guint head_dim_v, double batch,
                                   double context, double query_tokens, double *out_s,
                                   GError **error)
{
  g_return_val_if_fail (heads_q >= 1 && heads_kv >= 1 && head_dim_qk >= 1 && head_dim_v >= 1,
                        FALSE);
  AttnKind kind = attn_kind_of (heads_q, heads_kv, head_dim_qk, head_dim_v);
  const DecodeTable *best = NULL, *lo = NULL, *hi = NULL;
  if (!nearest_decode_tables (profile, heads_q, heads_kv, head_dim_qk, head_dim_v, batch,
                              query_tokens, &best, &lo, &hi))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "profile %s: no decode attention table (attention_decode)", profile->path);
      return FALSE;
    }
  batch = MAX (batch, 1.0);
  context = MAX (context, 1.0);
  double problems = batch * heads_kv;
  double per_token = kind == KIND_MLA ? head_dim_qk : (double) head_dim_qk + head_dim_v;
  double kv_bytes = batch * heads_kv * context * per_token * 2.0;
  double p_lo = lo->batch * lo->heads_kv, p_hi = hi->batch * hi->heads_kv;
  double r_lo = rate_at (&lo->rate, context), r_hi = rate_at (&hi->rate, context), rate = r_lo;
  if (p_hi > p_lo)
    {
      double f = (log (problems) - log (p_lo)) / (log (p_hi) - log (p_lo));
      rate = exp (log (r_lo) + f * (log (r_hi) - log (r_lo)));
    }
  else if (problems < p_lo)
    rate = r_lo * problems / p_lo; /* fewer problems than measured: the same time */
  *out_s = kv_bytes / rate;
  return TRUE;
}

gboolean
afd_profile_prefill_attention_time (const AfdProfile *profile, double causal_flop,
                                    double *out_s, GError **error)
{
  if (profile->prefill->len == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "profile %s: no prefill attention table (attention_prefill)", profile->path);
      return FALSE;
    }
  if (causal_flop <= 0)
    {
      *out_s = 0.0;
      return TRUE;
    }
  const Curve *c = &g_array_index (profile->prefill, Curve, 0);
  *out_s = causal_flop / rate_at (c, 2.0 * causal_flop);
  return TRUE;
}

gboolean
afd_profile_memory_time (const AfdProfile *profile, double bytes, double *out_s, GError **error)
{
  if (profile->memory.n == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "profile %s: no memory-copy table (memory_copy)", profile->path);
      return FALSE;
    }
  if (bytes <= 0)
    {
      *out_s = 0.0;
      return TRUE;
    }
  *out_s = bytes / rate_at (&profile->memory, bytes / 2.0);
  return TRUE;
}

gboolean
afd_profile_collective_time (const AfdProfile *profile, const char *op, guint gpus,
                             double size_bytes, double *out_s, GError **error)
{
  g_return_val_if_fail (gpus >= 2, FALSE);
  const CollTable *best = NULL;
  double best_d = G_MAXDOUBLE;
  for (guint i = 0; i < profile->coll->len; i++)
    {
      const CollTable *t = profile->coll->pdata[i];
      if (strcmp (t->op, op) != 0)
        continue;
      double d = log_dist2 (gpus, t->gpus);
      if (d < best_d)
        {
          best_d = d;
          best = t;
        }
    }
  if (best == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "profile %s: no %s measurements (calibrate with --gpus 2 or more)",
                   profile->path, op);
      return FALSE;
    }
  if (size_bytes <= 0)
    {
      *out_s = 0.0;
      return TRUE;
    }
  /* A one-rank table (a smoke test) has bus factor 0 for some ops: no scaling then. */
  double table_factor = bus_factor (op, best->gpus);
  double beta_scale = table_factor > 0 ? bus_factor (op, gpus) / table_factor : 1.0;
  const Fit *f = &best->fits[0];
  double s = size_bytes;
  if (s < f->size_min)
    s = f->size_min; /* below the smallest measured size: its (latency-bound) time */
  for (guint j = 0; j < best->n_fits; j++)
    {
      f = &best->fits[j];
      if (s <= f->size_max)
        break;
    }
  *out_s = f->alpha_s + f->beta_s_per_byte * beta_scale * s;
  if (*out_s <= 0)
    *out_s = f->alpha_s + f->beta_s_per_byte * beta_scale * f->size_min;
  return TRUE;
}

/* ---- out-of-grid lookups ---------------------------------------------------------------- */

/* A coordinate counts as measured within a factor of 2 of the nearest measured value. */
#define GRID_FACTOR 2.0

static gboolean
near (double x, double measured)
{
  return x <= measured * GRID_FACTOR && x * GRID_FACTOR >= measured;
}

/* Queues one warning for @shape unless that shape was reported already; @detail (may be
 * "") describes the first lookup of the shape and is not part of the key. */
static void
warn_once (AfdProfile *p, const char *shape, const char *detail, const char *nearest)
{
  g_mutex_lock (&p->warn_lock);
  if (!g_hash_table_contains (p->warned, shape))
    {
      g_hash_table_add (p->warned, g_strdup (shape));
      g_ptr_array_add (p->pending,
                       g_strdup_printf ("profile %s: %s%s is outside the measured grid; nearest "
                                        "measured: %s",
                                        p->path, shape, detail, nearest));
    }
  g_mutex_unlock (&p->warn_lock);
}

/* Checks one GEMM lookup (m×n×k of @dtype) against the table that prices it. */
static void
check_gemm (AfdProfile *p, const char *what, AfdDtype dtype, double m, double n, double k)
{
  const GemmTable *t = nearest_gemm_table (p, dtype, n, k);
  if (t == NULL)
    return; /* the lookup itself fails with an error */
  const Curve *c = &t->rate;
  if (t->dtype == dtype && m >= c->x[0] && m <= c->x[c->n - 1] && near (n, t->n)
      && near (k, t->k))
    return;
  g_autofree char *shape
      = g_strdup_printf ("%s %s m=%.0f n=%.0f k=%.0f", what, afd_dtype_name (dtype), m, n, k);
  g_autofree char *nearest = g_strdup_printf ("%s GEMM n=%.0f k=%.0f, m=%.0f..%.0f",
                                              afd_dtype_name (t->dtype), t->n, t->k, c->x[0],
                                              c->x[c->n - 1]);
  warn_once (p, shape, "", nearest);
}

/* Checks a grouped GEMM against the grouped measurements: a table of the dtype with experts,
 * n and k within GRID_FACTOR and the mean tokens per expert inside its measured range. */
static void
check_grouped (AfdProfile *p, const AfdOp *op)
{
  double total = 0, lo = G_MAXDOUBLE, hi = 0;
  for (guint e = 0; e < op->n_experts; e++)
    if (op->expert_tokens[e] > 0)
      {
        total += (double) op->expert_tokens[e];
        lo = MIN (lo, (double) op->expert_tokens[e]);
        hi = MAX (hi, (double) op->expert_tokens[e]);
      }
  if (total <= 0)
    return;
  const double n = (double) op->gemm.n, k = (double) op->gemm.k, experts = op->n_experts;
  const double mean = total / experts;
  /* Each expert's GEMM is a GEMM-table lookup (m = its tokens). */
  const GemmTable *t = nearest_gemm_table (p, op->dtype, n, k);
  if (t == NULL)
    return; /* the lookup itself fails with an error */
  gboolean gemm_ok = t->dtype == op->dtype && lo >= t->rate.x[0]
                     && hi <= t->rate.x[t->rate.n - 1] && near (n, t->n) && near (k, t->k);
  const GroupedShape *best = NULL;
  double best_d = G_MAXDOUBLE;
  for (guint i = 0; i < p->grouped_shapes->len; i++)
    {
      const GroupedShape *g = &g_array_index (p->grouped_shapes, GroupedShape, i);
      double d = log_dist2 (experts, g->experts) + log_dist2 (n, g->n) + log_dist2 (k, g->k)
                 + (g->dtype == op->dtype ? 0 : 100);
      if (d < best_d)
        {
          best_d = d;
          best = g;
        }
    }
  if (gemm_ok && best != NULL && best->dtype == op->dtype && near (experts, best->experts)
      && near (n, best->n) && near (k, best->k) && mean >= best->per_expert_min
      && mean <= best->per_expert_max)
    return;
  /* Keyed by experts×n×k: per-expert counts change from one iteration to the next. */
  g_autofree char *shape
      = g_strdup_printf ("%s %s %.0f experts n=%.0f k=%.0f", afd_op_kind_name (op->kind),
                         afd_dtype_name (op->dtype), experts, n, k);
  g_autofree char *detail
      = g_strdup_printf (" (first at %.4g tokens per expert, %.0f..%.0f)", mean, lo, hi);
  g_autofree char *grouped
      = best == NULL ? g_strdup ("no grouped GEMM measurement")
                     : g_strdup_printf ("%s grouped GEMM of %.0f experts n=%.0f k=%.0f, "
                                        "%.4g..%.4g tokens per expert",
                                        afd_dtype_name (best->dtype), best->experts, best->n,
                                        best->k, best->per_expert_min, best->per_expert_max);
  g_autofree char *nearest
      = g_strdup_printf ("%s; per expert the %s GEMM n=%.0f k=%.0f, m=%.0f..%.0f", grouped,
                         afd_dtype_name (t->dtype), t->n, t->k, t->rate.x[0],
                         t->rate.x[t->rate.n - 1]);
  warn_once (p, shape, detail, nearest);
}

/* Checks a decode attention lookup: the shape class, P = batch·heads_kv and the context. */
static void
check_decode (AfdProfile *p, const AfdOp *op)
{
  const AfdAttentionShape *a = &op->attention;
  guint kv = MAX (a->n_kv_heads, 1u);
  const DecodeTable *best = NULL, *lo = NULL, *hi = NULL;
  if (!nearest_decode_tables (p, a->n_heads, kv, a->head_dim_qk, a->head_dim_v,
                              (double) a->n_sequences, (double) a->query_tokens, &best, &lo,
                              &hi))
    return;
  double context = (double) (a->context_tokens + a->query_tokens);
  double problems = MAX ((double) a->n_sequences, 1.0) * kv;
  double rows = (double) a->n_heads / kv * MAX ((double) a->query_tokens, 1.0);
  const Curve *c = &best->rate;
  if (best->kind == attn_kind_of (a->n_heads, kv, a->head_dim_qk, a->head_dim_v)
      && near (rows, best->heads_q / best->heads_kv) && near (a->head_dim_qk, best->d_qk)
      && problems >= lo->batch * lo->heads_kv && problems <= hi->batch * hi->heads_kv
      && context >= c->x[0] && context <= c->x[c->n - 1])
    return;
  g_autofree char *shape = g_strdup_printf (
      "%s heads=%u kv_heads=%u d_qk=%u batch=%" G_GUINT64_FORMAT " context=%.0f",
      afd_op_kind_name (op->kind), a->n_heads, kv, a->head_dim_qk, a->n_sequences, context);
  g_autofree char *nearest = g_strdup_printf (
      "%s decode heads=%.0f kv_heads=%.0f d_qk=%.0f, batch x kv_heads %.0f..%.0f, "
      "context %.0f..%.0f",
      attn_kind_names[best->kind], best->heads_q, best->heads_kv, best->d_qk,
      lo->batch * lo->heads_kv, hi->batch * hi->heads_kv, c->x[0], c->x[c->n - 1]);
  warn_once (p, shape, "", nearest);
}

/* Checks a one-curve lookup (prefill FLOPs, copy bytes) at @x. */
static void
check_curve (AfdProfile *p, const char *what, const Curve *c, double x, const char *unit)
{
  if (c->n == 0 || (x >= c->x[0] && x <= c->x[c->n - 1]))
    return;
  g_autofree char *shape = g_strdup_printf ("%s at %.4g %s", what, x, unit);
  g_autofree char *nearest = g_strdup_printf ("%.4g..%.4g %s", c->x[0], c->x[c->n - 1], unit);
  warn_once (p, shape, "", nearest);
}

/* Records a warning when @op's lookup leaves the measured grid (criteria in docs/user/
 * profile-format.md, "Lookups outside the measured grid"). Never changes a price. */
static void
check_grid (AfdProfile *p, const AfdOp *op)
{
  if (op->kind == AFD_OP_ATTENTION_DECODE && op->has_attention)
    check_decode (p, op);
  else if (op->kind == AFD_OP_ATTENTION_PREFILL && op->has_attention)
    {
      const AfdAttentionShape *a = &op->attention;
      double q = (double) a->query_tokens, c = (double) a->context_tokens;
      double flop = 2.0 * (double) a->n_sequences * a->n_heads * q * (c + (q + 1.0) / 2.0)
                    * ((double) a->head_dim_qk + a->head_dim_v);
      if (p->prefill->len > 0 && flop > 0)
        check_curve (p, "attention_prefill (full-square FLOPs)",
                     &g_array_index (p->prefill, Curve, 0), 2.0 * flop, "FLOP");
    }
  else if (op->has_gemm && op->gemm.n > 0 && op->gemm.k > 0)
    {
      if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL)
        check_grouped (p, op);
      else if (op->gemm.m > 0)
        check_gemm (p, afd_op_kind_name (op->kind), op->dtype, (double) op->gemm.m,
                    (double) op->gemm.n, (double) op->gemm.k);
    }
  else if (!afd_op_kind_is_comm (op->kind) && op->bytes_read + op->bytes_written > 0)
    check_curve (p, "memory copy", &p->memory, (op->bytes_read + op->bytes_written) / 2.0,
                 "bytes");
}

guint
afd_profile_take_warnings (AfdProfile *profile, GPtrArray *out)
{
  g_mutex_lock (&profile->warn_lock);
  for (guint i = 0; i < profile->pending->len; i++)
    g_ptr_array_add (out, g_strdup (profile->pending->pdata[i]));
  g_ptr_array_set_size (profile->pending, 0);
  guint n = g_hash_table_size (profile->warned);
  g_mutex_unlock (&profile->warn_lock);
  return n;
}

/* ---- α-β fits --------------------------------------------------------------------------- */

gboolean
afd_profile_fit_alpha_beta (const double *sizes_bytes, const double *times_s, guint n,
                            double *out_alpha_s, double *out_beta_s_per_byte)
{
  /* Weighted least squares with weights 1/tᵢ²: solve the 2×2 normal equations. */
  double sw = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
  for (guint i = 0; i < n; i++)
    {
      double w = 1.0 / (times_s[i] * times_s[i]);
      sw += w;
      sx += w * sizes_bytes[i];
      sxx += w * sizes_bytes[i] * sizes_bytes[i];
      sy += w * times_s[i];
      sxy += w * sizes_bytes[i] * times_s[i];
    }
  double det = sw * sxx - sx * sx;
  if (n < 2 || !(fabs (det) > 1e-300 * sw * sxx) || det == 0.0)
    return FALSE;
  *out_beta_s_per_byte = (sw * sxy - sx * sy) / det;
  *out_alpha_s = (sy - *out_beta_s_per_byte * sx) / sw;
  return TRUE;
}

cJSON *
afd_profile_fits_to_json (const double *sizes_bytes, const double *times_s, guint n)
{
  cJSON *fits = cJSON_CreateArray ();
  for (guint i = 0; i + 1 < n; i++)
    {
      double a = 0, b = 0;
      if (!afd_profile_fit_alpha_beta (sizes_bytes + i, times_s + i, 2, &a, &b))
        continue;
      if (b < 0)
        {
          /* Noise made the larger size faster: a flat segment at the mean time. */
          b = 0;
          a = 0.5 * (times_s[i] + times_s[i + 1]);
        }
      cJSON *f = cJSON_CreateObject ();
      afd_json_add_number (f, "size_min_bytes", sizes_bytes[i]);
      afd_json_add_number (f, "size_max_bytes", sizes_bytes[i + 1]);
      afd_json_add_number (f, "alpha_s", a);
      afd_json_add_number (f, "beta_s_per_byte", b);
      cJSON_AddItemToArray (fits, f);
    }
  return fits;
}

/* ---- the cost backend ------------------------------------------------------------------- */

/* Creates the backend from {"file": PATH}. */
static gpointer
profile_create (const cJSON *params, GError **error)
{
  static const char *const keys[] = { "file", NULL };
  AfdJsonWhere w = { "cost model profile", "", AFD_ERROR_CONFIG };
  g_autofree char *file = NULL;
  if (params == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "cost model profile: needs {\"file\": PROFILE_JSON} (--costs profile:FILE)");
      return NULL;
    }
  if (!afd_json_check_object (params, &w, keys, error)
      || !afd_json_get_string (params, &w, "file", AFD_JSON_REQUIRED, &file, error))
    return NULL;
  /* A shipped name ("H100-SXM") or a path to a JSON file. */
  g_autofree char *path = afd_data_resolve ("topologies/profiles", "profile", file, error);
  if (path == NULL)
    return NULL;
  return afd_profile_load (path, error);
}

static void
profile_destroy (gpointer state)
{
  afd_profile_free (state);
}

/* Maps a communication kind to the profile's collective name; NULL for none. */
static const char *
comm_op_name (AfdOpKind kind)
{
  switch (kind)
    {
    case AFD_OP_COMM_ALL_REDUCE:
      return "all_reduce";
    case AFD_OP_COMM_ALL_GATHER:
      return "all_gather";
    case AFD_OP_COMM_REDUCE_SCATTER:
      return "reduce_scatter";
    case AFD_OP_COMM_ALL_TO_ALL:
    case AFD_OP_COMM_DISPATCH:
    case AFD_OP_COMM_COMBINE:
      return "all_to_all";
    case AFD_OP_COMM_SEND:
    case AFD_OP_COMM_RECV:
      return "send_recv";
    default:
      return NULL;
    }
}

/* Prices one op (formulas at the top of this file). */
static gboolean
profile_op_time (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out_seconds,
                 GError **error)
{
  AfdProfile *p = state;
  check_grid (p, op);
  if (afd_op_kind_is_comm (op->kind))
    {
      const char *name = comm_op_name (op->kind);
      guint gpus = op->kind == AFD_OP_COMM_SEND || op->kind == AFD_OP_COMM_RECV
                       ? 2
                       : MAX (op->comm_group_size, 2u);
      if (name == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "op %s: %s is not priced by profiles",
                       op->name, afd_op_kind_name (op->kind));
          return FALSE;
        }
      if (op->comm_group_size == 1)
        {
          *out_seconds = 0.0;
          return TRUE;
        }
      return afd_profile_collective_time (p, name, gpus, op->comm_bytes, out_seconds, error);
    }
  if (op->kind == AFD_OP_ATTENTION_DECODE && op->has_attention)
    {
      const AfdAttentionShape *a = &op->attention;
      return afd_profile_decode_attention_time (
          p, a->n_heads, MAX (a->n_kv_heads, 1u), a->head_dim_qk, a->head_dim_v,
          (double) a->n_sequences, (double) (a->context_tokens + a->query_tokens),
          (double) a->query_tokens, out_seconds, error);
    }
  if (op->kind == AFD_OP_ATTENTION_PREFILL && op->has_attention)
    {
      const AfdAttentionShape *a = &op->attention;
      /* Causal core: each new token attends to the context and to the new tokens before it. */
      double q = (double) a->query_tokens, c = (double) a->context_tokens;
      double flop = 2.0 * (double) a->n_sequences * a->n_heads * q * (c + (q + 1.0) / 2.0)
                    * ((double) a->head_dim_qk + a->head_dim_v);
      return afd_profile_prefill_attention_time (p, flop, out_seconds, error);
    }
  if (op->has_gemm && op->gemm.n > 0 && op->gemm.k > 0)
    {
      double count = (double) MAX (op->gemm.count, G_GUINT64_CONSTANT (1));
      if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL)
        {
          double total = 0;
          for (guint e = 0; e < op->n_experts; e++)
            {
              double t = 0;
              if (op->expert_tokens[e] == 0)
                continue;
              if (!afd_profile_gemm_time (p, op->dtype, (double) op->expert_tokens[e],
                                          (double) op->gemm.n, (double) op->gemm.k, &t, error))
                return FALSE;
              total += t;
            }
          *out_seconds = count * total * p->grouped_factor;
          return TRUE;
        }
      if (op->gemm.m == 0)
        {
          *out_seconds = 0.0;
          return TRUE;
        }
      double t = 0;
      if (!afd_profile_gemm_time (p, op->dtype, (double) op->gemm.m, (double) op->gemm.n,
                                  (double) op->gemm.k, &t, error))
        return FALSE;
      *out_seconds = count * t;
      return TRUE;
    }
  /* Everything else (norms, elementwise, ops without a shape) is memory-bound. */
  return afd_profile_memory_time (p, op->bytes_read + op->bytes_written, out_seconds, error);
}

/* Writes the profile file and device for the provenance block. */
static void
profile_describe (gpointer state, GString *out)
{
  const AfdProfile *p = state;
  g_string_append_printf (out, "file=%s device=%s gemm_tables=%u decode_tables=%u "
                          "prefill_tables=%u collective_tables=%u grouped_factor=%.4f",
                          p->path, p->device_name, p->gemm->len, p->decode->len,
                          p->prefill->len, p->coll->len, p->grouped_factor);
}

static guint
profile_take_warnings (gpointer state, GPtrArray *out)
{
  return afd_profile_take_warnings (state, out);
}

const AfdCostModelClass afd_cost_model_profile_class = {
  .name = "profile",
  .summary = "measured profile (afdsim calibrate): log-log interpolation of achieved rates in "
             "shape; α-β per collective and size range",
  .probe = NULL,
  .create = profile_create,
  .destroy = profile_destroy,
  .op_time = profile_op_time,
  .describe = profile_describe,
  .take_warnings = profile_take_warnings,
};
