/* SPDX-License-Identifier: MIT */
/*
 * placement.h - the layer that places operators for the deployment strategies (afd_placement_*,
 * apart from sim/strategy.h's afd_strategy_* interface wrappers): seeded routing per MoE layer,
 * splitting counts evenly, adding a block of ops in order, and recording each GPU's memory
 * plan (models/memory.h, docs/models/memory.md) with its fit check.
 *
 * Every strategy draws routing through afd_placement_routing_sample(), so for one input (model,
 * batch, routing spec, seed) every strategy sees exactly the same token-expert pairs and total
 * expert FLOPs are equal across strategies (tests/test-strategies.c checks it). Formulas are
 * in docs/models/strategies.md.
 */
#ifndef AFD_MODELS_PLACEMENT_H
#define AFD_MODELS_PLACEMENT_H

#include <glib.h>

#include "models/memory.h"
#include "models/ops.h"
#include "sim/opgraph.h"
#include "sim/strategy.h"

G_BEGIN_DECLS

/* Routing of one iteration: [n_layers][n_experts] token-expert pairs (0 rows for dense). */
typedef struct {
  guint n_layers;
  guint n_experts;
  guint64 *tokens; /* n_layers * n_experts */
} AfdPlacementRouting;

/**
 * afd_placement_routing_sample:
 * @tokens: tokens routed per MoE layer (batch × new tokens per sequence)
 *
 * Samples every MoE layer, in layer order, from the GRand stream "routing" of in->seed, and
 * records on @graph the model FLOPs of the iteration (decode: per-token FLOPs x tokens).
 *
 * Returns: %FALSE with the routing spec's error
 */
gboolean afd_placement_routing_sample (const AfdStrategyInput *in, guint64 tokens,
                                      AfdOpGraph *graph, AfdPlacementRouting *out,
                                      GError **error);

void afd_placement_routing_clear (AfdPlacementRouting *routing);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AfdPlacementRouting, afd_placement_routing_clear)

/**
 * afd_placement_expert_slots:
 * @expert_tokens: (array length=n_experts): this layer's (micro-batch's) pairs per expert
 * @n_gpus: GPUs holding the experts
 * @out_tokens: (out caller-allocates): n_gpus × afd_placement_experts_per_gpu() entries; row
 *   i holds the pairs of GPU i's local experts (or replica)
 * @out_count: (out caller-allocates) (array length=n_gpus): local experts per GPU
 *
 * Expert placement shared by EP and AFD: with E >= G, GPU i holds the contiguous block of
 * share(E, G, i) experts; with E < G, GPU i < E holds expert i and the G - E others hold
 * EPLB replicas of the hottest experts (afd_routing_replicate: each replica goes to the
 * expert with the most pairs per replica, whose pairs are then split evenly).
 */
void afd_placement_expert_slots (const guint64 *expert_tokens, guint n_experts, guint n_gpus,
                                guint64 *out_tokens, guint *out_count);

/* Where the expert copies of one MoE layer live (afd_placement_expert_place()). */
typedef struct {
  guint n_experts;
  guint n_gpus;
  guint n_slots;      /* copies placed: E primaries + the replicas that found a GPU */
  guint width;        /* most copies any GPU holds: afd_placement_expert_capacity (…, 0) */
  guint *slot_gpu;    /* [n_slots] GPU of each copy, GPU-major order */
  guint *slot_expert; /* [n_slots] expert of each copy */
} AfdPlacementExperts;

/* Returns: the expert copies GPU @gpu has room for with @n_redundant redundant copies in
 * all (the G − E that E < G forces count among them): share(max(E + n_redundant, G), G, gpu)
 * (for n_redundant 0 exactly what afd_placement_expert_slots() places there). */
guint afd_placement_expert_capacity (guint n_experts, guint n_gpus, guint n_redundant, guint gpu);

/**
 * afd_placement_expert_place:
 * @expert_tokens: (array length=n_experts): the layer's pairs per expert (all micro-batches)
 * @n_redundant: redundant copies in all (at least the G − E that E < G needs are placed)
 * @out: (out caller-allocates): cleared with afd_placement_expert_placement_clear()
 *
 * Fixed placement of one layer (EPLB-style, docs/models/faults.md): primaries as
 * afd_placement_expert_slots() (contiguous blocks for E >= G, expert e on GPU e for E < G);
 * then X = max(E + n_redundant, G) − E replicas, each for the expert with the most pairs per
 * copy (ties: lowest index) among those a GPU with a free slot (afd_placement_expert_capacity)
 * does not hold yet, on such a GPU with the fewest pairs so far (each expert's pairs split
 * over its copies; ties: the fewest copies, then the lowest index).
 */
void afd_placement_expert_place (const guint64 *expert_tokens, guint n_experts, guint n_gpus,
                                guint n_redundant, AfdPlacementExperts *out);

void afd_placement_expert_placement_clear (AfdPlacementExperts *placement);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AfdPlacementExperts, afd_placement_expert_placement_clear)

/**
 * afd_placement_expert_slots_placed:
 * @expert_tokens: (array length=n_experts): this micro-batch's pairs per expert
 * @excluded: (nullable) (array length=n_gpus): GPUs whose copies are lost (failed)
 * @out_tokens: (out caller-allocates): n_gpus × placement->width; row i: pairs of GPU i's copies
 * @out_count: (out caller-allocates) (array length=n_gpus): copies GPU i serves (0 if excluded)
 * @out_lost_expert: (out): on %FALSE, the expert with no surviving copy
 *
 * Each expert's pairs are split evenly (afd_placement_share, in slot order) over its copies on
 * GPUs not excluded: the tokens routed to a lost copy go to the surviving ones.
 *
 * Returns: %FALSE when some expert has no copy on a surviving GPU
 */
gboolean afd_placement_expert_slots_placed (const AfdPlacementExperts *placement,
                                           const guint64 *expert_tokens, const guint8 *excluded,
                                           guint64 *out_tokens, guint *out_count,
                                           guint *out_lost_expert);

/* Returns: the most experts any GPU holds under afd_placement_expert_slots(). */
guint afd_placement_experts_per_gpu (guint n_experts, guint n_gpus);

/* Returns: the share of @total that part @i of @n gets (first total % n parts get one more). */
guint64 afd_placement_share (guint64 total, guint n, guint i);

/**
 * afd_placement_add_ops:
 * @ops: (element-type AfdOp): added in order on the compute stream of @gpu
 * @dep: the first op's extra dependency (AFD_OPGRAPH_NONE: none)
 *
 * Returns: the id of the last op added (or @dep when @ops is empty)
 */
guint afd_placement_add_ops (AfdOpGraph *graph, guint gpu, guint layer, guint micro_batch,
                            GPtrArray *ops, guint dep);

/* Adds one op on the compute stream of @gpu after @dep; frees @op; returns its id. */
guint afd_placement_add_op (AfdOpGraph *graph, guint gpu, guint layer, guint micro_batch,
                           AfdOp *op, guint dep);

/**
 * afd_placement_attention_params:
 *
 * Fills an AfdOpsParams for the workload of @in: decode (1 new token, context in->context) or
 * prefill (context new tokens, no cache), @n_sequences sequences, heads [first, first+count).
 */
void afd_placement_attention_params (const AfdStrategyInput *in, guint layer,
                                    guint64 n_sequences, guint head_first, guint head_count,
                                    AfdOpsParams *out);

/* Returns: new tokens per sequence of the phase (decode 1 + in->draft_tokens, prefill
 * context). */
guint64 afd_placement_new_tokens (const AfdStrategyInput *in);

/**
 * afd_placement_add_attention:
 * @n_sequences: the sequences @gpu attends for (@layer, @micro_batch)
 * @io_dep: (inout): the block's dependency; on a dense layer, set to the dense FFN op
 *
 * Adds the attention block of (@layer, @micro_batch) on @gpu's compute stream after *@io_dep,
 * then, on an MoE layer, the router (no extra dependency), or on a dense layer the whole dense
 * FFN (unsharded) for the @n_sequences × new tokens.
 *
 * Returns: %FALSE with the ops' error
 */
gboolean afd_placement_add_attention (AfdOpGraph *graph, const AfdStrategyInput *in, guint gpu,
                                     guint layer, guint micro_batch, guint64 n_sequences,
                                     guint *io_dep, GError **error);

/* Fills @out_expert_tokens[e] with part @part of @n_parts (afd_placement_share) of the tokens
 * routed to expert e in @layer, for every routed expert. */
void afd_placement_routing_part (const AfdPlacementRouting *routing, guint layer, guint n_parts,
                                guint part, guint64 *out_expert_tokens);

/* Returns: the sum of @slot_tokens[0 .. @n_slots), the tokens a GPU's expert slots receive. */
guint64 afd_placement_slots_tokens (const guint64 *slot_tokens, guint n_slots);

/**
 * afd_placement_check_memory:
 * @plan: the strategy's five-class memory plan (models/memory.h) with @gpu's bytes added
 *
 * Records @gpu's role and total from @plan on @graph (the summary's memory_bytes) and fails
 * with AFD_ERROR_INFEASIBLE (afd_memory_check_gpu) when the total exceeds in->gpu's HBM.
 */
gboolean afd_placement_check_memory (AfdOpGraph *graph, const AfdStrategyInput *in,
                                    const AfdMemoryPlan *plan, guint gpu, GError **error);

/* Bytes per token of a dispatch (A->F, dtype dispatch; fp8 adds 4 B of scale per 128). */
double afd_placement_dispatch_bytes_per_token (const AfdLlm *llm);

/* Bytes per token of a combine (F->A, dtype combine). */
double afd_placement_combine_bytes_per_token (const AfdLlm *llm);

/* Bytes per token of hidden states (dtype activations). */
double afd_placement_hidden_bytes_per_token (const AfdLlm *llm);

G_END_DECLS

#endif /* AFD_MODELS_PLACEMENT_H */
