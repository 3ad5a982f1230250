/* SPDX-License-Identifier: MIT */
/*
 * bench-models.c - throughput of the model-side hot paths: routing samples (token-expert
 * draws per second, top-k without replacement) and analytic op pricing (ops per second).
 *
 * Usage: bench-models [TOKENS]  (default 2,000,000 tokens per routing case). Prints one JSON
 * object per case on stdout. Wall-clock figures are printed, never asserted; they go to
 * docs/performance.md. Needs AFDSIM_DATA_DIR (or the build tree) to find the model and GPU.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backends/registry.h"
#include "models/ops.h"
#include "models/routing.h"
#include "sim/cost-model.h"

/* Seconds of a monotonic clock. */
static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Times one routing spec over @tokens tokens; prints the draws per second. */
static int
bench_routing (const char *spec, guint e, guint k, guint64 tokens)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdRouting) r = afd_routing_new (spec, e, k, &error);
  if (r == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return 1;
    }
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  double t0 = now_s ();
  g_autoptr (AfdRoutingResult) res = afd_routing_sample (r, rng, tokens);
  double dt = now_s () - t0;
  printf ("{\"case\": \"routing %s E=%u k=%u\", \"tokens\": %" G_GUINT64_FORMAT
          ", \"wall_s\": %.4f, \"draws_per_s\": %.4g, \"max_over_mean\": %.4f}\n",
          spec, e, k, tokens, dt, (double)tokens * k / dt, res->experts.max_over_mean);
  return 0;
}

/* Prices every op of a DeepSeek-V3 decode block on an H100 many times; prints ops/s. */
static int
bench_pricing (guint rounds)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("deepseek-v3", &error);
  g_autoptr (AfdGpuSpec) gpu = llm ? afd_gpu_spec_load ("H100-SXM", &error) : NULL;
  g_autoptr (AfdCostModel) model
      = gpu ? afd_cost_model_new (&afd_cost_model_analytic_class, NULL, &error) : NULL;
  if (model == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return 1;
    }
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 128;
  p.context_tokens = 4096;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  if (!afd_ops_attention_block (llm, &p, ops, &error))
    return 1;
  guint64 counts[32];
  for (guint i = 0; i < 32; i++)
    counts[i] = 1 + i % 7;
  g_ptr_array_add (ops, afd_ops_expert_grouped_gemm (llm, 3, counts, 32));
  AfdPlacement where = { gpu, 0 };
  double sum = 0, t0 = now_s ();
  for (guint r = 0; r < rounds; r++)
    for (guint i = 0; i < ops->len; i++)
      {
        double s = 0;
        if (!afd_cost_model_op_time (model, ops->pdata[i], &where, &s, &error))
          return 1;
        sum += s;
      }
  double dt = now_s () - t0;
  printf ("{\"case\": \"analytic op_time, DeepSeek-V3 decode block on H100-SXM\", \"ops\": %u, "
          "\"wall_s\": %.4f, \"ops_per_s\": %.4g, \"checksum_s\": %.6g}\n",
          rounds * ops->len, dt, rounds * ops->len / dt, sum);
  return 0;
}

int
main (int argc, char **argv)
{
  guint64 tokens = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 2000000;
  if (tokens == 0)
    {
      fprintf (stderr, "usage: bench-models [TOKENS > 0]\n");
      return 2;
    }
  int rc = 0;
  rc |= bench_routing ("uniform", 256, 8, tokens);
  rc |= bench_routing ("zipf:1.2", 256, 8, tokens);
  rc |= bench_routing ("dirichlet:0.3", 256, 8, tokens);
  rc |= bench_routing ("uniform", 16, 2, tokens);
  rc |= bench_pricing (200000);
  return rc;
}
