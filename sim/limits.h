/* SPDX-License-Identifier: MIT */
/*
 * limits.h - the simulator's resource budget (issue #8, docs/models/faults.md "Limits"): a
 * run whose estimated simulator memory exceeds the budget is refused before its operator graph
 * is built, with the estimate and its parts, instead of exhausting the machine.
 *
 * The estimate is an upper bound from the workload's shape alone (no strategy is consulted):
 *
 *   ops        = 16 · G · L · M                   (≤ 16 ops per GPU, layer and micro-batch)
 *   graph      = ops · 400 B                      (op, payload, deps, replay times)
 *   pairs      = 2 · L_moe · M · G² · 8 B         (dense all-to-all-v matrices, dispatch+combine)
 *   flows      = M · G² · 256 B                   (flow network only: every pair of an
 *                                                  all-to-all in flight per micro-batch)
 *   routing    = T · k · L_moe · 64 B             (afd_limits_add_routing: the strategies sample
 *                                                  routing per token before their own memory
 *                                                  check; each draw charged 64 B of budget)
 *
 * with T the tokens routed per iteration (batch · new tokens), k the model's top_k, G the
 * cluster's GPUs, L the layers, L_moe the MoE layers and M the micro-batches (the run's
 * "micro_batches" option, 4 when absent). The constants come from measured runs
 * (docs/models/faults.md, table "Limits"). Nothing here prints.
 */
#ifndef AFD_SIM_LIMITS_H
#define AFD_SIM_LIMITS_H

#include <glib.h>

G_BEGIN_DECLS

/* The default budget: 16 GiB of simulator memory. */
#define AFD_LIMITS_DEFAULT_MEMORY_BYTES (16.0 * 1024 * 1024 * 1024)

/* An estimate of a run's simulator memory, bytes. */
typedef struct {
  double ops;          /* operator-graph ops (count, upper bound) */
  double graph_bytes;  /* the op graph and the replay's per-op state */
  double pairs_bytes;  /* all-to-all-v pair matrices */
  double flows_bytes;  /* flow network: flows in flight (0 with the analytic network) */
  double routing_draws; /* routing samples: tokens · top_k · MoE layers (afd_limits_add_routing) */
  double routing_bytes; /* their charge against the budget: draws · AFD_LIMITS_ROUTING_DRAW_BYTES */
  double total_bytes;  /* the sum */
} AfdLimitsEstimate;

/* What one routing draw costs against the memory budget, bytes: the sampler's time (about
 * 40 ns a draw) charged so that the one budget bounds it too; 16 GiB ≈ 2.7e8 draws ≈ 10 s
 * (docs/reliability.md "Limits"). */
#define AFD_LIMITS_ROUTING_DRAW_BYTES 64.0

/**
 * afd_limits_estimate:
 * @n_gpus: GPUs in the cluster; @n_layers, @n_moe_layers: the model's blocks
 * @micro_batches: 0 for "not given" (4 is assumed)
 * @flow: TRUE with the flow-level network
 * @out: (out caller-allocates): the estimate
 */
void afd_limits_estimate (guint n_gpus, guint n_layers, guint n_moe_layers, guint micro_batches,
                          gboolean flow, AfdLimitsEstimate *out);

/**
 * afd_limits_add_routing:
 * @tokens: tokens routed per iteration (batch · new tokens per sequence)
 * @top_k: routed experts per token; @n_moe_layers: the model's MoE layers
 *
 * Adds the per-token routing sampling that a strategy does before its own memory check
 * (draws = tokens · top_k · n_moe_layers, each charged AFD_LIMITS_ROUTING_DRAW_BYTES) to
 * @estimate, so that a huge prefill is refused before it is sampled.
 */
void afd_limits_add_routing (AfdLimitsEstimate *estimate, double tokens, guint top_k,
                             guint n_moe_layers);

/**
 * afd_limits_check:
 * @max_bytes: the budget, bytes (> 0)
 *
 * Returns: %FALSE with AFD_ERROR_LIMIT ("the simulation would need about 97.4 GB (…) …;
 *   raise the limit with --max-memory or sim_memory_limit_bytes") when the estimate exceeds
 *   @max_bytes
 */
gboolean afd_limits_check (const AfdLimitsEstimate *estimate, double max_bytes, GError **error);

G_END_DECLS

#endif /* AFD_SIM_LIMITS_H */
