/* SPDX-License-Identifier: MIT */
/*
 * strategy.h - the interface every deployment strategy implements (TP×PP, EP, MA Separation,
 * AFD): given a model, a cluster shape and a workload, place every operator of one iteration
 * on GPUs as an operator graph (sim/opgraph.h).
 *
 * A strategy is a class struct (name, summary, create, destroy, build, optional describe);
 * an instance pairs the class with the state create() returned from its JSON parameters.
 * Callers use the afd_strategy_*() wrappers only. build() is pure: the same input gives the
 * same graph (routing comes from the input's seed). The list of strategies lives only in
 * models/registry.c. Nothing here prices or times an op.
 */
#ifndef AFD_SIM_STRATEGY_H
#define AFD_SIM_STRATEGY_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cost-model.h"
#include "sim/gpu-spec.h"
#include "sim/llm.h"
#include "sim/opgraph.h"

G_BEGIN_DECLS

/* What one iteration is run on: the model, the cluster's shape and the workload. */
typedef struct {
  const AfdLlm *llm;        /* (transfer none) */
  const AfdGpuSpec *gpu;    /* (transfer none): every GPU's spec (homogeneous clusters) */
  guint n_gpus;             /* GPUs in the cluster */
  guint gpus_per_node;      /* GPUs per node; GPU g sits in node g / gpus_per_node */
  guint64 batch;            /* sequences in the iteration */
  guint64 context_tokens;   /* cached tokens per sequence before this step (decode), or the
                               prompt length (prefill) */
  gboolean prefill;         /* FALSE: one decode step (1 new token per sequence) */
  const char *routing;      /* routing spec ("uniform", "zipf:1.2", …; models/routing.h) */
  guint64 seed;             /* the run's seed; routing draws from stream "routing" */
  AfdCostModel *costs;      /* (transfer none) (nullable): the run's cost model, for strategies
                               that predict op times (MA Separation rebalancing) */
  const guint8 *excluded;   /* (nullable) (array length=n_gpus): nonzero for GPUs that must get
                               no op (failed GPUs, sim/fault.h); only classes with
                               lost_sequences honour it, NULL means none */
  guint draft_tokens;       /* MTP / speculative decoding (docs/models/mtp.md): draft tokens
                               per decode step N; each step then verifies N + 1 new tokens per
                               sequence and llm is afd_llm_with_draft()'s copy; 0: off */
  double accepted_tokens;   /* mean tokens accepted per sequence and step L, 1 <= L <= N + 1
                               (0 is read as 1) */
} AfdStrategyInput;

typedef struct _AfdStrategy AfdStrategy;

typedef struct {
  const char *name;    /* key used in experiment JSON and --strategy: [a-z0-9-]+, unique */
  const char *summary; /* one line for `afdsim list strategies` */

  /* Required. @params: the strategy's options object (borrowed for the call): validate it,
   * copy what you need, reject unknown keys with AFD_ERROR_CONFIG. */
  gpointer (*create) (const cJSON *params, GError **error);
  void (*destroy) (gpointer state);

  /* Required. Adds every op of one iteration to @out (created with in->n_gpus GPUs) and sets
   * each GPU's node, role and memory. Fails with AFD_ERROR_INFEASIBLE for placements that
   * cannot run (memory, heads < attention GPUs, divisibility), naming the constraint. */
  gboolean (*build) (gpointer state, const AfdStrategyInput *in, AfdOpGraph *out,
                     GError **error);

  /* Optional: the resolved parameters, as text for the provenance block. */
  void (*describe) (gpointer state, GString *out);

  /* Optional (fault injection, sim/fault.h): the GPU that already holds a full copy of
   * @gpu's work in the graph build() makes for @in (MA Separation's attention replica set),
   * or G_MAXUINT when none; a failed GPU without one makes the iteration fail. */
  guint (*replica_of) (gpointer state, const AfdStrategyInput *in, guint gpu);

  /* Optional (fault injection): a class that sets it honours in->excluded in build() (places
   * no op there and re-routes the work redundant copies can take over, or fails with
   * AFD_ERROR_INFEASIBLE naming what has no surviving copy) and returns here the sequences of
   * in->batch whose state (KV cache) lived only on excluded GPUs: the rebuilt graph drops them
   * (EP's data-parallel attention share). */
  guint64 (*lost_sequences) (gpointer state, const AfdStrategyInput *in);
} AfdStrategyClass;

/**
 * afd_strategy_new:
 * @klass: (transfer none): a registered class (static lifetime)
 * @params: (nullable): options object; %NULL means {}
 *
 * Returns: (transfer full) (nullable): the instance, or %NULL with create's error prefixed by
 *   "strategy NAME: "
 */
AfdStrategy *afd_strategy_new (const AfdStrategyClass *klass, const cJSON *params,
                               GError **error);

/**
 * afd_strategy_build:
 * @in: (transfer none): the workload; in->n_gpus > 0, batch > 0
 *
 * Returns: (transfer full) (nullable): the finished graph (afd_opgraph_finish() done), or
 *   %NULL with the strategy's error prefixed by "strategy NAME: "
 */
AfdOpGraph *afd_strategy_build (AfdStrategy *self, const AfdStrategyInput *in, GError **error);

/* Appends "name" and, when provided, the described parameters to @out. */
void afd_strategy_describe (AfdStrategy *self, GString *out);

/* Returns: the GPU holding a full copy of @gpu's work (the class's replica_of), or G_MAXUINT
 * when the class has no replicas or @gpu has none. */
guint afd_strategy_replica_of (AfdStrategy *self, const AfdStrategyInput *in, guint gpu);

/**
 * afd_strategy_lost_sequences:
 * @in: (transfer none): the workload, with in->excluded set
 * @out_lost: (out): sequences of in->batch dropped because their state was on excluded GPUs
 *
 * Returns: %FALSE when the class does not honour in->excluded (no lost_sequences member)
 */
gboolean afd_strategy_lost_sequences (AfdStrategy *self, const AfdStrategyInput *in,
                                      guint64 *out_lost);

/* Returns: (transfer none): the class name. */
const char *afd_strategy_get_name (AfdStrategy *self);

void afd_strategy_free (AfdStrategy *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdStrategy, afd_strategy_free)

/* Lookup functions the composition root (sim/main.c) hands to commands in sim/, which may
 * not include models/ or backends/ (docs/internals/architecture.md). */
typedef struct {
  /* Returns the class named @name, or NULL with AFD_ERROR_UNKNOWN_PLUGIN listing the names. */
  const AfdStrategyClass *(*strategy_lookup) (const char *name, GError **error);
  /* NULL-terminated list of every strategy class. */
  const AfdStrategyClass *const *(*strategy_list) (void);
  /* Creates the cost model named by @spec ("analytic", "profile:FILE", …), or NULL with an
   * error. */
  AfdCostModel *(*cost_model_new) (const char *spec, GError **error);
} AfdPlugins;

G_END_DECLS

#endif /* AFD_SIM_STRATEGY_H */
