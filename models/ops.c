/* SPDX-License-Identifier: MIT */
/*
 * ops.c - operator builders: FLOPs, HBM bytes and shapes of every op of one block.
 *
 * Formulas: docs/models/operators.md. Attention-core FLOPs and KV bytes follow the Step-3
 * paper's Table 2 (arXiv 2507.19427; /work/shared/reference/afd-roofline.md §2.3), which
 * tests/test-ops.c reproduces exactly; FFN FLOPs are 2 × the activated FFN weights. Bytes
 * count one pass over weights, inputs, outputs and the KV cache (no cache reuse), which is
 * what a roofline needs. Nothing here knows a GPU or a strategy.
 */
#include "config.h"

#include <string.h>

#include "models/ops.h"
#include "sim/error.h"

/* FLOPs per element of an RMSNorm: square, accumulate, scale, multiply by the weight. */
#define NORM_FLOPS_PER_ELEMENT 4.0
/* Router scores are kept in fp32 for the top-k. */
#define ROUTER_SCORE_BYTES 4.0
/* LM-head logits are written in fp32. */
#define LOGIT_BYTES 4.0

void
afd_ops_params_init (AfdOpsParams *params, AfdPhase phase)
{
  g_return_if_fail (params != NULL);
  memset (params, 0, sizeof *params);
  params->phase = phase;
  params->n_sequences = 1;
  params->new_tokens = 1;
  params->ffn_shards = 1;
}

const char *
afd_phase_name (AfdPhase phase)
{
  return phase == AFD_PHASE_PREFILL ? "prefill" : "decode";
}

void
afd_ops_split_heads (guint n_heads, guint n_ranks, guint rank, guint *out_first, guint *out_count)
{
  g_return_if_fail (n_ranks >= 1 && rank < n_ranks && out_first != NULL && out_count != NULL);
  guint base = n_heads / n_ranks, extra = n_heads % n_ranks;
  *out_count = base + (rank < extra ? 1 : 0);
  *out_first = rank * base + MIN (rank, extra);
}

guint
afd_ops_kv_heads_for (const AfdLlm *llm, guint head_first, guint head_count)
{
  g_return_val_if_fail (llm != NULL, 0);
  if (head_count == 0)
    return 0;
  switch (llm->attention)
    {
    case AFD_ATTENTION_MLA:
    case AFD_ATTENTION_MFA:
      return llm->attention == AFD_ATTENTION_MFA ? llm->n_kv_heads : 1;
    case AFD_ATTENTION_MHA:
      return head_count;
    case AFD_ATTENTION_GQA:
    default:
      {
        guint group = llm->n_heads / llm->n_kv_heads;
        return (head_first + head_count - 1) / group - head_first / group + 1;
      }
    }
}

/* A new op with name "layerN.SUFFIX" (or SUFFIX when @layer is G_MAXUINT). */
static AfdOp *
op_new (AfdOpKind kind, guint layer, const char *suffix)
{
  g_autofree char *name
      = layer == G_MAXUINT ? g_strdup (suffix) : g_strdup_printf ("layer%u.%s", layer, suffix);
  AfdOp *op = afd_op_new (kind, name);
  op->layer = layer;
  return op;
}

/* Fills a GEMM: @count matrices k×n of @w_bytes elements, input m×k read once, output m×n
 * written once (in @a_bytes); FLOPs 2·m·n·k·count. */
static void
set_gemm (AfdOp *op, double m, double n, double k, double count, double w_bytes, double in_bytes,
          double out_bytes)
{
  op->has_gemm = TRUE;
  op->gemm.m = (guint64)m;
  op->gemm.n = (guint64)n;
  op->gemm.k = (guint64)k;
  op->gemm.count = (guint64)count;
  op->flops = 2.0 * m * n * k * count;
  op->bytes_read = count * n * k * w_bytes + m * k * in_bytes;
  op->bytes_written = m * n * count * out_bytes;
}

AfdOp *
afd_ops_norm (const AfdLlm *llm, guint layer, guint64 tokens, const char *suffix)
{
  g_return_val_if_fail (llm != NULL, NULL);
  AfdOp *op = op_new (AFD_OP_NORM, layer, suffix != NULL ? suffix : "norm");
  const double h = llm->hidden_size, a = afd_dtype_bytes (llm->dtypes.activations);
  op->dtype = llm->dtypes.activations;
  op->flops = NORM_FLOPS_PER_ELEMENT * (double)tokens * h;
  op->bytes_read = (double)tokens * h * a + h * afd_dtype_bytes (llm->dtypes.attention_weights);
  op->bytes_written = (double)tokens * h * a;
  return op;
}

/* Sum over the q new tokens of one sequence of the positions they attend to: token i
 * (1-based) sees c + i keys, so Σ = q·c + q(q+1)/2. */
static double
attended_positions (guint64 q, guint64 c)
{
  return (double)q * (double)c + (double)q * ((double)q + 1.0) / 2.0;
}

/* The attention core of one GPU (prefill or decode) for @hc query and @kvc kv heads. */
static AfdOp *
attention_core (const AfdLlm *llm, const AfdOpsParams *p, guint hc, guint kvc)
{
  const gboolean decode = p->phase == AFD_PHASE_DECODE;
  AfdOp *op = op_new (decode ? AFD_OP_ATTENTION_DECODE : AFD_OP_ATTENTION_PREFILL, p->layer,
                      decode ? "attention_decode" : "attention_prefill");
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  const double kvb = afd_dtype_bytes (llm->dtypes.kv_cache);
  const double nseq = (double)p->n_sequences, q = (double)p->new_tokens;
  const double tokens = nseq * q;
  const double keys = nseq * ((double)p->context_tokens + q); /* cached + new, per GPU */
  const double sum_s = nseq * attended_positions (p->new_tokens, p->context_tokens);
  double dqk, dv, kv_elems, core;

  if (llm->attention == AFD_ATTENTION_MLA && decode)
    {
      /* Absorbed MLA: every head scores the latent + rope key (d_c + d_r) and reads the
       * latent as value. Reference §2.3 counts 4·n_h·(d_c + d_r) per key. */
      dqk = (double)llm->kv_lora_rank + llm->qk_rope_head_dim;
      dv = llm->kv_lora_rank;
      kv_elems = dqk;
      core = 4.0 * hc * dqk * sum_s;
      op->bytes_read = keys * kv_elems * kvb + tokens * hc * dqk * a;
    }
  else if (llm->attention == AFD_ATTENTION_MLA)
    {
      /* Prefill MLA: K and V are materialised per head by mla_kv_up (activation dtype). */
      dqk = (double)llm->qk_nope_head_dim + llm->qk_rope_head_dim;
      dv = llm->v_head_dim;
      kv_elems = (double)llm->kv_lora_rank + llm->qk_rope_head_dim;
      core = 2.0 * hc * (dqk + dv) * sum_s;
      op->bytes_read = keys * hc * (dqk + dv) * a + tokens * hc * dqk * a;
    }
  else
    {
      dqk = llm->head_dim;
      dv = llm->v_head_dim;
      kv_elems = 2.0 * kvc * llm->head_dim;
      core = 2.0 * hc * (dqk + dv) * sum_s;
      op->bytes_read = keys * kv_elems * kvb + tokens * hc * dqk * a;
    }
  op->dtype = llm->dtypes.activations;
  op->flops = core;
  /* Output rows, plus the new tokens' KV appended to the cache. */
  op->bytes_written = tokens * hc * dv * a + tokens * kv_elems * kvb;
  op->has_attention = TRUE;
  op->attention.n_heads = hc;
  op->attention.n_kv_heads = llm->attention == AFD_ATTENTION_MLA ? 1 : kvc;
  op->attention.head_dim_qk = (guint)dqk;
  op->attention.head_dim_v = (guint)dv;
  op->attention.n_sequences = p->n_sequences;
  op->attention.query_tokens = p->new_tokens;
  op->attention.context_tokens = p->context_tokens;
  return op;
}

gboolean
afd_ops_attention_block (const AfdLlm *llm, const AfdOpsParams *params, GPtrArray *out_ops,
                         GError **error)
{
  g_return_val_if_fail (llm != NULL && params != NULL && out_ops != NULL, FALSE);
  const guint hc = params->head_count == 0 ? llm->n_heads : params->head_count;
  const guint hf = params->head_count == 0 ? 0 : params->head_first;
  if (hf + hc > llm->n_heads)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "model %s: heads %u..%u requested, the model has %u", llm->name, hf, hf + hc - 1,
                   llm->n_heads);
      return FALSE;
    }
  if (params->n_sequences == 0 || params->new_tokens == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "model %s layer %u: empty batch (%" G_GUINT64_FORMAT
                   " sequences of %" G_GUINT64_FORMAT " new tokens)",
                   llm->name, params->layer, params->n_sequences, params->new_tokens);
      return FALSE;
    }
  if (params->layer >= llm->n_layers)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "model %s: layer %u requested, the model has %u", llm->name, params->layer,
                   llm->n_layers);
      return FALSE;
    }
  const guint kvc = afd_ops_kv_heads_for (llm, hf, hc);
  const guint layer = params->layer;
  const double h = llm->hidden_size;
  const double w = afd_dtype_bytes (llm->dtypes.attention_weights);
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  const double kvb = afd_dtype_bytes (llm->dtypes.kv_cache);
  const double tokens = (double)params->n_sequences * params->new_tokens;
  const AfdDtype math = llm->dtypes.attention_weights;
  AfdOp *op;

  g_ptr_array_add (out_ops, afd_ops_norm (llm, layer, (guint64)tokens, "attention_norm"));

  if (llm->attention == AFD_ATTENTION_MLA || llm->attention == AFD_ATTENTION_MFA)
    {
      const double qdim = llm->attention == AFD_ATTENTION_MLA
                              ? (double)llm->qk_nope_head_dim + llm->qk_rope_head_dim
                              : (double)llm->head_dim;
      double q_in = h;
      if (llm->q_lora_rank > 0)
        {
          op = op_new (AFD_OP_MLA_Q_DOWN, layer, "q_down");
          op->dtype = math;
          set_gemm (op, tokens, llm->q_lora_rank, h, 1, w, a, a);
          g_ptr_array_add (out_ops, op);
          q_in = llm->q_lora_rank;
        }
      op = op_new (AFD_OP_MLA_Q_UP, layer, "q_up");
      op->dtype = math;
      set_gemm (op, tokens, hc * qdim, q_in, 1, w, a, a);
      g_ptr_array_add (out_ops, op);
      if (llm->attention == AFD_ATTENTION_MLA)
        {
          const double dc = llm->kv_lora_rank, dr = llm->qk_rope_head_dim;
          op = op_new (AFD_OP_MLA_KV_DOWN, layer, "kv_down");
          op->dtype = math;
          set_gemm (op, tokens, dc + dr, h, 1, w, a, kvb);
          g_ptr_array_add (out_ops, op);
          /* W_UK/W_UV: prefill materialises K and V for every key (cached + new); decode
           * absorbs them into the query and the output of the new tokens. */
          double m = params->phase == AFD_PHASE_PREFILL
                         ? (double)params->n_sequences
                               * ((double)params->context_tokens + params->new_tokens)
                         : tokens;
          op = op_new (AFD_OP_MLA_KV_UP, layer, "kv_up");
          op->dtype = math;
          set_gemm (op, m, hc * ((double)llm->qk_nope_head_dim + llm->v_head_dim), dc, 1, w, kvb,
                    a);
          g_ptr_array_add (out_ops, op);
        }
      else
        {
          op = op_new (AFD_OP_QKV_PROJ, layer, "kv_proj");
          op->dtype = math;
          set_gemm (op, tokens, 2.0 * kvc * llm->head_dim, h, 1, w, a, kvb);
          g_ptr_array_add (out_ops, op);
        }
    }
  else
    {
      op = op_new (AFD_OP_QKV_PROJ, layer, "qkv_proj");
      op->dtype = math;
      set_gemm (op, tokens, ((double)hc + 2.0 * kvc) * llm->head_dim, h, 1, w, a, a);
      g_ptr_array_add (out_ops, op);
    }

  g_ptr_array_add (out_ops, attention_core (llm, params, hc, kvc));

  op = op_new (AFD_OP_OUT_PROJ, layer, "out_proj");
  op->dtype = math;
  set_gemm (op, tokens, h, (double)hc * llm->v_head_dim, 1, w, a, a);
  g_ptr_array_add (out_ops, op);
  return TRUE;
}

AfdOp *
afd_ops_router (const AfdLlm *llm, guint layer, guint64 tokens)
{
  g_return_val_if_fail (llm != NULL && llm->n_routed_experts > 0, NULL);
  AfdOp *op = op_new (AFD_OP_ROUTER, layer, "router");
  op->dtype = llm->dtypes.attention_weights;
  set_gemm (op, (double)tokens, llm->n_routed_experts, llm->hidden_size, 1,
            afd_dtype_bytes (llm->dtypes.attention_weights),
            afd_dtype_bytes (llm->dtypes.activations), ROUTER_SCORE_BYTES);
  return op;
}

/* Fills an FFN op over @tokens with @count matrices of H×@inter (plus the m×inter
 * intermediate written once and read once). */
static void
set_ffn (AfdOp *op, const AfdLlm *llm, double tokens, double inter, double w_bytes, double in_bytes,
         double out_bytes)
{
  const double h = llm->hidden_size, mats = afd_llm_ffn_matrices (llm);
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  op->has_gemm = TRUE;
  op->gemm.m = (guint64)tokens;
  op->gemm.n = (guint64)inter;
  op->gemm.k = (guint64)h;
  op->gemm.count = (guint64)mats;
  op->flops = 2.0 * mats * h * inter * tokens;
  op->bytes_read = mats * h * inter * w_bytes + tokens * h * in_bytes + tokens * inter * a;
  op->bytes_written = tokens * h * out_bytes + tokens * inter * a;
}

AfdOp *
afd_ops_expert_grouped_gemm (const AfdLlm *llm, guint layer, const guint64 *expert_tokens,
                             guint n_experts)
{
  g_return_val_if_fail (llm != NULL && llm->n_routed_experts > 0, NULL);
  g_return_val_if_fail (expert_tokens != NULL || n_experts == 0, NULL);
  AfdOp *op = op_new (AFD_OP_EXPERT_GROUPED_GEMM, layer, "experts");
  const double h = llm->hidden_size, mi = llm->expert_intermediate_size;
  const double mats = afd_llm_ffn_matrices (llm);
  const double we = afd_dtype_bytes (llm->dtypes.expert_weights);
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  double total = 0, used = 0;
  for (guint e = 0; e < n_experts; e++)
    {
      total += (double)expert_tokens[e];
      used += expert_tokens[e] > 0 ? 1.0 : 0.0;
    }
  op->dtype = llm->dtypes.expert_weights;
  op->has_gemm = TRUE;
  op->gemm.m = n_experts > 0 ? (guint64)((total + n_experts - 1) / n_experts) : 0;
  op->gemm.n = (guint64)mi;
  op->gemm.k = (guint64)h;
  op->gemm.count = (guint64)mats;
  op->flops = 2.0 * mats * h * mi * total;
  /* Only experts that received tokens have their weights read. */
  op->bytes_read = used * mats * h * mi * we + total * h * afd_dtype_bytes (llm->dtypes.dispatch)
                   + total * mi * a;
  op->bytes_written = total * h * afd_dtype_bytes (llm->dtypes.combine) + total * mi * a;
  afd_op_set_expert_tokens (op, expert_tokens, n_experts);
  return op;
}

AfdOp *
afd_ops_shared_expert (const AfdLlm *llm, guint layer, guint64 tokens, guint shards)
{
  g_return_val_if_fail (llm != NULL, NULL);
  if (llm->n_shared_experts == 0)
    return NULL;
  shards = MAX (shards, 1u);
  AfdOp *op = op_new (AFD_OP_SHARED_EXPERT, layer, "shared_expert");
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  op->dtype = llm->dtypes.dense_weights;
  set_ffn (op, llm, (double)tokens,
           (double)llm->n_shared_experts * llm->shared_expert_intermediate_size / shards,
           afd_dtype_bytes (llm->dtypes.dense_weights), a, a);
  return op;
}

AfdOp *
afd_ops_dense_ffn (const AfdLlm *llm, guint layer, guint64 tokens, guint shards)
{
  g_return_val_if_fail (llm != NULL, NULL);
  shards = MAX (shards, 1u);
  AfdOp *op = op_new (AFD_OP_DENSE_FFN, layer, "dense_ffn");
  const double a = afd_dtype_bytes (llm->dtypes.activations);
  op->dtype = llm->dtypes.dense_weights;
  set_ffn (op, llm, (double)tokens, (double)llm->dense_intermediate_size / shards,
           afd_dtype_bytes (llm->dtypes.dense_weights), a, a);
  return op;
}

AfdOp *
afd_ops_lm_head (const AfdLlm *llm, guint64 tokens, guint shards)
{
  g_return_val_if_fail (llm != NULL, NULL);
  shards = MAX (shards, 1u);
  AfdOp *op = op_new (AFD_OP_LM_HEAD, G_MAXUINT, "lm_head");
  op->dtype = llm->dtypes.embedding_weights;
  /* MTP step (docs/models/mtp.md): the N + 1 verified positions and one per draft pass. */
  tokens *= 1 + 2 * (guint64)llm->draft_layers;
  set_gemm (op, (double)tokens, (double)llm->vocab_size / shards, llm->hidden_size, 1,
            afd_dtype_bytes (llm->dtypes.embedding_weights),
            afd_dtype_bytes (llm->dtypes.activations), LOGIT_BYTES);
  return op;
}

void
afd_ops_token_cost (const AfdLlm *llm, guint64 context_tokens, AfdOpsTokenCost *out)
{
  g_return_if_fail (llm != NULL && out != NULL);
  const double L = (double)context_tokens, layers = llm->n_layers;
  const double h = llm->hidden_size, nh = llm->n_heads;
  AfdLlmParams params;
  afd_llm_params (llm, &params);
  memset (out, 0, sizeof *out);
  out->kv_bytes = afd_llm_kv_elements_per_token_layer (llm) * L * layers
                  * afd_dtype_bytes (llm->dtypes.kv_cache);
  /* Reference §2.3: MLA 4·n_h·(d_c + d_r)·s; GQA/MHA/MFA 4·n_q·d_h·s. */
  const double dot = llm->attention == AFD_ATTENTION_MLA
                         ? (double)llm->kv_lora_rank + llm->qk_rope_head_dim
                         : (double)llm->head_dim;
  out->attention_core_flops = 4.0 * nh * dot * L * layers;
  out->projection_flops = 2.0 * params.attention_per_layer * layers;
  const double n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);
  out->ffn_flops = 2.0
                   * (n_moe
                          * ((double)llm->top_k * params.expert
                             + (double)llm->n_shared_experts * params.shared_expert)
                      + n_dense * params.dense_ffn_per_layer);
  out->router_flops = 2.0 * params.router_per_layer * n_moe;
  out->lm_head_flops = 2.0 * h * llm->vocab_size;
  out->total_flops = out->attention_core_flops + out->projection_flops + out->ffn_flops
                     + out->router_flops + out->lm_head_flops;
}
