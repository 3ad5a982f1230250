/* SPDX-License-Identifier: MIT */
/* Tests for sim/llm.c: the shipped models load, parameter counts match the published totals
 * (docs/user/model-format.md "What is counted"), and every bad model file is rejected with a
 * message naming the file and the key. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "sim/data-dir.h"
#include "sim/llm.h"
#include "tests/test-helpers.h"

/* Loads a shipped model and fails the test on error. */
static AfdLlm *
load (const char *name)
{
  g_autoptr (GError) error = NULL;
  AfdLlm *llm = afd_llm_load (name, &error);
  afd_assert_no_error (error);
  cr_assert_not_null (llm);
  return llm;
}

/* |got - want| <= rel · want. */
static void
assert_within (double got, double want, double rel, const char *what)
{
  cr_assert (fabs (got - want) <= rel * want, "%s: got %.6g, want %.6g within %.1f%%", what, got,
             want, rel * 100);
}

/* Every shipped model file loads and names itself after its file. */
Test (llm, every_shipped_model_loads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = afd_data_list ("models/llm", &error);
  afd_assert_no_error (error);
  cr_assert_geq (names->len, 10u, "expected the 10 shipped models, found %u", names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (AfdLlm) llm = load (names->pdata[i]);
      cr_assert_str_eq (llm->name, names->pdata[i]);
      cr_assert (strlen (llm->source) > 20, "%s: source must cite the config", llm->name);
    }
}

/* DeepSeek-V3: total 671.03B (main model, MTP excluded) and active 37.55B, hand-counted in
 * docs/user/model-format.md; the published 671B within 1%, "37B" within 1.5% (the published
 * figure is rounded down; see the doc). */
Test (llm, deepseek_v3_parameter_counts)
{
  g_autoptr (AfdLlm) llm = load ("deepseek-v3");
  AfdLlmParams p;
  afd_llm_params (llm, &p);
  /* Hand count: embedding + head 2·129280·7168 = 1,853,358,080; attention per block
   * 7168·1536 + 1536 + 1536·128·192 + 7168·576 + 512 + 512·128·256 + 128·128·7168
   * = 187,107,328 (+ 2·7168 norms); dense FFN 3·7168·18432 = 396,361,728; expert
   * 3·7168·2048 = 44,040,192; router 256·7168; final norm 7168. */
  cr_assert_float_eq (p.attention_per_layer, 187107328.0, 0.5);
  cr_assert_float_eq (p.total, 671026404352.0, 0.5);
  cr_assert_float_eq (p.active, 37552282624.0, 0.5);
  assert_within (p.total, 671e9, 0.01, "DeepSeek-V3 total");
  assert_within (p.active, 37e9, 0.015, "DeepSeek-V3 active");
  /* MTP: one block (attention + MoE) + 2H·H projection + 3 norms ≈ 11.6B; DeepSeek's 14B
   * also counts the module's own copy of embedding and head (1.85B). */
  assert_within (p.mtp + p.embedding + p.lm_head, 14e9, 0.05, "DeepSeek-V3 MTP");
  cr_assert_float_eq (afd_llm_kv_bytes_per_token (llm) / llm->n_layers, 1152.0, 1e-9,
                      "MLA bf16 cache: (512 + 64)·2 bytes per token-layer");
}

/* The other models' totals and actives against their model cards (docs/user/model-format.md
 * lists the counting convention of each vendor). */
Test (llm, published_parameter_counts)
{
  static const struct
  {
    const char *name;
    double total, active, rel;
  } cases[] = {
    { "qwen3-235b-a22b", 235e9, 22e9, 0.01 },   { "mixtral-8x7b", 46.7e9, 12.9e9, 0.01 },
    { "mixtral-8x22b", 141e9, 39e9, 0.01 },     { "ernie-4.5-300b", 300e9, 47e9, 0.01 },
    { "qwen3-coder-480b", 480e9, 35e9, 0.015 }, { "kimi-k2", 1.04e12, 32e9, 0.03 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AfdLlm) llm = load (cases[i].name);
      AfdLlmParams p;
      afd_llm_params (llm, &p);
      assert_within (p.total, cases[i].total, cases[i].rel, cases[i].name);
      assert_within (p.active, cases[i].active, cases[i].rel, cases[i].name);
    }
}

/* GLM-4.5's 355B includes its MTP layer and its 32B active excludes the embeddings. */
Test (llm, glm_counts_its_own_way)
{
  g_autoptr (AfdLlm) llm = load ("glm-4.5");
  AfdLlmParams p;
  afd_llm_params (llm, &p);
  assert_within (p.total + p.mtp, 355e9, 0.01, "GLM-4.5 total incl. MTP");
  assert_within (p.active - p.embedding - p.lm_head, 32e9, 0.01, "GLM-4.5 active w/o embeddings");
}

/* Step-3's dense blocks are 0-3 and 60 (moe_layers_enum 4..59): 56 MoE blocks. */
Test (llm, step3_dense_blocks_at_both_ends)
{
  g_autoptr (AfdLlm) llm = load ("step-3");
  cr_assert_eq (afd_llm_n_moe_layers (llm), 56u);
  cr_assert_eq (afd_llm_n_dense_layers (llm), 5u);
  cr_assert_not (afd_llm_layer_is_moe (llm, 3));
  cr_assert (afd_llm_layer_is_moe (llm, 4));
  cr_assert (afd_llm_layer_is_moe (llm, 59));
  cr_assert_not (afd_llm_layer_is_moe (llm, 60));
  /* MFA: one shared K and V head of 256 in fp8: 512 bytes per token-layer. */
  cr_assert_float_eq (afd_llm_kv_bytes_per_token (llm), 512.0 * 61, 1e-9);
}

/* masep-4l: MHA with head_dim = 4096/32 implied, GELU (2 matrices), 9.12B parameters whose
 * bf16 bytes (18.24 GB) match the seed's baseline "Model Parameters 18.2 GB". */
Test (llm, masep_4l_shape)
{
  g_autoptr (AfdLlm) llm = load ("masep-4l");
  AfdLlmParams p;
  afd_llm_params (llm, &p);
  cr_assert_eq (llm->head_dim, 128u);
  cr_assert_eq (llm->n_kv_heads, 32u);
  cr_assert_eq (afd_llm_ffn_matrices (llm), 2u);
  /* 2·32000·4096 + 4096 + 4·(4·4096² + 2·4096 + 16·2·4096·16384 + 16·4096). */
  cr_assert_float_eq (p.total, 9120813056.0, 0.5);
  assert_within (p.total * 2, 18.2e9, 0.01, "masep-4l bf16 weights");
}

/* A dense model (no "moe" object) loads and has no MoE block. */
Test (llm, dense_model_loads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load (TEST_DATA "/llm-dense-ok.json", &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_llm_n_moe_layers (llm), 0u);
  cr_assert_eq (afd_llm_n_dense_layers (llm), 4u);
}

/* A deep copy owns its strings. */
Test (llm, copy_is_deep)
{
  g_autoptr (AfdLlm) llm = load ("masep-4l");
  g_autoptr (AfdLlm) copy = afd_llm_copy (llm);
  cr_assert_neq (copy->name, llm->name);
  cr_assert_str_eq (copy->name, llm->name);
  cr_assert_eq (copy->hidden_size, llm->hidden_size);
}

/* Each bad file is AFD_ERROR_CONFIG with a message naming the file, the key and the problem. */
Test (llm, rejects_bad_files)
{
  static const struct
  {
    const char *file, *needle;
  } cases[] = {
    { "llm-unknown-key.json", "hiden_size: unknown key" },
    { "llm-zero-heads.json", "attention.heads: must be > 0" },
    { "llm-topk-gt-experts.json", "moe.top_k: must be <= routed_experts (16)" },
    { "llm-hidden-not-divisible.json", "not divisible by heads" },
    { "llm-negative-size.json", "moe.expert_intermediate_size: must be > 0" },
    { "llm-fractional-size.json", "layers: must be a whole number" },
    { "llm-string-size.json", "vocab_size: must be an integer" },
    { "llm-kv-heads-not-divisor.json", "attention.kv_heads: heads (32) must be a multiple" },
    { "llm-mha-kv-mismatch.json", "attention.kv_heads: must equal heads" },
    { "llm-mla-with-head-dim.json", "attention.head_dim: not used by attention kind 'mla'" },
    { "llm-mla-missing-lora.json", "attention.kv_lora_rank: missing required key" },
    { "llm-unknown-attention.json", "attention.kind: unknown value 'sliding'" },
    { "llm-unknown-dtype.json", "dtypes.kv_cache: unknown dtype 'int4'" },
    { "llm-missing-dtype.json", "dtypes.combine: missing required key" },
    { "llm-dense-layers-exceed.json", "exceeds layers (4)" },
    { "llm-missing-dense-ffn.json", "ffn.dense_intermediate_size: missing required key" },
    { "llm-zero-experts.json", "moe.routed_experts: must be > 0" },
    { "llm-missing-name.json", "name: missing required key" },
    { "llm-gqa-no-kv-heads.json", "attention.kv_heads: missing required key" },
    { "llm-bad-json.json", "invalid JSON" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_build_filename (TEST_DATA, cases[i].file, NULL);
      g_autoptr (AfdLlm) llm = afd_llm_load (path, &error);
      cr_assert_null (llm, "%s should be rejected", cases[i].file);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      afd_assert_error_contains (error, cases[i].file);
      afd_assert_error_contains (error, cases[i].needle);
    }
}

/* An unknown model name is an error that names it. */
Test (llm, rejects_unknown_name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load ("no-such-model", &error);
  cr_assert_null (llm);
  cr_assert_not_null (error);
  afd_assert_error_contains (error, "no-such-model");
}
