/* SPDX-License-Identifier: MIT */
/* Tests for models/ops.c: the Step-3 Table 2 figures (reference §2.3) exactly, and the
 * FLOPs/bytes/shapes of the per-block operators against hand-worked values
 * (docs/models/operators.md). */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "models/ops.h"
#include "tests/test-helpers.h"

/* Loads a shipped model with an fp8 KV cache, as Step-3's Table 2 assumes for every model. */
static AfdLlm *
load_fp8_kv (const char *name)
{
  g_autoptr (GError) error = NULL;
  AfdLlm *llm = afd_llm_load (name, &error);
  afd_assert_no_error (error);
  llm->dtypes.kv_cache = AFD_DTYPE_FP8;
  return llm;
}

/* Step-3 Table 2 (arXiv 2507.19427), 8K context × layers, fp8 KV: the exact products of the
 * §2.3 formulas, and the paper's printed 3-digit values within their rounding (0.5%). */
Test (ops, step3_table2_attention_exact)
{
  static const struct
  {
    const char *name;
    double kv_exact, flops_exact, kv_paper, flops_paper;
  } cases[] = {
    /* MLA (512 + 64)·8192·61 and 4·128·576·8192·61 */
    { "deepseek-v3", 287834112.0, 147371065344.0, 2.88e8, 1.47e11 },
    /* MLA, 64 heads: 4·64·576·8192·61 */
    { "kimi-k2", 287834112.0, 73685532672.0, 2.88e8, 7.37e10 },
    /* GQA 2·4·128·8192·94 and 4·64·128·8192·94 */
    { "qwen3-235b-a22b", 788529152.0, 25232932864.0, 7.89e8, 2.52e10 },
    /* MFA 2·256·8192·61 and 4·64·256·8192·61 */
    { "step-3", 255852544.0, 32749125632.0, 2.56e8, 3.27e10 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AfdLlm) llm = load_fp8_kv (cases[i].name);
      AfdOpsTokenCost c;
      afd_ops_token_cost (llm, 8192, &c);
      cr_assert_float_eq (c.kv_bytes, cases[i].kv_exact, 0.5, "%s KV bytes", cases[i].name);
      cr_assert_float_eq (c.attention_core_flops, cases[i].flops_exact, 0.5, "%s FLOPs",
                          cases[i].name);
      cr_assert (fabs (c.kv_bytes / cases[i].kv_paper - 1) < 0.005, "%s", cases[i].name);
      cr_assert (fabs (c.attention_core_flops / cases[i].flops_paper - 1) < 0.005, "%s",
                 cases[i].name);
    }
}

/* FFN FLOPs per token = 2·(activated FFN weights) (reference §2.3): exact values and the
 * paper's 4.84e10 / 5.33e10 / 2.84e10 / 7.61e10 within their rounding. */
Test (ops, step3_table2_ffn_flops_exact)
{
  static const struct
  {
    const char *name;
    double exact, paper;
  } cases[] = {
    /* 2·(58·9·3·7168·2048 + 3·3·7168·18432) */
    { "deepseek-v3", 48356130816.0, 4.84e10 },
    /* 2·(56·(3+1)·3·7168·5120 + 5·3·7168·18432) */
    { "step-3", 53288632320.0, 5.33e10 },
    /* 2·94·8·3·4096·1536 */
    { "qwen3-235b-a22b", 28387049472.0, 2.84e10 },
    /* 2·(51·8·3·8192·3584 + 3·3·8192·28672) */
    { "ernie-4.5-300b", 76101451776.0, 7.61e10 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AfdLlm) llm = load_fp8_kv (cases[i].name);
      AfdOpsTokenCost c;
      afd_ops_token_cost (llm, 8192, &c);
      cr_assert_float_eq (c.ffn_flops, cases[i].exact, 0.5, "%s", cases[i].name);
      cr_assert (fabs (c.ffn_flops / cases[i].paper - 1) < 0.005, "%s", cases[i].name);
    }
}

/* The per-op attention core of one decoded token at context L-1 (+ itself) equals the
 * per-token formula for one block: the builders and the totals agree. */
Test (ops, decode_op_matches_token_formula)
{
  static const char *const names[] = { "deepseek-v3", "qwen3-235b-a22b", "step-3" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (AfdLlm) llm = load_fp8_kv (names[i]);
      AfdOpsParams p;
      afd_ops_params_init (&p, AFD_PHASE_DECODE);
      p.context_tokens = 8191;
      g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
      g_autoptr (GError) error = NULL;
      cr_assert (afd_ops_attention_block (llm, &p, ops, &error));
      AfdOpsTokenCost c;
      afd_ops_token_cost (llm, 8192, &c);
      const AfdOp *core = NULL;
      for (guint j = 0; j < ops->len; j++)
        if (((AfdOp *)ops->pdata[j])->kind == AFD_OP_ATTENTION_DECODE)
          core = ops->pdata[j];
      cr_assert_not_null (core);
      cr_assert_float_eq (core->flops, c.attention_core_flops / llm->n_layers, 0.5, "%s", names[i]);
    }
}

/* masep-4l decode, 8 sequences at context 2047, heads 0-2 (one MA-Separation attention
 * GPU): qkv_proj and attention_decode by hand (docs/models/operators.md worked example). */
Test (ops, masep_decode_block_by_hand)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("masep-4l", &error);
  afd_assert_no_error (error);
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 8;
  p.context_tokens = 2047;
  p.head_first = 0;
  p.head_count = 3;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  cr_assert (afd_ops_attention_block (llm, &p, ops, &error));
  cr_assert_eq (ops->len, 4u, "norm, qkv_proj, attention_decode, out_proj");
  const AfdOp *qkv = ops->pdata[1], *core = ops->pdata[2], *out = ops->pdata[3];
  cr_assert_eq (qkv->kind, AFD_OP_QKV_PROJ);
  cr_assert_str_eq (qkv->name, "layer0.qkv_proj");
  /* m = 8, n = (3 + 2·3)·128 = 1152, k = 4096: FLOPs 2·8·1152·4096 = 75,497,472; reads the
   * weights 1152·4096·2 = 9,437,184 B and the input 8·4096·2 = 65,536 B; writes 8·1152·2. */
  cr_assert_eq (qkv->gemm.m, 8u);
  cr_assert_eq (qkv->gemm.n, 1152u);
  cr_assert_eq (qkv->gemm.k, 4096u);
  cr_assert_float_eq (qkv->flops, 75497472.0, 0.5);
  cr_assert_float_eq (qkv->bytes_read, 9502720.0, 0.5);
  cr_assert_float_eq (qkv->bytes_written, 18432.0, 0.5);
  /* Each sequence's new token sees 2048 keys: FLOPs 4·3·128·2048·8 = 25,165,824; KV read
   * 8·2048·(2·3·128)·2 = 25,165,824 B plus Q 8·3·128·2 = 6,144 B. */
  cr_assert_eq (core->kind, AFD_OP_ATTENTION_DECODE);
  cr_assert_float_eq (core->flops, 25165824.0, 0.5);
  cr_assert_float_eq (core->bytes_read, 25171968.0, 0.5);
  cr_assert_eq (core->attention.n_heads, 3u);
  cr_assert_eq (core->attention.n_kv_heads, 3u);
  /* out_proj: m = 8, n = 4096, k = 3·128 = 384: 2·8·4096·384 = 25,165,824. */
  cr_assert_float_eq (out->flops, 25165824.0, 0.5);
}

/* Prefill is causal: q new tokens after c cached ones attend to q·c + q(q+1)/2 keys. */
Test (ops, prefill_is_causal)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("mixtral-8x7b", &error);
  afd_assert_no_error (error);
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_PREFILL);
  p.n_sequences = 2;
  p.new_tokens = 4;
  p.context_tokens = 10;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  cr_assert (afd_ops_attention_block (llm, &p, ops, &error));
  const AfdOp *core = ops->pdata[2];
  cr_assert_eq (core->kind, AFD_OP_ATTENTION_PREFILL);
  /* 2 sequences · (4·10 + 4·5/2) = 100 attended positions; 4·32·128 FLOPs each. */
  cr_assert_float_eq (core->flops, 100.0 * 4 * 32 * 128, 0.5);
}

/* Routed experts: FLOPs from the token counts, weights only of experts that got tokens. */
Test (ops, grouped_gemm_counts_used_experts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("masep-4l", &error);
  afd_assert_no_error (error);
  const guint64 counts[] = { 10, 0, 5, 1 };
  g_autoptr (AfdOp) op = afd_ops_expert_grouped_gemm (llm, 2, counts, 4);
  /* GELU: 2 matrices: 2·2·4096·16384·16 tokens = 4,294,967,296 FLOPs. */
  cr_assert_float_eq (op->flops, 4294967296.0, 0.5);
  /* 3 used experts · 2·4096·16384·2 B + inputs 16·4096·1 (fp8 dispatch)
   * + intermediate 16·16384·2. */
  cr_assert_float_eq (op->bytes_read, 3 * 268435456.0 + 65536.0 + 524288.0, 0.5);
  /* outputs 16·4096·2 (bf16 combine) + intermediate 16·16384·2. */
  cr_assert_float_eq (op->bytes_written, 131072.0 + 524288.0, 0.5);
  cr_assert_eq (op->n_experts, 4u);
  cr_assert_eq (op->expert_tokens[2], 5u);
  cr_assert_eq (op->gemm.m, 4u, "ceil(16/4) mean tokens per expert");
  g_autoptr (AfdOp) copy = afd_op_copy (op);
  cr_assert_neq (copy->expert_tokens, op->expert_tokens);
  cr_assert_eq (copy->expert_tokens[0], 10u);
}

/* Heads split like MA Separation's 32 over 12 GPUs: 8 GPUs of 3, then 4 of 2, contiguous. */
Test (ops, split_heads_balanced)
{
  guint first, count, total = 0;
  for (guint r = 0; r < 12; r++)
    {
      afd_ops_split_heads (32, 12, r, &first, &count);
      cr_assert_eq (first, total);
      cr_assert_eq (count, r < 8 ? 3u : 2u);
      total += count;
    }
  cr_assert_eq (total, 32u);
}

/* GQA heads need the KV groups they touch; MLA and MFA replicate one latent/shared head. */
Test (ops, kv_heads_for_share)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) qwen = afd_llm_load ("qwen3-235b-a22b", &error);
  g_autoptr (AfdLlm) dsv3 = afd_llm_load ("deepseek-v3", &error);
  afd_assert_no_error (error);
  /* 64 q heads / 4 kv heads: groups of 16. */
  cr_assert_eq (afd_ops_kv_heads_for (qwen, 0, 16), 1u);
  cr_assert_eq (afd_ops_kv_heads_for (qwen, 8, 16), 2u);
  cr_assert_eq (afd_ops_kv_heads_for (qwen, 0, 64), 4u);
  cr_assert_eq (afd_ops_kv_heads_for (dsv3, 0, 16), 1u);
}

/* An out-of-range head share or an empty batch is AFD_ERROR_INFEASIBLE, not a crash. */
Test (ops, rejects_bad_share)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("masep-4l", &error);
  afd_assert_no_error (error);
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.head_first = 30;
  p.head_count = 3;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  cr_assert_not (afd_ops_attention_block (llm, &p, ops, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  g_clear_error (&error);
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 0;
  cr_assert_not (afd_ops_attention_block (llm, &p, ops, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE);
}

/* MLA decode absorbs W_UK/W_UV: kv_up runs on the new tokens only; prefill materialises K/V
 * for every key. */
Test (ops, mla_kv_up_absorbed_in_decode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("deepseek-v3", &error);
  afd_assert_no_error (error);
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 4;
  p.context_tokens = 1000;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  cr_assert (afd_ops_attention_block (llm, &p, ops, &error));
  /* norm, q_down, q_up, kv_down, kv_up, attention_decode, out_proj */
  cr_assert_eq (ops->len, 7u);
  const AfdOp *kv_up = ops->pdata[4];
  cr_assert_eq (kv_up->kind, AFD_OP_MLA_KV_UP);
  cr_assert_eq (kv_up->gemm.m, 4u);
  /* 2·4·(128·256)·512 */
  cr_assert_float_eq (kv_up->flops, 2.0 * 4 * 128 * 256 * 512, 0.5);
  p.phase = AFD_PHASE_PREFILL;
  g_ptr_array_set_size (ops, 0);
  cr_assert (afd_ops_attention_block (llm, &p, ops, &error));
  kv_up = ops->pdata[4];
  cr_assert_eq (kv_up->gemm.m, 4u * 1001u);
}

/* Kind names round-trip and comm kinds are flagged. */
Test (ops, kind_names_round_trip)
{
  for (int k = 0; k < AFD_OP_KIND_COUNT; k++)
    {
      AfdOpKind back;
      const char *name = afd_op_kind_name ((AfdOpKind)k);
      cr_assert_not_null (name);
      cr_assert (afd_op_kind_from_name (name, &back));
      cr_assert_eq ((int)back, k);
    }
  cr_assert (afd_op_kind_is_comm (AFD_OP_COMM_DISPATCH));
  cr_assert_not (afd_op_kind_is_comm (AFD_OP_EXPERT_GROUPED_GEMM));
}
