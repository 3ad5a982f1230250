/* SPDX-License-Identifier: MIT */
/* Tests for models/routing.c: sampling statistics within their sampling bounds for fixed
 * seeds, top-k without replacement, determinism, EPLB replication and the imbalance
 * definitions of docs/models/routing.md. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "models/routing.h"
#include "tests/test-helpers.h"

/* Creates a routing from @spec and fails the test on error. */
static AfdRouting *
routing (const char *spec, guint e, guint k)
{
  g_autoptr (GError) error = NULL;
  AfdRouting *r = afd_routing_new (spec, e, k, &error);
  afd_assert_no_error (error);
  return r;
}

/* Uniform top-2 of 16: each expert is in a token's set with probability k/E = 1/8
 * independently across tokens, so counts are Binomial(T, 1/8): mean T/8 exactly on average
 * (the total is exactly T·k), variance T·(1/8)(7/8). Pooled over 40 iterations × 16 experts
 * the sample variance has relative standard error sqrt(2/640) = 5.6%; we allow 25% (4.5 σ). */
Test (routing, uniform_mean_and_variance)
{
  g_autoptr (AfdRouting) r = routing ("uniform", 16, 2);
  g_autoptr (GRand) rng = g_rand_new_with_seed (42);
  const guint64 T = 20000;
  const double p = 2.0 / 16, mean = T * p, var = T * p * (1 - p);
  double ss = 0;
  for (int it = 0; it < 40; it++)
    {
      g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, T);
      guint64 total = 0;
      for (guint e = 0; e < 16; e++)
        {
          total += res->expert_tokens[e];
          double d = (double)res->expert_tokens[e] - mean;
          ss += d * d;
          cr_assert (fabs (d) < 6 * sqrt (var), "expert %u: %" G_GUINT64_FORMAT, e,
                     res->expert_tokens[e]);
        }
      cr_assert_eq (total, T * 2, "every token picks exactly top_k experts");
      cr_assert_float_eq (res->experts.mean, mean, 1e-9);
    }
  double sample_var = ss / (40 * 16);
  cr_assert (fabs (sample_var / var - 1) < 0.25, "variance %g, want %g", sample_var, var);
}

/* Top-k is without replacement: with k = E every expert gets every token exactly once. */
Test (routing, top_k_without_replacement)
{
  g_autoptr (AfdRouting) r = routing ("zipf:2", 4, 4);
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, 1000);
  for (guint e = 0; e < 4; e++)
    cr_assert_eq (res->expert_tokens[e], 1000u);
  cr_assert_float_eq (res->experts.sigma, 1.0, 1e-12);
  /* Heavy skew, k = 2: the hottest expert is still at most once per token. */
  g_autoptr (AfdRouting) r2 = routing ("zipf:4", 16, 2);
  g_autoptr (AfdRoutingResult) res2 = afd_routing_sample (r2, rng, 5000);
  cr_assert_leq (res2->expert_tokens[0], 5000u);
  cr_assert_gt (res2->expert_tokens[0], 4500u, "p0 = 0.92, so nearly every token");
}

/* Zipf(1.2) top-1: expert e has share (e+1)^-1.2 / H; expert 0's count within 5 binomial σ,
 * and the counts fall from the head to the tail. */
Test (routing, zipf_skew_within_bounds)
{
  g_autoptr (AfdRouting) r = routing ("zipf:1.2", 16, 1);
  g_autoptr (GRand) rng = g_rand_new_with_seed (1234);
  const guint64 T = 100000;
  double h = 0;
  for (int e = 1; e <= 16; e++)
    h += pow (e, -1.2);
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, T);
  for (guint e = 0; e < 16; e += 5)
    {
      double p = pow (e + 1.0, -1.2) / h, sd = sqrt (T * p * (1 - p));
      cr_assert (fabs ((double)res->expert_tokens[e] - T * p) < 5 * sd, "expert %u", e);
    }
  cr_assert_gt (res->expert_tokens[0], res->expert_tokens[1]);
  cr_assert_gt (res->expert_tokens[1], res->expert_tokens[15]);
  /* max/mean ≈ p0·E = 16/H(1.2) = 5.2 on average. */
  cr_assert (fabs (res->experts.max_over_mean - 16 / h) < 0.1, "%g", res->experts.max_over_mean);
  cr_assert_float_eq (res->experts.sigma, 1 / res->experts.max_over_mean, 1e-12);
}

/* hot:2:0.5 top-1: experts 0 and 1 share half the tokens. */
Test (routing, hot_experts)
{
  g_autoptr (AfdRouting) r = routing ("hot:2:0.5", 16, 1);
  double p[16];
  afd_routing_probabilities (r, p);
  cr_assert_float_eq (p[0], 0.25, 1e-12);
  cr_assert_float_eq (p[15], 0.5 / 14, 1e-12);
  g_autoptr (GRand) rng = g_rand_new_with_seed (3);
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, 40000);
  double sd = sqrt (40000 * 0.25 * 0.75);
  cr_assert (fabs ((double)res->expert_tokens[0] - 10000) < 5 * sd);
}

/* Dirichlet draws a new popularity each iteration: large α is near uniform, small α skewed. */
Test (routing, dirichlet_concentration)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (99);
  g_autoptr (AfdRouting) flat = routing ("dirichlet:1000", 32, 4);
  g_autoptr (AfdRouting) spiky = routing ("dirichlet:0.05", 32, 1);
  g_autoptr (AfdRoutingResult) a = afd_routing_sample (flat, rng, 50000);
  g_autoptr (AfdRoutingResult) b = afd_routing_sample (spiky, rng, 50000);
  cr_assert_lt (a->experts.cv, 0.1, "cv %g", a->experts.cv);
  cr_assert_gt (b->experts.max_over_mean, 3.0, "max/mean %g", b->experts.max_over_mean);
}

/* The same seed gives the same counts; another seed different ones. */
Test (routing, deterministic_per_seed)
{
  g_autoptr (AfdRouting) r = routing ("dirichlet:0.5", 64, 8);
  g_autoptr (GRand) s1 = g_rand_new_with_seed (5), s2 = g_rand_new_with_seed (5);
  g_autoptr (GRand) s3 = g_rand_new_with_seed (6);
  g_autoptr (AfdRoutingResult) a = afd_routing_sample (r, s1, 3000);
  g_autoptr (AfdRoutingResult) b = afd_routing_sample (r, s2, 3000);
  g_autoptr (AfdRoutingResult) c = afd_routing_sample (r, s3, 3000);
  cr_assert_arr_eq (a->expert_tokens, b->expert_tokens, 64 * sizeof (guint64));
  cr_assert (memcmp (a->expert_tokens, c->expert_tokens, 64 * sizeof (guint64)) != 0);
}

/* Weights from a file of counts: an expert with 0 gets no token. */
Test (routing, counts_from_file)
{
  g_autoptr (AfdRouting) r = routing ("file:" TEST_DATA "/routing-counts.json", 4, 1);
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, 16000);
  cr_assert_eq (res->expert_tokens[3], 0u);
  /* p0 = 8/16: 8000 ± 5·63 */
  cr_assert (fabs ((double)res->expert_tokens[0] - 8000) < 320);
}

/* EPLB greedy: {100, 10, 10, 0} + 2 replicas both go to expert 0 (100/1, then 50/1 vs 10/1),
 * split 34/33/33; experts max/mean 100/30, slots 34/20. */
Test (routing, redundant_experts_split_the_hottest)
{
  const guint64 counts[] = { 100, 10, 10, 0 };
  g_autoptr (AfdRoutingResult) r = afd_routing_replicate (counts, 4, 2);
  cr_assert_eq (r->n_slots, 6u);
  cr_assert_eq (r->slot_expert[4], 0u);
  cr_assert_eq (r->slot_expert[5], 0u);
  cr_assert_eq (r->slot_tokens[0], 34u);
  cr_assert_eq (r->slot_tokens[4], 33u);
  cr_assert_eq (r->slot_tokens[5], 33u);
  cr_assert_eq (r->slot_tokens[1], 10u);
  cr_assert_float_eq (r->experts.max_over_mean, 100.0 / 30, 1e-12);
  cr_assert_float_eq (r->experts.sigma, 0.3, 1e-12);
  cr_assert_float_eq (r->slots.max_over_mean, 34.0 / 20, 1e-12);
  /* cv over {100, 10, 10, 0}: mean 30, population sd sqrt((4900+400+400+900)/4) = 40.62. */
  cr_assert_float_eq (r->experts.cv, sqrt (6600.0 / 4) / 30, 1e-12);
}

/* Sampling with redundant slots fills slot loads that sum to the expert loads. */
Test (routing, sample_with_redundancy)
{
  g_autoptr (AfdRouting) r = routing ("zipf:1", 8, 2);
  afd_routing_set_redundant (r, 4);
  g_autoptr (GRand) rng = g_rand_new_with_seed (21);
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, 1000);
  guint64 a = 0, b = 0;
  for (guint e = 0; e < 8; e++)
    a += res->expert_tokens[e];
  for (guint s = 0; s < res->n_slots; s++)
    b += res->slot_tokens[s];
  cr_assert_eq (a, b);
  cr_assert_eq (res->n_slots, 12u);
  cr_assert_leq (res->slots.max_over_mean, res->experts.max_over_mean);
}

/* All-zero loads are balanced by definition (σ = 1, max/mean = 0, cv = 0). */
Test (routing, imbalance_of_zero_loads)
{
  const guint64 z[] = { 0, 0, 0 };
  AfdImbalance im;
  afd_imbalance_compute (z, 3, &im);
  cr_assert_float_eq (im.sigma, 1.0, 0);
  cr_assert_float_eq (im.max_over_mean, 0.0, 0);
  cr_assert_float_eq (im.cv, 0.0, 0);
}

/* Bad specs are AFD_ERROR_CONFIG naming the spec. */
Test (routing, rejects_bad_specs)
{
  static const char *const bad[]
      = { "zipf",      "zipf:-1",   "zipf:abc", "hot:16",
          "hot:0",     "hot:2:1.5", "hot:2.5",  "dirichlet:0",
          "uniform:3", "gaussian",  "file:",    "file:" TEST_DATA "/routing-counts-short.json" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdRouting) r = afd_routing_new (bad[i], 16, 2, &error);
      cr_assert_null (r, "%s should be rejected", bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdRouting) r = afd_routing_new ("uniform", 4, 5, &error);
  cr_assert_null (r);
  afd_assert_error_contains (error, "top_k (5)");
}
