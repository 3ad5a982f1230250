/* SPDX-License-Identifier: MIT */
/*
 * llm.h - one LLM architecture (AfdLlm), loaded strictly from models/llm/NAME.json.
 *
 * The struct holds the shapes that every room needs: operator builders (models/ops.h), the
 * memory model, the AFD roofline and the cost backends. Sizes are element counts (dimensions),
 * never bytes; byte sizes come from the per-tensor-class dtypes. The loader rejects unknown
 * keys, missing keys, zero or negative sizes and inconsistent shapes (top_k > experts, heads
 * not divisible by kv heads, ...) with AFD_ERROR_CONFIG naming the file and key. The parameter
 * counts here are the one definition used by `afdsim show model` and the memory model
 * (docs/user/model-format.md explains what is counted). This module keeps no cJSON.
 */
#ifndef AFD_SIM_LLM_H
#define AFD_SIM_LLM_H

#include <glib.h>

#include "sim/gpu-spec.h"

G_BEGIN_DECLS

/* How attention is computed; selects the KV layout and the FLOP formulas. */
typedef enum {
  AFD_ATTENTION_MHA = 0, /* multi-head: one K and one V head per query head */
  AFD_ATTENTION_GQA,     /* grouped-query: n_kv_heads shared K/V heads */
  AFD_ATTENTION_MLA,     /* multi-head latent (DeepSeek): cache = latent + rope key */
  AFD_ATTENTION_MFA,     /* multi-matrix factorisation (Step-3): low-rank Q, 1 shared K/V */
  AFD_ATTENTION_COUNT
} AfdAttentionKind;

/* The FFN's activation; selects the number of weight matrices (GELU 2, SwiGLU 3). */
typedef enum {
  AFD_FFN_GELU = 0, /* up H×M, GELU, down M×H */
  AFD_FFN_SWIGLU,   /* gate H×M, up H×M, SiLU(gate)·up, down M×H */
  AFD_FFN_COUNT
} AfdFfnActivation;

/* Element types per tensor class (docs/user/model-format.md, key "dtypes"). */
typedef struct {
  AfdDtype attention_weights; /* QKV/MLA/out projections; also the attention GEMM math */
  AfdDtype dense_weights;     /* dense FFN and shared expert */
  AfdDtype expert_weights;    /* routed experts; also the grouped-GEMM math */
  AfdDtype embedding_weights; /* embedding table and LM head */
  AfdDtype kv_cache;          /* KV cache elements */
  AfdDtype activations;       /* hidden states between operators */
  AfdDtype dispatch;          /* tokens sent attention -> experts (e.g. fp8) */
  AfdDtype combine;           /* expert outputs sent back (e.g. bf16) */
} AfdLlmDtypes;

/* One model. All counts are dimensions (elements), not bytes. */
typedef struct {
  char *name;   /* "deepseek-v3" */
  char *source; /* citation of the public config the numbers come from */
  char *notes;  /* (nullable) assumptions, e.g. "vocab assumed" */

  guint n_layers;           /* transformer blocks of the main model */
  guint dense_layers_first; /* leading blocks with a dense FFN instead of MoE */
  guint dense_layers_last;  /* trailing blocks with a dense FFN instead of MoE */
  guint mtp_layers;         /* multi-token-prediction modules (not in params_total) */
  guint hidden_size;        /* H, model width */
  guint vocab_size;         /* embedding rows */
  gboolean tie_embeddings;  /* LM head shares the embedding table */
  guint context_tokens;     /* default context length L for sizing and `show model` */

  AfdAttentionKind attention;
  guint n_heads;          /* query heads */
  guint n_kv_heads;       /* K/V heads (MHA: = n_heads; MLA: = n_heads, cache is latent) */
  guint head_dim;         /* Q/K/V head dimension (MHA/GQA/MFA); MLA: nope + rope */
  guint q_lora_rank;      /* low-rank query dimension (MLA/MFA), 0 = full-rank Q */
  guint kv_lora_rank;     /* MLA latent d_c (0 otherwise) */
  guint qk_nope_head_dim; /* MLA per-head non-rotary Q/K dimension */
  guint qk_rope_head_dim; /* MLA rotary dimension d_r, shared key part */
  guint v_head_dim;       /* value head dimension (= head_dim except MLA) */

  AfdFfnActivation activation;
  guint dense_intermediate_size;  /* d_ff of dense FFN blocks (0 if no dense block) */
  guint n_routed_experts;         /* E, 0 = dense model */
  guint top_k;                    /* routed experts per token */
  guint n_shared_experts;         /* always-active experts per MoE block */
  guint expert_intermediate_size; /* M, per routed expert */
  guint shared_expert_intermediate_size; /* per shared expert */

  AfdLlmDtypes dtypes;

  /* Multi-token prediction (docs/models/mtp.md): 0 in a loaded model; in the copy made by
   * afd_llm_with_draft() the last draft_layers of n_layers are the draft module's passes of one
   * step (MoE blocks when the model has experts), and every LM head computes logits for
   * 1 + 2·draft_layers positions per sequence. */
  guint draft_layers;
} AfdLlm;

/* Parameter counts in elements (docs/user/model-format.md "What is counted"). */
typedef struct {
  double embedding;           /* input embedding table V×H */
  double lm_head;             /* output projection H×V (0 when tied) */
  double attention_per_layer; /* projections and their norms, one block */
  double dense_ffn_per_layer; /* one dense FFN block */
  double expert;              /* one routed expert */
  double shared_expert;       /* one shared expert */
  double router_per_layer;    /* gate H×E of one MoE block */
  double norms_per_layer;     /* the two RMSNorms around attention and FFN */
  double mtp;                 /* all MTP modules (excluded from total/active) */
  double total;               /* main model, MTP excluded */
  double active;              /* total minus the routed experts a token does not use */
} AfdLlmParams;

/**
 * afd_llm_load:
 * @name_or_file: a shipped model name (models/llm/NAME.json) or a JSON file path
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with AFD_ERROR_CONFIG naming the
 *   file, the key and the problem (AFD_ERROR_IO when unreadable)
 */
AfdLlm *afd_llm_load (const char *name_or_file, GError **error);

/**
 * afd_llm_load_file:
 * @path: a JSON file path (no name lookup)
 *
 * Returns: (transfer full) (nullable): as afd_llm_load()
 */
AfdLlm *afd_llm_load_file (const char *path, GError **error);

/* Returns: (transfer full): a deep copy. */
AfdLlm *afd_llm_copy (const AfdLlm *llm);

void afd_llm_free (AfdLlm *llm);

/**
 * afd_llm_with_draft:
 * @n_draft: draft tokens per decode step (MTP / speculative decoding), >= 1
 *
 * The model one MTP decode step runs (docs/models/mtp.md): @llm with @n_draft passes of its
 * draft module appended as blocks (n_layers + @n_draft; draft_layers = @n_draft). Needs
 * llm->mtp_layers >= 1.
 *
 * Returns: (transfer full): the copy
 */
AfdLlm *afd_llm_with_draft (const AfdLlm *llm, guint n_draft);

/* Returns: %TRUE when block @layer (0-based, < n_layers) has an MoE FFN. */
gboolean afd_llm_layer_is_moe (const AfdLlm *llm, guint layer);

/* Returns: the number of MoE blocks (0 for a dense model). */
guint afd_llm_n_moe_layers (const AfdLlm *llm);

/* Returns: the number of dense-FFN blocks. */
guint afd_llm_n_dense_layers (const AfdLlm *llm);

/* Returns: weight matrices per FFN: 2 for GELU, 3 for SwiGLU. */
guint afd_llm_ffn_matrices (const AfdLlm *llm);

/**
 * afd_llm_kv_elements_per_token_layer:
 *
 * KV cache elements one token adds in one block: MHA/GQA/MFA 2·n_kv_heads·head_dim,
 * MLA kv_lora_rank + qk_rope_head_dim.
 */
double afd_llm_kv_elements_per_token_layer (const AfdLlm *llm);

/* Returns: KV cache bytes per token over all blocks, in the kv_cache dtype. */
double afd_llm_kv_bytes_per_token (const AfdLlm *llm);

/* Fills @out with the parameter counts (elements). */
void afd_llm_params (const AfdLlm *llm, AfdLlmParams *out);

/* Returns: the JSON name ("mla"), or NULL for an invalid value. */
const char *afd_attention_kind_name (AfdAttentionKind kind);

/* Returns: the JSON name ("swiglu"), or NULL for an invalid value. */
const char *afd_ffn_activation_name (AfdFfnActivation activation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdLlm, afd_llm_free)

G_END_DECLS

#endif /* AFD_SIM_LLM_H */
