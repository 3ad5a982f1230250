/* SPDX-License-Identifier: MIT */
/*
 * serve-steps.h - step times of one serving pool, from the iteration simulator, cached.
 *
 * A pool is a cluster running one strategy (its name and options are opaque here: they go
 * to the experiment runner, sim/experiment.h, as `afdsim run` would take them). The time of a
 * step of @batch sequences at @context tokens (decode: one new token each, attending to
 * @context; prefill: @context new tokens each) is the iteration time that runner simulates,
 * with the same cost model, network fidelity and routing. Each grid point is simulated once
 * and kept; between grid points the time is interpolated bilinearly in (batch, context)
 * (docs/models/serving.md, "Step-time cache"):
 *   batch and context grids  1, 2, …, 16, then ⌈16·2^(j/S)⌉, S = 8 (decode), 16 (prefill)
 * A batch below the strategy's smallest (EP needs a sequence per rank and micro-batch) is
 * priced at that smallest batch (idle ranks cost as much as busy ones); a prefill keeps its
 * tokens: (b, c) becomes (b₀, ⌈b·c/b₀⌉).
 *
 * The KV capacity in tokens comes from the memory model through the same runner: each GPU's
 * memory at two batches gives the bytes one sequence adds on it (every strategy scales the
 * KV cache, activations and buffers with the batch, docs/models/memory.md) and its fixed
 * part (weights, runtime reserve); the tightest GPU that grows with the batch decides:
 *   capacity_tokens = min over GPUs g of ⌊(HBM − fixed_g) / per_sequence_g⌋ · C₀   (probe C₀)
 * Nothing here prints.
 */
#ifndef AFD_SIM_SERVE_STEPS_H
#define AFD_SIM_SERVE_STEPS_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/network.h"
#include "sim/strategy.h"
#include "sim/types.h"

G_BEGIN_DECLS

typedef struct _AfdServeSteps AfdServeSteps;

/* What a pool runs: every string is copied. */
typedef struct {
  const char *name;          /* the pool's name in messages: "colocated", "prefill", "decode" */
  const char *cluster;       /* cluster name or file */
  const char *model;         /* model name or file */
  const char *strategy;      /* strategy registry name */
  const cJSON *options;      /* (nullable) the strategy's options, as `afdsim run --set` */
  const char *costs;         /* cost model spec ("analytic") */
  const char *routing;       /* routing spec ("uniform") */
  AfdNetworkFidelity network;
  guint64 seed;
} AfdServePoolSpec;

/* The probe context of the KV capacity, tokens. */
#define AFD_SERVE_KV_PROBE_CONTEXT 1024

/**
 * afd_serve_steps_new:
 * @plugins: (transfer none): registry lookups from the composition root; must outlive the cache
 *
 * Checks the pool: finds the smallest batch its strategy takes in each phase (1, 2, 4, … up to
 * 4096) and its KV capacity.
 *
 * Returns: (transfer full) (nullable): the cache, or %NULL with the runner's error prefixed
 *   with the pool's name
 */
AfdServeSteps *afd_serve_steps_new (const AfdServePoolSpec *spec, const AfdPlugins *plugins,
                                    GError **error);

void afd_serve_steps_free (AfdServeSteps *self);

/**
 * afd_serve_steps_time:
 * @batch: sequences in the step, >= 1
 * @context: tokens, >= 1 (decode: attended per sequence; prefill: new per sequence)
 * @out_ns: (out): the step time, ns
 *
 * Returns: %FALSE with the runner's error (a grid point the strategy rejects)
 */
gboolean afd_serve_steps_time (AfdServeSteps *self, gboolean prefill, guint64 batch,
                               guint64 context, AfdTime *out_ns, GError **error);

/**
 * afd_serve_steps_direct:
 * @out_s: (out): the iteration time the runner simulates at exactly (@batch, @context) (after
 *   the smallest-batch rule), seconds; what the cache interpolates
 *
 * Returns: %FALSE with the runner's error
 */
gboolean afd_serve_steps_direct (AfdServeSteps *self, gboolean prefill, guint64 batch,
                                 guint64 context, double *out_s, GError **error);

/* Returns: the KV capacity of the pool, tokens (G_MAXUINT64 when no GPU holds KV). */
guint64 afd_serve_steps_kv_tokens (const AfdServeSteps *self);
/* Returns: GPUs the pool's placement uses (gpus_used of its runs). */
guint afd_serve_steps_gpus (const AfdServeSteps *self);
/* Returns: the smallest batch the strategy takes in @prefill's phase. */
guint64 afd_serve_steps_min_batch (const AfdServeSteps *self, gboolean prefill);
/* Returns: the grid points simulated so far (each one run of the iteration simulator). */
guint afd_serve_steps_evaluations (const AfdServeSteps *self);
/* Returns: (transfer none): the pool's cluster as given (name or file). */
const char *afd_serve_steps_cluster (const AfdServeSteps *self);
/* Returns: (transfer none): the strategy description of the pool's runs. */
const char *afd_serve_steps_description (const AfdServeSteps *self);
/* Returns: the KV bytes a token takes in the pool (the model's, all layers). */
double afd_serve_steps_kv_bytes_per_token (const AfdServeSteps *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdServeSteps, afd_serve_steps_free)

G_END_DECLS

#endif /* AFD_SIM_SERVE_STEPS_H */
