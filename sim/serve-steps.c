/* SPDX-License-Identifier: MIT */
/*
 * serve-steps.c - the step-time cache of one serving pool (docs/models/serving.md).
 *
 * Every grid point is one afd_experiment_run() of the pool's strategy (the same path as
 * `afdsim run`), read back from its summary ("iteration_time_s", "max_memory_bytes",
 * "gpus_used"). Interpolation between the bracketing grid points (b₀ ≤ b ≤ b₁, c₀ ≤ c ≤ c₁):
 *   T(b, c) = Σ wᵢⱼ T(bᵢ, cⱼ),  w = bilinear weights in b and c (linear, not log, spacing)
 * which is exact for any T = α + β·b + γ·c + δ·b·c (weights streamed once a step, per-token
 * and per-attended-token costs); the error against direct simulation is measured by
 * tests/test-serve.c (serve/cache_error_within_2_percent).
 */
#include "config.h"

#include "sim/serve-steps.h"

#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/json.h"
#include "sim/llm.h"

/* Batch and context grids: 1..16, then ⌈16·2^(j/S)⌉ with S = 8 points an octave for decode and
 * S = 16 for prefill, whose GEMMs see b·c rows and so the waves of both axes at once. */
#define BATCH_EXACT 16
#define CONTEXT_EXACT 16
#define MAX_STEPS_PER_OCTAVE 16
#define MAX_BATCH_POINTS (BATCH_EXACT + MAX_STEPS_PER_OCTAVE * 20)
#define MAX_CONTEXT_POINTS (CONTEXT_EXACT + MAX_STEPS_PER_OCTAVE * 22)

static const guint steps_per_octave[2] = { 8, 16 }; /* [prefill] */

struct _AfdServeSteps {
  char *name;
  const AfdPlugins *plugins;
  AfdExperiment *exp;
  guint64 min_batch[2];     /* [prefill] */
  guint64 kv_tokens;
  guint gpus_used;
  double hbm_bytes;
  double kv_bytes_per_token;
  char *description;
  double *grid[2];          /* [prefill][bi * MAX_CONTEXT_POINTS + ci] seconds; NAN: not yet;
                               −1: the runner rejected it */
  GHashTable *exact;        /* "p:b:c" -> double* s: points priced directly */
  guint evaluations;
};

/* The i-th grid point (both axes share the shape: BATCH_EXACT = CONTEXT_EXACT). */
static guint64
grid_point (gboolean prefill, guint i)
{
  if (i < BATCH_EXACT)
    return i + 1;
  return (guint64) ceil (BATCH_EXACT * exp2 ((double) (i - BATCH_EXACT + 1)
                                             / steps_per_octave[prefill ? 1 : 0])
                         - 1e-9);
}

/* The largest i < n with grid_point(i) <= v. */
static guint
grid_index (gboolean prefill, guint n, guint64 v)
{
  guint lo = 0, hi = n - 1;
  while (lo < hi)
    {
      guint mid = (lo + hi + 1) / 2;
      if (grid_point (prefill, mid) <= v)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}

/* One run of the iteration simulator at exactly (@batch, @context); @out_memory_bytes (optional)
 * gets each GPU's memory estimate, in the summary's "gpus" order. */
static gboolean
run_point (AfdServeSteps *self, gboolean prefill, guint64 batch, guint64 context,
           double *out_s, GArray **out_memory_bytes, GError **error)
{
  self->exp->batch = batch;
  self->exp->context_tokens = context;
  self->exp->prefill = prefill;
  self->evaluations++;
  g_autoptr (GArray) metrics = NULL;
  g_autoptr (cJSON) summary
      = afd_experiment_run_typed (self->exp, self->plugins, NULL, &metrics, error);
  if (summary == NULL)
    {
      g_prefix_error (error, "pool %s: %s batch %" G_GUINT64_FORMAT " context %" G_GUINT64_FORMAT
                      ": ", self->name, prefill ? "prefill" : "decode", batch, context);
      return FALSE;
    }
  const cJSON *run = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (summary, "runs"), 0);
  /* The step time and the GPUs used, typed (sim/metrics.h); the per-GPU memory and the
   * description from the run's JSON. */
  const AfdMetrics *m = &g_array_index (metrics, AfdMetrics, 0);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive (run, "strategy_description");
  g_assert (isfinite (m->iteration_time_s));
  *out_s = m->iteration_time_s;
  if (out_memory_bytes != NULL)
    {
      GArray *mem = g_array_new (FALSE, FALSE, sizeof (double));
      const cJSON *gpu;
      cJSON_ArrayForEach (gpu, cJSON_GetObjectItemCaseSensitive (run, "gpus"))
        {
          double b = cJSON_GetNumberValue (cJSON_GetObjectItemCaseSensitive (gpu, "memory_bytes"));
          g_array_append_val (mem, b);
        }
      *out_memory_bytes = mem;
    }
  self->gpus_used = MAX (self->gpus_used, m->gpus_used);
  if (self->description == NULL && cJSON_IsString (d))
    self->description = g_strdup (d->valuestring);
  return TRUE;
}

/* The smallest-batch rule (serve-steps.h). */
static void
pad (const AfdServeSteps *self, gboolean prefill, guint64 *batch, guint64 *context)
{
  guint64 b0 = self->min_batch[prefill ? 1 : 0];
  if (*batch >= b0)
    return;
  if (prefill)
    *context = (*batch * *context + b0 - 1) / b0;
  *batch = b0;
}

gboolean
afd_serve_steps_direct (AfdServeSteps *self, gboolean prefill, guint64 batch, guint64 context,
                        double *out_s, GError **error)
{
  pad (self, prefill, &batch, &context);
  return run_point (self, prefill, batch, context, out_s, NULL, error);
}

/* The grid point (bi, ci), simulated on first use: FALSE with @error when rejected. */
static gboolean
grid_value (AfdServeSteps *self, gboolean prefill, guint bi, guint ci, double *out_s,
            GError **error)
{
  double *slot = &self->grid[prefill ? 1 : 0][bi * MAX_CONTEXT_POINTS + ci];
  if (isnan (*slot))
    {
      g_autoptr (GError) local = NULL;
      double s;
      if (!run_point (self, prefill, grid_point (prefill, bi), grid_point (prefill, ci), &s, NULL,
                      &local))
        {
          *slot = -1;
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      *slot = s;
    }
  if (*slot < 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE, "grid point rejected");
      return FALSE;
    }
  *out_s = *slot;
  return TRUE;
}

gboolean
afd_serve_steps_time (AfdServeSteps *self, gboolean prefill, guint64 batch, guint64 context,
                      AfdTime *out_ns, GError **error)
{
  g_return_val_if_fail (batch >= 1 && context >= 1, FALSE);
  pad (self, prefill, &batch, &context);
  guint bi = grid_index (prefill, MAX_BATCH_POINTS, batch);
  guint ci = grid_index (prefill, MAX_CONTEXT_POINTS, context);
  guint64 b0 = grid_point (prefill, bi), c0 = grid_point (prefill, ci);
  guint bj = b0 == batch || bi + 1 >= MAX_BATCH_POINTS ? bi : bi + 1;
  guint cj = c0 == context || ci + 1 >= MAX_CONTEXT_POINTS ? ci : ci + 1;
  /* A corner below the strategy's smallest batch is never used: pad() lifted batch to it, and
   * the grid point below it is then b0 itself or rejected; take the exact value instead. */
  double v[2][2];
  gboolean ok = TRUE;
  for (guint x = 0; x < 2 && ok; x++)
    for (guint y = 0; y < 2 && ok; y++)
      ok = grid_value (self, prefill, x ? bj : bi, y ? cj : ci, &v[x][y], NULL);
  double s;
  if (ok)
    {
      double b1 = (double) grid_point (prefill, bj), c1 = (double) grid_point (prefill, cj);
      double wb = bj == bi ? 0 : ((double) batch - (double) b0) / (b1 - (double) b0);
      double wc = cj == ci ? 0 : ((double) context - (double) c0) / (c1 - (double) c0);
      s = (1 - wb) * ((1 - wc) * v[0][0] + wc * v[0][1]) + wb * ((1 - wc) * v[1][0] + wc * v[1][1]);
    }
  else
    {
      /* A corner the strategy rejects (too small a batch for its ranks, or over the memory
       * just above the point asked for): price the point itself, once. */
      g_autofree char *key = g_strdup_printf ("%d:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                              prefill, batch, context);
      double *hit = g_hash_table_lookup (self->exact, key);
      if (hit == NULL)
        {
          double e;
          if (!run_point (self, prefill, batch, context, &e, NULL, error))
            return FALSE;
          hit = g_new (double, 1);
          *hit = e;
          g_hash_table_insert (self->exact, g_steal_pointer (&key), hit);
        }
      s = *hit;
    }
  *out_ns = afd_time_from_seconds (s);
  return TRUE;
}

void
afd_serve_steps_free (AfdServeSteps *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_clear_pointer (&self->exp, afd_experiment_free);
  g_free (self->description);
  g_free (self->grid[0]);
  g_free (self->grid[1]);
  g_clear_pointer (&self->exact, g_hash_table_unref);
  g_free (self);
}

AfdServeSteps *
afd_serve_steps_new (const AfdServePoolSpec *spec, const AfdPlugins *plugins, GError **error)
{
  g_autoptr (AfdServeSteps) self = g_new0 (AfdServeSteps, 1);
  self->name = g_strdup (spec->name);
  self->plugins = plugins;
  self->exact = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint p = 0; p < 2; p++)
    {
      self->grid[p] = g_new (double, MAX_BATCH_POINTS * MAX_CONTEXT_POINTS);
      for (guint i = 0; i < MAX_BATCH_POINTS * MAX_CONTEXT_POINTS; i++)
        self->grid[p][i] = NAN;
    }
  AfdExperiment *exp = self->exp = afd_experiment_new ();
  g_free (exp->cluster);
  exp->cluster = g_strdup (spec->cluster);
  g_free (exp->model);
  exp->model = g_strdup (spec->model);
  g_free (exp->costs);
  exp->costs = g_strdup (spec->costs);
  g_free (exp->routing);
  exp->routing = g_strdup (spec->routing);
  exp->network = spec->network;
  exp->seed = spec->seed;
  afd_experiment_add_run (exp, spec->strategy, spec->strategy,
                          spec->options != NULL ? cJSON_Duplicate (spec->options, TRUE) : NULL);

  g_autoptr (AfdCluster) cluster = afd_cluster_load (spec->cluster, error);
  if (cluster == NULL)
    return NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load (spec->model, error);
  if (llm == NULL)
    return NULL;
  self->hbm_bytes = afd_cluster_gpu_spec (cluster)->hbm_bytes;
  self->kv_bytes_per_token = afd_llm_kv_bytes_per_token (llm);

  /* The smallest batch of each phase: the first of 1, 2, 4, … the strategy takes (a small
   * context, so memory does not decide). */
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr (GError) first = NULL;
      guint64 b;
      for (b = 1; b <= 4096; b *= 2)
        {
          g_autoptr (GError) local = NULL;
          double s;
          if (run_point (self, p == 1, b, 16, &s, NULL, &local))
            break;
          if (first == NULL)
            first = g_steal_pointer (&local);
        }
      if (b > 4096)
        {
          g_propagate_error (error, g_steal_pointer (&first));
          return NULL;
        }
      self->min_batch[p] = b;
    }
  /* KV capacity: each GPU's memory at two decode batches b₀ and 2·b₀ gives its bytes per
   * sequence and its fixed part; the pool holds the batch the tightest GPU allows. */
  guint64 b0 = self->min_batch[0];
  double t;
  g_autoptr (GArray) m1 = NULL, m2 = NULL;
  if (!run_point (self, FALSE, b0, AFD_SERVE_KV_PROBE_CONTEXT, &t, &m1, error)
      || !run_point (self, FALSE, 2 * b0, AFD_SERVE_KV_PROBE_CONTEXT, &t, &m2, error))
    return NULL;
  double seqs = INFINITY, fixed = 0;
  for (guint g = 0; g < MIN (m1->len, m2->len); g++)
    {
      double a = g_array_index (m1, double, g), b = g_array_index (m2, double, g);
      double per_seq = (b - a) / (double) b0, fx = a - per_seq * (double) b0;
      if (per_seq <= 0)
        continue;
      double sg = floor ((self->hbm_bytes - fx) / per_seq);
      if (sg < seqs)
        {
          seqs = sg;
          fixed = fx;
        }
    }
  if (isinf (seqs))
    self->kv_tokens = G_MAXUINT64;
  else
    {
      if (seqs < 1)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                       "pool %s: no room for the KV cache of one sequence of %d tokens "
                       "(%.1f GB fixed per GPU, %.1f GB of HBM)", self->name,
                       AFD_SERVE_KV_PROBE_CONTEXT, fixed / 1e9, self->hbm_bytes / 1e9);
          return NULL;
        }
      self->kv_tokens = (guint64) (seqs * AFD_SERVE_KV_PROBE_CONTEXT);
    }
  return g_steal_pointer (&self);
}

guint64
afd_serve_steps_kv_tokens (const AfdServeSteps *self)
{
  return self->kv_tokens;
}

guint
afd_serve_steps_gpus (const AfdServeSteps *self)
{
  return self->gpus_used;
}

guint64
afd_serve_steps_min_batch (const AfdServeSteps *self, gboolean prefill)
{
  return self->min_batch[prefill ? 1 : 0];
}

guint
afd_serve_steps_evaluations (const AfdServeSteps *self)
{
  return self->evaluations;
}

const char *
afd_serve_steps_cluster (const AfdServeSteps *self)
{
  return self->exp->cluster;
}

const char *
afd_serve_steps_description (const AfdServeSteps *self)
{
  return self->description != NULL ? self->description : "";
}

double
afd_serve_steps_kv_bytes_per_token (const AfdServeSteps *self)
{
  return self->kv_bytes_per_token;
}
