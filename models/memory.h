/* SPDX-License-Identifier: MIT */
/*
 * memory.h - device-memory footprint per GPU of a placement, and the fit check.
 *
 * Every strategy (models/strategy-*.c) creates an AfdMemoryPlan with one entry per GPU, adds
 * bytes per class (weights, KV cache, activations, communication buffers, runtime reserve)
 * using the size helpers below, then checks each GPU against its spec (afd_memory_check_gpu(),
 * through afd_placement_check_memory()). A GPU that does not fit is
 * AFD_ERROR_INFEASIBLE: "GPU 12 (moe) needs 123.7 GB, A100-SXM4-80GB has 80.0 GB of HBM …"
 * (GB = 1e9 bytes). Formulas and the hand-worked masep-4l MA-Separation 12:4 example are in
 * docs/models/memory.md (checked by tests/test-memory.c). The helpers return bytes for ONE
 * transformer block unless their name says otherwise; multiply by the blocks a GPU holds.
 */
#ifndef AFD_MODELS_MEMORY_H
#define AFD_MODELS_MEMORY_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/gpu-spec.h"
#include "sim/llm.h"

G_BEGIN_DECLS

/* What the bytes are for. */
typedef enum {
  AFD_MEMORY_WEIGHTS = 0,   /* parameters resident on the GPU */
  AFD_MEMORY_KV_CACHE,      /* KV cache of the sequences and heads it serves */
  AFD_MEMORY_ACTIVATIONS,   /* live activations of the largest block in flight */
  AFD_MEMORY_COMM_BUFFERS,  /* send/receive buffers (dispatch, combine, collectives) */
  AFD_MEMORY_RUNTIME,       /* CUDA context, library workspaces, allocator slack */
  AFD_MEMORY_CLASS_COUNT
} AfdMemoryClass;

/* Default runtime reserve per GPU: 1 GiB (CUDA context + cuBLAS/NCCL workspaces) [EST]. */
#define AFD_MEMORY_DEFAULT_RUNTIME_BYTES (1073741824.0)

/* One GPU's footprint, bytes. */
typedef struct {
  double bytes[AFD_MEMORY_CLASS_COUNT]; /* per class */
  double total_bytes;                   /* sum of the classes */
} AfdMemoryBreakdown;

typedef struct _AfdMemoryPlan AfdMemoryPlan;

/* Returns: (transfer full): a plan of @n_gpus GPUs, all empty, role "gpu". */
AfdMemoryPlan *afd_memory_plan_new (guint n_gpus);

void afd_memory_plan_free (AfdMemoryPlan *plan);

guint afd_memory_plan_n_gpus (const AfdMemoryPlan *plan);

/* Sets the role shown in messages ("attention", "moe"); @role is copied. */
void afd_memory_set_role (AfdMemoryPlan *plan, guint gpu, const char *role);

/* Adds @bytes (>= 0) of @klass to @gpu. */
void afd_memory_add (AfdMemoryPlan *plan, guint gpu, AfdMemoryClass klass, double bytes);

/* Convenience forms of afd_memory_add(). */
void afd_memory_add_weights (AfdMemoryPlan *plan, guint gpu, double bytes);
void afd_memory_add_kv (AfdMemoryPlan *plan, guint gpu, double bytes);
void afd_memory_add_activations (AfdMemoryPlan *plan, guint gpu, double bytes);
void afd_memory_add_comm_buffers (AfdMemoryPlan *plan, guint gpu, double bytes);
void afd_memory_add_runtime (AfdMemoryPlan *plan, guint gpu, double bytes);

/* Fills @out with @gpu's footprint. */
void afd_memory_get (const AfdMemoryPlan *plan, guint gpu, AfdMemoryBreakdown *out);

/* Returns: (transfer none): @gpu's role ("gpu" until set). */
const char *afd_memory_get_role (const AfdMemoryPlan *plan, guint gpu);

/**
 * afd_memory_check_gpu:
 * @spec: (transfer none): @gpu's spec
 *
 * Returns: %FALSE with AFD_ERROR_INFEASIBLE when @gpu's total exceeds @spec->hbm_bytes:
 *   "GPU 12 (moe) needs 123.7 GB, A100-SXM4-80GB has 80.0 GB of HBM (weights …, …)"
 */
gboolean afd_memory_check_gpu (const AfdMemoryPlan *plan, guint gpu, const AfdGpuSpec *spec,
                               GError **error);

/**
 * afd_memory_check:
 * @gpus: (array length=n_gpus of the plan) (transfer none): each GPU's spec
 *
 * Returns: %FALSE with AFD_ERROR_INFEASIBLE for the first GPU (lowest index) whose total
 *   exceeds its hbm_bytes: "GPU 12 (moe) needs 123.7 GB, A100-SXM4-80GB has 80.0 GB of HBM (…)"
 */
gboolean afd_memory_check (const AfdMemoryPlan *plan, const AfdGpuSpec *const *gpus,
                           GError **error);

/* As afd_memory_check() with the same spec for every GPU. */
gboolean afd_memory_check_uniform (const AfdMemoryPlan *plan, const AfdGpuSpec *gpu,
                                   GError **error);

/**
 * afd_memory_max_batch:
 * @batch: the run's batch (sequences) for which the plan was built, > 0
 *
 * The largest batch whose KV cache fits @gpu at the plan's context. Every strategy gives a
 * GPU a fixed share of the batch, so the KV cache, activations and communication buffers
 * scale in proportion to the batch; weights and the runtime reserve do not:
 *   floor((hbm − weights − runtime) · batch / (kv + activations + comm buffers))
 * (0 when the weights and reserve alone do not fit; exact up to the rounding of the shares).
 *
 * Returns: that batch, or G_MAXUINT64 when @gpu holds no KV cache
 */
guint64 afd_memory_max_batch (const AfdMemoryPlan *plan, guint gpu, const AfdGpuSpec *spec,
                              guint64 batch);

/* Returns: the smallest afd_memory_max_batch() over the GPUs whose role is @role (the whole
 *   role fits up to that batch); G_MAXUINT64 when none of them holds KV cache or none has
 *   the role. */
guint64 afd_memory_role_max_batch (const AfdMemoryPlan *plan, const char *role,
                                   const AfdGpuSpec *spec, guint64 batch);

/**
 * afd_memory_plan_to_json:
 *
 * Returns: (transfer full): [{"gpu": i, "role": …, "weights_bytes": …, "kv_cache_bytes": …,
 *   "activations_bytes": …, "comm_buffers_bytes": …, "runtime_bytes": …, "total_bytes": …}]
 */
cJSON *afd_memory_plan_to_json (const AfdMemoryPlan *plan);

/* Returns: the JSON key stem ("kv_cache"), or NULL for an invalid class. */
const char *afd_memory_class_name (AfdMemoryClass klass);

/* --- size helpers (bytes; per block unless stated) ------------------------------------- */

/* Attention projections (+ their norms) for query heads [first, first+count): MHA/GQA:
 * H·count·d (Q) + 2·H·kv·d (K,V of the kv heads they need) + count·d·H (out);
 * MLA/MFA: the down-projections whole, up/out projections for the head share. */
double afd_memory_attention_weights_bytes (const AfdLlm *llm, guint head_first, guint head_count);

/* KV cache for @tokens cached tokens (sequences × context) of the kv heads the head range
 * needs: tokens · kv_heads·(K+V dims) · kv dtype (MLA: tokens·(d_c + d_r), replicated). */
double afd_memory_kv_bytes (const AfdLlm *llm, guint head_first, guint head_count,
                            guint64 tokens);

/* @n_experts routed experts: n·matrices·H·M · expert dtype. */
double afd_memory_expert_weights_bytes (const AfdLlm *llm, guint n_experts);

/* All shared experts of one block, split @shards ways. */
double afd_memory_shared_expert_weights_bytes (const AfdLlm *llm, guint shards);

/* A dense FFN block, split @shards ways. */
double afd_memory_dense_ffn_weights_bytes (const AfdLlm *llm, guint shards);

/* The router gate H·E (+ the block's two norms) in the attention dtype. */
double afd_memory_router_weights_bytes (const AfdLlm *llm);

/* Embedding table + LM head (once when tied), whole model, split @shards ways. */
double afd_memory_embedding_weights_bytes (const AfdLlm *llm, guint shards);

/* One vocabulary table (the embedding, or the LM head) V·H · embedding dtype, split @shards
 * ways: what a pipeline's first stage (embedding) or last stage (LM head) holds apart. */
double afd_memory_vocab_table_bytes (const AfdLlm *llm, guint shards);

/* Peak live activations of one attention block over @tokens new tokens and @head_count heads:
 * tokens·(2·H + q, k, v and attention-output widths of the share) · activation dtype. */
double afd_memory_attention_activation_bytes (const AfdLlm *llm, guint head_count,
                                              guint64 tokens);

/* Peak live activations of the expert FFN over @tokens token-expert pairs:
 * tokens·(2·H + (matrices − 1)·M) · activation dtype. */
double afd_memory_expert_activation_bytes (const AfdLlm *llm, guint64 tokens);

/* Dispatch + combine buffers for @tokens token-destinations: tokens·H·(dispatch + combine
 * dtype bytes). */
double afd_memory_comm_buffer_bytes (const AfdLlm *llm, guint64 tokens);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdMemoryPlan, afd_memory_plan_free)

G_END_DECLS

#endif /* AFD_MODELS_MEMORY_H */
