/* SPDX-License-Identifier: MIT */
/*
 * ops.h - per-layer operator builders: an AfdLlm + a batch shape + a share of heads/experts
 * -> AfdOps with FLOPs, HBM bytes and GEMM/attention shapes.
 *
 * Formulas (docs/models/operators.md; source: the Step-3 paper's Table 2 formulas as in
 * /work/shared/reference/afd-roofline.md §2.3, reproduced exactly by tests/test-ops.c):
 *   GEMM m×n×k                 FLOPs 2·m·n·k; bytes = weights + inputs + outputs
 *   attention decode (per seq)  MHA/GQA/MFA FLOPs 4·h·d·s, MLA (absorbed) 4·h·(d_c + d_r)·s,
 *                               KV bytes read = s · kv elements per token-layer · kv dtype
 *   FFN per token-expert        2·(matrices)·H·M  (SwiGLU 3 matrices: 6·H·M; GELU 2: 4·H·M)
 * The builders price nothing (that is a cost backend's job) and place nothing (that is a
 * strategy's job): they describe the work of one GPU given its share.
 */
#ifndef AFD_MODELS_OPS_H
#define AFD_MODELS_OPS_H

#include <glib.h>

#include "sim/llm.h"
#include "sim/op.h"

G_BEGIN_DECLS

/* Which inference phase an op belongs to. */
typedef enum {
  AFD_PHASE_PREFILL = 0, /* the prompt: new_tokens per sequence, causal attention */
  AFD_PHASE_DECODE,      /* one new token per sequence (or 1 + drafts with MTP) */
} AfdPhase;

/* The work of one GPU in one block. */
typedef struct {
  AfdPhase phase;
  guint layer;            /* block index, for names and dense/MoE choice */
  guint64 n_sequences;    /* sequences in the (micro-)batch this GPU serves */
  guint64 new_tokens;     /* new tokens per sequence (prefill: prompt length; decode: 1) */
  guint64 context_tokens; /* cached tokens per sequence before this step */
  guint head_first;       /* first query head on this GPU (heads are split contiguously) */
  guint head_count;       /* query heads on this GPU; 0 means all n_heads */
  guint ffn_shards;       /* dense FFN, shared expert, router and LM head columns split this
                             many ways (tensor parallelism); 0 or 1 = whole */
} AfdOpsParams;

/**
 * afd_ops_params_init:
 *
 * Fills @params for @phase with one sequence, one new token, no context, all heads, no
 * sharding, layer 0.
 */
void afd_ops_params_init (AfdOpsParams *params, AfdPhase phase);

/* Returns: "prefill" or "decode". */
const char *afd_phase_name (AfdPhase phase);

/**
 * afd_ops_split_heads:
 * @n_ranks: GPUs sharing the heads (>= 1)
 * @rank: 0 <= rank < n_ranks
 *
 * Balanced contiguous split: the first n_heads mod n_ranks ranks get one head more
 * (32 heads over 12 GPUs: 8 GPUs of 3, then 4 of 2).
 */
void afd_ops_split_heads (guint n_heads, guint n_ranks, guint rank, guint *out_first,
                          guint *out_count);

/**
 * afd_ops_kv_heads_for:
 *
 * Returns: the K/V heads the query heads [@head_first, @head_first + @head_count) need:
 *   MHA the same count; GQA the groups they touch; MLA and MFA 1 (the latent or the shared
 *   head, replicated on every GPU)
 */
guint afd_ops_kv_heads_for (const AfdLlm *llm, guint head_first, guint head_count);

/**
 * afd_ops_attention_block:
 * @out_ops: (element-type AfdOp): receives, in order, norm, the projections (qkv_proj or the
 *   MLA/MFA down/up projections), the attention core (prefill or decode) and out_proj;
 *   the array must free its elements with afd_op_free
 *
 * Returns: %FALSE with AFD_ERROR_INFEASIBLE when the head range is outside the model or the
 *   batch is empty
 */
gboolean afd_ops_attention_block (const AfdLlm *llm, const AfdOpsParams *params,
                                  GPtrArray *out_ops, GError **error);

/**
 * afd_ops_router:
 * @tokens: tokens routed (all sequences' new tokens)
 *
 * Returns: (transfer full): the gate GEMM tokens×H×E (fp32 scores written)
 */
AfdOp *afd_ops_router (const AfdLlm *llm, guint layer, guint64 tokens);

/**
 * afd_ops_expert_grouped_gemm:
 * @expert_tokens: (array length=n_experts): tokens routed to each expert held by this GPU
 *
 * One op for the whole expert FFN (up/gate, activation, down) of this GPU's experts:
 * FLOPs 2·matrices·H·M·Σ tokens; bytes read = weights of experts with >= 1 token + inputs
 * (dispatch dtype); bytes written = outputs (combine dtype). gemm.m is the mean tokens per
 * local expert, rounded up.
 *
 * Returns: (transfer full): the op
 */
AfdOp *afd_ops_expert_grouped_gemm (const AfdLlm *llm, guint layer, const guint64 *expert_tokens,
                                    guint n_experts);

/**
 * afd_ops_shared_expert:
 * @shards: column split (1 = whole)
 *
 * Returns: (transfer full): all n_shared_experts as one FFN op, or %NULL when the model has none
 */
AfdOp *afd_ops_shared_expert (const AfdLlm *llm, guint layer, guint64 tokens, guint shards);

/* Returns: (transfer full): the dense FFN of block @layer over @tokens, split @shards ways. */
AfdOp *afd_ops_dense_ffn (const AfdLlm *llm, guint layer, guint64 tokens, guint shards);

/* Returns: (transfer full): the LM head over @tokens (usually one per sequence), split @shards
 * ways; in an MTP step's model (afd_llm_with_draft) over @tokens × (1 + 2·draft_layers): the
 * N + 1 verified positions and one per draft pass (docs/models/mtp.md). */
AfdOp *afd_ops_lm_head (const AfdLlm *llm, guint64 tokens, guint shards);

/**
 * afd_ops_norm:
 *
 * Returns: (transfer full): an RMSNorm over tokens×H (5 FLOPs per element; reads and writes
 *   the activations once)
 */
AfdOp *afd_ops_norm (const AfdLlm *llm, guint layer, guint64 tokens, const char *suffix);

/* Per-token totals over the whole model (decode, one token, all heads, no sharding). */
typedef struct {
  double kv_bytes;             /* KV bytes read for one token at context L, all blocks */
  double attention_core_flops; /* attention-core FLOPs at context L, all blocks */
  double projection_flops;     /* attention projections (QKV/MLA/out), all blocks */
  double ffn_flops;            /* 2·(activated FFN weights): dense blocks + k routed + shared */
  double router_flops;         /* gates, all MoE blocks */
  double lm_head_flops;        /* 2·H·V */
  double total_flops;          /* sum of the above */
} AfdOpsTokenCost;

/**
 * afd_ops_token_cost:
 * @context_tokens: L, the context each decoded token attends to
 *
 * Fills @out for one decoded token (formulas in docs/models/operators.md).
 */
void afd_ops_token_cost (const AfdLlm *llm, guint64 context_tokens, AfdOpsTokenCost *out);

G_END_DECLS

#endif /* AFD_MODELS_OPS_H */
