/* SPDX-License-Identifier: MIT */
/*
 * routing.c - seeded token -> expert routing (uniform, Zipf, hot-K, Dirichlet, file) with
 * top-k without replacement, EPLB-style redundant experts and imbalance statistics.
 *
 * Sampling: each token draws experts from p with an alias table (Walker/Vose) and rejects
 * repeats; accepting the first new expert is exactly successive sampling without
 * replacement (p_e / (1 - Σ p_chosen)). After 64 rejections in a row the draw falls back to
 * a linear scan over the remaining mass, so extreme skews stay fast. Only the caller's GRand
 * is used. Definitions and tests: docs/models/routing.md, tests/test-routing.c.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/routing.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/random.h"

#define MAX_REJECTIONS 64

struct _AfdRouting
{
  AfdRoutingKind kind;
  guint n_experts;
  guint top_k;
  guint n_redundant;
  double alpha; /* Dirichlet concentration */
  double *p;    /* [n_experts] static probabilities (Dirichlet: 1/E) */
};

/* Parses the whole of @text as a finite double. */
static gboolean
parse_double (const char *text, double *out)
{
  char *end = NULL;
  if (text == NULL || *text == '\0')
    return FALSE;
  double v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

/* Sets an AFD_ERROR_CONFIG "routing 'SPEC': problem" error. */
G_GNUC_PRINTF (3, 4)
static gboolean
spec_fail (GError **error, const char *spec, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "routing '%s': %s", spec, msg);
  return FALSE;
}

/* Reads {"expert_tokens": [E numbers >= 0, not all 0]} into @p (unnormalised). */
static gboolean
read_counts_file (const char *path, guint n_experts, double *p, GError **error)
{
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return FALSE;
  const AfdJsonWhere where = { path, "", AFD_ERROR_CONFIG };
  static const char *const allowed[] = { "expert_tokens", NULL };
  const cJSON *arr = NULL;
  if (!afd_json_check_object (root, &where, allowed, error)
      || !afd_json_get_child (root, &where, "expert_tokens", AFD_JSON_REQUIRED, cJSON_Array, &arr,
                              error))
    return FALSE;
  int n = cJSON_GetArraySize (arr);
  if (n != (int)n_experts)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: expert_tokens: has %d entries, the model has %u experts", path, n,
                   n_experts);
      return FALSE;
    }
  double sum = 0;
  int i = 0;
  for (const cJSON *item = arr->child; item != NULL; item = item->next, i++)
    {
      if (!cJSON_IsNumber (item) || !isfinite (item->valuedouble) || item->valuedouble < 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: expert_tokens[%d]: must be a number >= 0", path, i);
          return FALSE;
        }
      p[i] = item->valuedouble;
      sum = MAX (sum, p[i]); /* the largest count: a sum could overflow */
    }
  if (!(sum > 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: expert_tokens: all counts are 0", path);
      return FALSE;
    }
  return TRUE;
}

/*
 * Scales @p (finite, >= 0, not all 0) to sum 1. When the plain sum overflows (counts near
 * DBL_MAX: 16 x 1e308 is inf, and every p / inf is 0), the weights are first divided by
 * their maximum, so the sum is at most n (issue #14). Sums that do not overflow take the
 * plain path, so every other routing is bit-for-bit what it was.
 */
static void
normalise (double *p, guint n)
{
  double sum = 0;
  for (guint i = 0; i < n; i++)
    sum += p[i];
  if (!isfinite (sum))
    {
      double max = 0;
      for (guint i = 0; i < n; i++)
        max = MAX (max, p[i]);
      sum = 0;
      for (guint i = 0; i < n; i++)
        {
          p[i] /= max;
          sum += p[i];
        }
    }
  for (guint i = 0; i < n; i++)
    p[i] /= sum;
}

AfdRouting *
afd_routing_new (const char *spec, guint n_experts, guint top_k, GError **error)
{
  g_return_val_if_fail (spec != NULL, NULL);
  if (n_experts == 0 || top_k == 0 || top_k > n_experts)
    {
      spec_fail (error, spec, "needs 1 <= top_k (%u) <= experts (%u)", top_k, n_experts);
      return NULL;
    }
  g_autoptr (AfdRouting) self = g_new0 (AfdRouting, 1);
  self->n_experts = n_experts;
  self->top_k = top_k;
  self->p = g_new0 (double, n_experts);
  const guint E = n_experts;

  if (g_str_has_prefix (spec, "file:"))
    {
      self->kind = AFD_ROUTING_FILE;
      const char *path = spec + 5;
      if (*path == '\0')
        {
          spec_fail (error, spec, "file: needs a path");
          return NULL;
        }
      if (!read_counts_file (path, E, self->p, error))
        return NULL;
      normalise (self->p, E);
      return g_steal_pointer (&self);
    }

  g_auto (GStrv) parts = g_strsplit (spec, ":", -1);
  guint n = g_strv_length (parts);
  /* An empty spec splits into no parts (fuzz finding: parts[0] was NULL). */
  if (n == 0)
    {
      spec_fail (error, spec, "empty (uniform, zipf:S, hot:K[:F], dirichlet:A or file:PATH)");
      return NULL;
    }
  const char *name = parts[0];
  if (strcmp (name, "uniform") == 0)
    {
      if (n != 1)
        {
          spec_fail (error, spec, "uniform takes no parameter");
          return NULL;
        }
      self->kind = AFD_ROUTING_UNIFORM;
      for (guint e = 0; e < E; e++)
        self->p[e] = 1.0 / E;
    }
  else if (strcmp (name, "zipf") == 0)
    {
      double s = 0;
      if (n != 2 || !parse_double (parts[1], &s) || !(s > 0))
        {
          spec_fail (error, spec, "expected zipf:S with S > 0");
          return NULL;
        }
      self->kind = AFD_ROUTING_ZIPF;
      for (guint e = 0; e < E; e++)
        self->p[e] = pow ((double)e + 1.0, -s);
      normalise (self->p, E);
    }
  else if (strcmp (name, "hot") == 0)
    {
      double k = 0, frac = 0.5;
      if (n < 2 || n > 3 || !parse_double (parts[1], &k) || k != floor (k) || k < 1 || k >= E
          || (n == 3 && (!parse_double (parts[2], &frac) || !(frac > 0 && frac < 1))))
        {
          spec_fail (error, spec,
                     "expected hot:K or hot:K:FRACTION with 1 <= K < %u and 0 < FRACTION < 1", E);
          return NULL;
        }
      self->kind = AFD_ROUTING_HOT;
      guint hot = (guint)k;
      for (guint e = 0; e < E; e++)
        self->p[e] = e < hot ? frac / hot : (1.0 - frac) / (E - hot);
    }
  else if (strcmp (name, "dirichlet") == 0)
    {
      double alpha = 0;
      if (n != 2 || !parse_double (parts[1], &alpha) || !(alpha > 0))
        {
          spec_fail (error, spec, "expected dirichlet:ALPHA with ALPHA > 0");
          return NULL;
        }
      self->kind = AFD_ROUTING_DIRICHLET;
      self->alpha = alpha;
      for (guint e = 0; e < E; e++)
        self->p[e] = 1.0 / E;
    }
  else
    {
      spec_fail (error, spec,
                 "unknown distribution (expected uniform, zipf:S, hot:K[:FRACTION], "
                 "dirichlet:ALPHA, file:PATH)");
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
afd_routing_free (AfdRouting *self)
{
  if (self == NULL)
    return;
  g_free (self->p);
  g_free (self);
}

void
afd_routing_set_redundant (AfdRouting *self, guint n_redundant)
{
  g_return_if_fail (self != NULL);
  self->n_redundant = n_redundant;
}

AfdRoutingKind
afd_routing_get_kind (const AfdRouting *self)
{
  g_return_val_if_fail (self != NULL, AFD_ROUTING_UNIFORM);
  return self->kind;
}

void
afd_routing_probabilities (const AfdRouting *self, double *out_p)
{
  g_return_if_fail (self != NULL && out_p != NULL);
  memcpy (out_p, self->p, sizeof (double) * self->n_experts);
}



/* Walker/Vose alias table over @p (sums to 1). */
typedef struct
{
  guint n;
  double *prob;
  guint *alias;
} Alias;

/* Builds the alias table of @p. */
static void
alias_init (Alias *t, const double *p, guint n)
{
  t->n = n;
  t->prob = g_new (double, n);
  t->alias = g_new (guint, n);
  g_autofree double *scaled = g_new (double, n);
  g_autofree guint *small = g_new (guint, n);
  g_autofree guint *large = g_new (guint, n);
  guint ns = 0, nl = 0;
  for (guint i = 0; i < n; i++)
    {
      scaled[i] = p[i] * n;
      if (scaled[i] < 1.0)
        small[ns++] = i;
      else
        large[nl++] = i;
    }
  while (ns > 0 && nl > 0)
    {
      guint s = small[--ns], l = large[--nl];
      t->prob[s] = scaled[s];
      t->alias[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0)
        small[ns++] = l;
      else
        large[nl++] = l;
    }
  while (nl > 0)
    {
      guint l = large[--nl];
      t->prob[l] = 1.0;
      t->alias[l] = l;
    }
  while (ns > 0) /* rounding leftovers */
    {
      guint s = small[--ns];
      t->prob[s] = 1.0;
      t->alias[s] = s;
    }
}

static void
alias_clear (Alias *t)
{
  g_free (t->prob);
  g_free (t->alias);
}

/* One draw from the alias table. */
static guint
alias_draw (const Alias *t, GRand *rng)
{
  guint i = (guint)g_rand_int_range (rng, 0, (gint32)t->n);
  return g_rand_double (rng) < t->prob[i] ? i : t->alias[i];
}

/* Draws one expert not in @chosen[0..n_chosen) by a scan over the remaining mass. */
static guint
scan_draw (const double *p, guint n, const guint *chosen, guint n_chosen, GRand *rng)
{
  double rest = 0;
  guint last = G_MAXUINT;
  for (guint e = 0; e < n; e++)
    {
      gboolean taken = FALSE;
      for (guint j = 0; j < n_chosen; j++)
        taken |= chosen[j] == e;
      if (!taken)
        {
          rest += p[e];
          last = e;
        }
    }
  double u = g_rand_double (rng) * rest;
  for (guint e = 0; e < n; e++)
    {
      gboolean taken = FALSE;
      for (guint j = 0; j < n_chosen; j++)
        taken |= chosen[j] == e;
      if (taken)
        continue;
      if (u < p[e])
        return e;
      u -= p[e];
    }
  return last; /* rounding: the last free expert */
}

AfdRoutingResult *
afd_routing_sample (AfdRouting *self, GRand *rng, guint64 n_tokens)
{
  g_return_val_if_fail (self != NULL && rng != NULL, NULL);
  const guint E = self->n_experts, k = self->top_k;
  g_autofree double *p = g_memdup2 (self->p, sizeof (double) * E);
  if (self->kind == AFD_ROUTING_DIRICHLET)
    {
      for (guint e = 0; e < E; e++)
        p[e] = afd_random_gamma (rng, self->alpha);
      double sum = 0;
      for (guint e = 0; e < E; e++)
        sum += p[e];
      if (!(sum > 0)) /* every gamma underflowed (tiny alpha): fall back to one hot expert */
        p[g_rand_int_range (rng, 0, (gint32)E)] = 1.0;
      normalise (p, E);
    }
  Alias table;
  alias_init (&table, p, E);
  g_autofree guint64 *counts = g_new0 (guint64, E);
  g_autofree guint *chosen = g_new (guint, k);
  for (guint64 t = 0; t < n_tokens; t++)
    {
      guint n_chosen = 0;
      while (n_chosen < k)
        {
          guint e = G_MAXUINT;
          for (guint tries = 0; tries < MAX_REJECTIONS && e == G_MAXUINT; tries++)
            {
              guint c = alias_draw (&table, rng);
              gboolean taken = FALSE;
              for (guint j = 0; j < n_chosen; j++)
                taken |= chosen[j] == c;
              if (!taken && p[c] > 0)
                e = c;
            }
          if (e == G_MAXUINT)
            e = scan_draw (p, E, chosen, n_chosen, rng);
          chosen[n_chosen++] = e;
          counts[e]++;
        }
    }
  alias_clear (&table);
  return afd_routing_replicate (counts, E, self->n_redundant);
}

AfdRoutingResult *
afd_routing_replicate (const guint64 *expert_tokens, guint n_experts, guint n_redundant)
{
  g_return_val_if_fail (expert_tokens != NULL && n_experts > 0, NULL);
  AfdRoutingResult *r = g_new0 (AfdRoutingResult, 1);
  r->n_experts = n_experts;
  r->expert_tokens = g_memdup2 (expert_tokens, sizeof (guint64) * n_experts);
  r->n_slots = n_experts + n_redundant;
  r->slot_expert = g_new (guint, r->n_slots);
  r->slot_tokens = g_new0 (guint64, r->n_slots);
  g_autofree guint *replicas = g_new (guint, n_experts);
  for (guint e = 0; e < n_experts; e++)
    {
      replicas[e] = 1;
      r->slot_expert[e] = e;
    }
  for (guint s = n_experts; s < r->n_slots; s++)
    {
      /* The expert with the most tokens per replica; compare a/ra > b/rb as a·rb > b·ra. */
      guint best = 0;
      for (guint e = 1; e < n_experts; e++)
        if ((double)expert_tokens[e] * replicas[best] > (double)expert_tokens[best] * replicas[e])
          best = e;
      replicas[best]++;
      r->slot_expert[s] = best;
    }
  /* Even split: every replica gets ⌊n/r⌋, the first (n mod r) replicas one more, in slot
   * order. */
  g_autofree guint *seen = g_new0 (guint, n_experts);
  for (guint s = 0; s < r->n_slots; s++)
    {
      guint e = r->slot_expert[s];
      guint64 share = expert_tokens[e] / replicas[e];
      guint64 extra = expert_tokens[e] % replicas[e];
      r->slot_tokens[s] = share + (seen[e] < extra ? 1 : 0);
      seen[e]++;
    }
  afd_imbalance_compute (r->expert_tokens, n_experts, &r->experts);
  afd_imbalance_compute (r->slot_tokens, r->n_slots, &r->slots);
  return r;
}

void
afd_imbalance_compute (const guint64 *loads, guint n, AfdImbalance *out)
{
  g_return_if_fail (loads != NULL && n > 0 && out != NULL);
  double sum = 0, max = 0;
  for (guint i = 0; i < n; i++)
    {
      sum += (double)loads[i];
      max = fmax (max, (double)loads[i]);
    }
  double mean = sum / n, var = 0;
  for (guint i = 0; i < n; i++)
    var += ((double)loads[i] - mean) * ((double)loads[i] - mean);
  var /= n;
  out->mean = mean;
  out->max = max;
  out->max_over_mean = mean > 0 ? max / mean : 0.0;
  out->sigma = max > 0 ? mean / max : 1.0;
  out->cv = mean > 0 ? sqrt (var) / mean : 0.0;
}

void
afd_routing_result_free (AfdRoutingResult *result)
{
  if (result == NULL)
    return;
  g_free (result->expert_tokens);
  g_free (result->slot_expert);
  g_free (result->slot_tokens);
  g_free (result);
}
