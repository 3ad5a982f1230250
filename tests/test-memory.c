/* SPDX-License-Identifier: MIT */
/* Tests for models/memory.c: the hand-worked masep-4l MA-Separation 12:4 footprint of
 * docs/models/memory.md (and that the strategy records exactly it), the largest batch that
 * fits, the fit check and its message. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "models/memory.h"
#include "models/ops.h"
#include "models/registry.h"
#include "sim/json.h"
#include "sim/strategy.h"
#include "tests/test-helpers.h"

static AfdLlm *masep;
static AfdGpuSpec *a100;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  masep = afd_llm_load ("masep-4l", &error);
  afd_assert_no_error (error);
  a100 = afd_gpu_spec_load (TEST_DATA "/cost-gpu-a100.json", &error);
  afd_assert_no_error (error);
}

static void
teardown (void)
{
  g_clear_pointer (&masep, afd_llm_free);
  g_clear_pointer (&a100, afd_gpu_spec_free);
}

TestSuite (memory, .init = setup, .fini = teardown);

/* The MA-Separation 12:4 placement of docs/models/memory.md, as models/strategy-masep.c
 * builds it (broadcast hand-off): GPUs 0-11 hold the attention of their head share (8 × 3
 * heads, 4 × 2) for all 4 blocks, the KV cache of those heads for @sequences × (2048 + 1)
 * tokens (the context and the new token) and 1/12 of the embedding + LM head; GPUs 12-15
 * hold 4 experts and the router of each block; activations and buffers for the decode step
 * of all sequences; a 1 GiB runtime reserve everywhere. */
static AfdMemoryPlan *
masep_plan (guint64 sequences)
{
  const guint blocks = masep->n_layers;
  const guint64 tokens = sequences;                /* one new token per sequence */
  const guint64 cached = sequences * (2048 + 1);   /* context 2048 + the new token */
  const guint64 pairs = tokens * masep->top_k / 4; /* token-expert pairs per MoE GPU, balanced */
  AfdMemoryPlan *plan = afd_memory_plan_new (16);
  for (guint g = 0; g < 12; g++)
    {
      guint first, count;
      afd_ops_split_heads (masep->n_heads, 12, g, &first, &count);
      afd_memory_set_role (plan, g, "attention");
      afd_memory_add_weights (plan, g,
                              blocks * afd_memory_attention_weights_bytes (masep, first, count)
                                  + afd_memory_embedding_weights_bytes (masep, 12));
      afd_memory_add_kv (plan, g, blocks * afd_memory_kv_bytes (masep, first, count, cached));
      afd_memory_add_activations (plan, g,
                                  afd_memory_attention_activation_bytes (masep, count, tokens));
      afd_memory_add_comm_buffers (plan, g, afd_memory_comm_buffer_bytes (masep, tokens));
      afd_memory_add_runtime (plan, g, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
    }
  for (guint g = 12; g < 16; g++)
    {
      afd_memory_set_role (plan, g, "moe");
      afd_memory_add_weights (plan, g,
                              blocks * (afd_memory_expert_weights_bytes (masep, 4)
                                        + afd_memory_router_weights_bytes (masep)));
      afd_memory_add_activations (plan, g, afd_memory_expert_activation_bytes (masep, pairs));
      afd_memory_add_comm_buffers (plan, g, afd_memory_comm_buffer_bytes (masep, pairs));
      afd_memory_add_runtime (plan, g, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
    }
  return plan;
}

/* The hand computation of docs/models/memory.md (1024 sequences at context 2048). */
Test (memory, masep_12_4_by_hand)
{
  g_autoptr (AfdMemoryPlan) plan = masep_plan (1024);
  AfdMemoryBreakdown b;

  /* Attention GPU 0 (3 heads): weights 4·(4·4096·384)·2 = 50,331,648 + embedding and head
   * 2·32000·4096·2 / 12 = 43,690,666.67; KV 1024·2049 tokens · 2·3·128 · 2 B · 4 blocks =
   * 12,891,193,344; activations 1024·(2·4096 + 4·384)·2 = 19,922,944; buffers
   * 1024·4096·(1 + 2) = 12,582,912; runtime 1,073,741,824: total 14,091,463,338.67 B =
   * 14.09 GB. */
  afd_memory_get (plan, 0, &b);
  cr_assert_float_eq (b.bytes[AFD_MEMORY_WEIGHTS], 94022314.67, 0.01);
  cr_assert_float_eq (b.bytes[AFD_MEMORY_KV_CACHE], 12891193344.0, 0.5);
  cr_assert_float_eq (b.bytes[AFD_MEMORY_ACTIVATIONS], 19922944.0, 0.5);
  cr_assert_float_eq (b.bytes[AFD_MEMORY_COMM_BUFFERS], 12582912.0, 0.5);
  cr_assert_float_eq (b.total_bytes, 14091463338.67, 0.01);

  /* Attention GPU 11 (2 heads): KV 8,594,128,896, weights 33,554,432 + 43,690,666.67,
   * activations 1024·(8192 + 1024)·2 = 18,874,368: total 9,776,573,098.67 B = 9.78 GB
   * (the seed quotes 10.3 GB per attention GPU). */
  afd_memory_get (plan, 11, &b);
  cr_assert_float_eq (b.total_bytes, 9776573098.67, 0.01);

  /* MoE GPU 12: 4 experts · 2·4096·16384 · 2 B · 4 blocks = 4,294,967,296 + routers
   * 4·(16·4096 + 2·4096)·2 = 589,824; 512 pairs: activations 512·(2·4096 + 16384)·2 =
   * 25,165,824, buffers 512·4096·3 = 6,291,456; + runtime: 5,400,756,224 B = 5.40 GB. */
  afd_memory_get (plan, 12, &b);
  cr_assert_float_eq (b.bytes[AFD_MEMORY_WEIGHTS], 4295557120.0, 0.5);
  cr_assert_float_eq (b.total_bytes, 5400756224.0, 0.5);

  g_autoptr (GError) error = NULL;
  cr_assert (afd_memory_check_uniform (plan, a100, &error));
  afd_assert_no_error (error);
}

/* The worked example is what the MA Separation strategy records: every GPU's memory_bytes
 * of a masep 12:4 build equals the by-hand plan's total. */
Test (memory, masep_strategy_records_the_plan)
{
  g_autoptr (GError) error = NULL;
  AfdStrategyInput in = { masep, a100, 16, 4, 1024, 2048, FALSE, "uniform", 1, NULL, NULL, 0, 0 };
  const AfdStrategyClass *k = afd_strategy_lookup ("masep", &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) o = cJSON_Parse ("{\"attn_gpus\": 12, \"moe_gpus\": 4}");
  g_autoptr (AfdStrategy) s = afd_strategy_new (k, o, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOpGraph) g = afd_strategy_build (s, &in, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdMemoryPlan) plan = masep_plan (1024);
  for (guint i = 0; i < 16; i++)
    {
      AfdMemoryBreakdown b;
      afd_memory_get (plan, i, &b);
      cr_assert_float_eq (afd_opgraph_gpu_memory (g, i), b.total_bytes, 1e-3, "GPU %u", i);
    }
}

/* The largest batch that fits, per GPU and per role: on attention GPU 0 weights + runtime
 * are 1,167,764,138.67 B and each 1024 sequences add 12,923,699,200 B (KV + activations +
 * buffers), so (80e9 − 1,167,764,138.67) · 1024 / 12,923,699,200 = 6246.2 → 6246; GPU 11
 * (2 heads) fits 9360; the attention role fits the smaller, 6246; the MoE GPUs hold no KV. */
Test (memory, max_batch_per_gpu_and_role)
{
  g_autoptr (AfdMemoryPlan) plan = masep_plan (1024);
  cr_assert_eq (afd_memory_max_batch (plan, 0, a100, 1024), 6246);
  cr_assert_eq (afd_memory_max_batch (plan, 11, a100, 1024), 9360);
  cr_assert_eq (afd_memory_role_max_batch (plan, "attention", a100, 1024), 6246);
  cr_assert_eq (afd_memory_role_max_batch (plan, "moe", a100, 1024), G_MAXUINT64);
  cr_assert_eq (afd_memory_role_max_batch (plan, "nobody", a100, 1024), G_MAXUINT64);
  /* Asked from another batch the answer is the same, and it is exact: 6246 fits, 6247 not. */
  g_autoptr (AfdMemoryPlan) at_max = masep_plan (6246);
  g_autoptr (AfdMemoryPlan) over = masep_plan (6247);
  cr_assert_eq (afd_memory_role_max_batch (at_max, "attention", a100, 6246), 6246);
  g_autoptr (GError) error = NULL;
  cr_assert (afd_memory_check_uniform (at_max, a100, &error));
  cr_assert_not (afd_memory_check_uniform (over, a100, &error));
  afd_assert_error_contains (error, "GPU 0 (attention)");
  /* Weights alone over the HBM: no batch fits. */
  g_autoptr (AfdMemoryPlan) heavy = masep_plan (1024);
  afd_memory_add_weights (heavy, 0, 80e9);
  cr_assert_eq (afd_memory_max_batch (heavy, 0, a100, 1024), 0);
}

/* A placement that does not fit names the GPU, its role, what it needs and what it has. */
Test (memory, overflow_is_infeasible_with_numbers)
{
  /* 8192 sequences: GPU 0's KV alone is 8 · 12.89 = 103.1 GB > 80 GB. */
  g_autoptr (AfdMemoryPlan) plan = masep_plan (8192);
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_memory_check_uniform (plan, a100, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  afd_assert_error_contains (error, "GPU 0 (attention) needs 104.");
  afd_assert_error_contains (error, "A100-SXM4-80GB has 80.0 GB of HBM");
}

/* MLA's latent cache is replicated on every head share; GQA's follows the KV groups. */
Test (memory, kv_bytes_follow_the_attention_kind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) dsv3 = afd_llm_load ("deepseek-v3", &error);
  g_autoptr (AfdLlm) qwen = afd_llm_load ("qwen3-235b-a22b", &error);
  afd_assert_no_error (error);
  /* (512 + 64) · 2 B per token regardless of the share. */
  cr_assert_float_eq (afd_memory_kv_bytes (dsv3, 0, 16, 1000), 1152000.0, 1e-6);
  cr_assert_float_eq (afd_memory_kv_bytes (dsv3, 0, 128, 1000), 1152000.0, 1e-6);
  /* heads 8-23 touch kv groups 0 and 1: 2 · 2 · 128 · 2 B per token. */
  cr_assert_float_eq (afd_memory_kv_bytes (qwen, 8, 16, 1000), 1024000.0, 1e-6);
  /* The whole attention of a block equals the parameter count's attention term. */
  AfdLlmParams p;
  afd_llm_params (dsv3, &p);
  cr_assert_float_eq (afd_memory_attention_weights_bytes (dsv3, 0, 128),
                      p.attention_per_layer * 1.0 /* fp8 */, 0.5);
}

/* The JSON form lists every GPU in order with one key per class, unit in the key. */
Test (memory, json_per_gpu)
{
  g_autoptr (AfdMemoryPlan) plan = masep_plan (1024);
  g_autoptr (cJSON) arr = afd_memory_plan_to_json (plan);
  cr_assert_eq (cJSON_GetArraySize (arr), 16);
  const cJSON *g12 = cJSON_GetArrayItem (arr, 12);
  cr_assert_str_eq (cJSON_GetObjectItem (g12, "role")->valuestring, "moe");
  cr_assert_float_eq (cJSON_GetObjectItem (g12, "total_bytes")->valuedouble, 5400756224.0, 0.5);
  cr_assert_not_null (cJSON_GetObjectItem (g12, "kv_cache_bytes"));
}
