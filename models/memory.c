/* SPDX-License-Identifier: MIT */
/*
 * memory.c - per-GPU memory footprint (weights, KV cache, activations, communication
 * buffers, runtime reserve) and the check against each GPU's HBM capacity.
 *
 * Formulas: docs/models/memory.md, with the hand-worked masep-4l MA-Separation 12:4 example
 * that tests/test-memory.c checks. The plan only sums what strategies add; the helpers turn
 * an AfdLlm and a share (heads, experts, tokens) into bytes. Nothing here allocates a GPU.
 */
#include "config.h"

#include <math.h>

#include "models/memory.h"
#include "models/ops.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct
{
  char *role;
  double bytes[AFD_MEMORY_CLASS_COUNT];
} GpuMemory;

struct _AfdMemoryPlan
{
  guint n_gpus;
  GpuMemory *gpus;
};

static const char *const class_names[AFD_MEMORY_CLASS_COUNT] = {
  [AFD_MEMORY_WEIGHTS] = "weights",         [AFD_MEMORY_KV_CACHE] = "kv_cache",
  [AFD_MEMORY_ACTIVATIONS] = "activations", [AFD_MEMORY_COMM_BUFFERS] = "comm_buffers",
  [AFD_MEMORY_RUNTIME] = "runtime",
};

const char *
afd_memory_class_name (AfdMemoryClass klass)
{
  if ((int)klass < 0 || klass >= AFD_MEMORY_CLASS_COUNT)
    return NULL;
  return class_names[klass];
}

AfdMemoryPlan *
afd_memory_plan_new (guint n_gpus)
{
  AfdMemoryPlan *plan = g_new0 (AfdMemoryPlan, 1);
  plan->n_gpus = n_gpus;
  plan->gpus = g_new0 (GpuMemory, n_gpus);
  for (guint i = 0; i < n_gpus; i++)
    plan->gpus[i].role = g_strdup ("gpu");
  return plan;
}

void
afd_memory_plan_free (AfdMemoryPlan *plan)
{
  if (plan == NULL)
    return;
  for (guint i = 0; i < plan->n_gpus; i++)
    g_free (plan->gpus[i].role);
  g_free (plan->gpus);
  g_free (plan);
}

guint
afd_memory_plan_n_gpus (const AfdMemoryPlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->n_gpus;
}

void
afd_memory_set_role (AfdMemoryPlan *plan, guint gpu, const char *role)
{
  g_return_if_fail (plan != NULL && gpu < plan->n_gpus && role != NULL);
  g_free (plan->gpus[gpu].role);
  plan->gpus[gpu].role = g_strdup (role);
}

void
afd_memory_add (AfdMemoryPlan *plan, guint gpu, AfdMemoryClass klass, double bytes)
{
  g_return_if_fail (plan != NULL && gpu < plan->n_gpus);
  g_return_if_fail ((int)klass >= 0 && klass < AFD_MEMORY_CLASS_COUNT);
  g_return_if_fail (isfinite (bytes) && bytes >= 0);
  plan->gpus[gpu].bytes[klass] += bytes;
}

void
afd_memory_add_weights (AfdMemoryPlan *plan, guint gpu, double bytes)
{
  afd_memory_add (plan, gpu, AFD_MEMORY_WEIGHTS, bytes);
}

void
afd_memory_add_kv (AfdMemoryPlan *plan, guint gpu, double bytes)
{
  afd_memory_add (plan, gpu, AFD_MEMORY_KV_CACHE, bytes);
}

void
afd_memory_add_activations (AfdMemoryPlan *plan, guint gpu, double bytes)
{
  afd_memory_add (plan, gpu, AFD_MEMORY_ACTIVATIONS, bytes);
}

void
afd_memory_add_comm_buffers (AfdMemoryPlan *plan, guint gpu, double bytes)
{
  afd_memory_add (plan, gpu, AFD_MEMORY_COMM_BUFFERS, bytes);
}

void
afd_memory_add_runtime (AfdMemoryPlan *plan, guint gpu, double bytes)
{
  afd_memory_add (plan, gpu, AFD_MEMORY_RUNTIME, bytes);
}

void
afd_memory_get (const AfdMemoryPlan *plan, guint gpu, AfdMemoryBreakdown *out)
{
  g_return_if_fail (plan != NULL && gpu < plan->n_gpus && out != NULL);
  out->total_bytes = 0;
  for (int c = 0; c < AFD_MEMORY_CLASS_COUNT; c++)
    {
      out->bytes[c] = plan->gpus[gpu].bytes[c];
      out->total_bytes += out->bytes[c];
    }
}

const char *
afd_memory_get_role (const AfdMemoryPlan *plan, guint gpu)
{
  g_return_val_if_fail (plan != NULL && gpu < plan->n_gpus, NULL);
  return plan->gpus[gpu].role;
}

gboolean
afd_memory_check_gpu (const AfdMemoryPlan *plan, guint gpu, const AfdGpuSpec *spec,
                      GError **error)
{
  g_return_val_if_fail (plan != NULL && gpu < plan->n_gpus && spec != NULL, FALSE);
  AfdMemoryBreakdown b;
  afd_memory_get (plan, gpu, &b);
  if (b.total_bytes <= spec->hbm_bytes)
    return TRUE;
  g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
               "GPU %u (%s) needs %.1f GB, %s has %.1f GB of HBM (weights %.1f, KV cache %.1f, "
               "activations %.1f, comm buffers %.1f, runtime %.1f GB); lower the batch or the context, "
               "or use more GPUs",
               gpu, plan->gpus[gpu].role, b.total_bytes / 1e9, spec->name, spec->hbm_bytes / 1e9,
               b.bytes[AFD_MEMORY_WEIGHTS] / 1e9, b.bytes[AFD_MEMORY_KV_CACHE] / 1e9,
               b.bytes[AFD_MEMORY_ACTIVATIONS] / 1e9, b.bytes[AFD_MEMORY_COMM_BUFFERS] / 1e9,
               b.bytes[AFD_MEMORY_RUNTIME] / 1e9);
  return FALSE;
}

gboolean
afd_memory_check (const AfdMemoryPlan *plan, const AfdGpuSpec *const *gpus, GError **error)
{
  g_return_val_if_fail (plan != NULL && (gpus != NULL || plan->n_gpus == 0), FALSE);
  for (guint i = 0; i < plan->n_gpus; i++)
    if (!afd_memory_check_gpu (plan, i, gpus[i], error))
      return FALSE;
  return TRUE;
}

guint64
afd_memory_max_batch (const AfdMemoryPlan *plan, guint gpu, const AfdGpuSpec *spec,
                      guint64 batch)
{
  g_return_val_if_fail (plan != NULL && gpu < plan->n_gpus && spec != NULL, 0);
  g_return_val_if_fail (batch > 0, 0);
  AfdMemoryBreakdown b;
  afd_memory_get (plan, gpu, &b);
  if (b.bytes[AFD_MEMORY_KV_CACHE] <= 0)
    return G_MAXUINT64;
  const double fixed = b.bytes[AFD_MEMORY_WEIGHTS] + b.bytes[AFD_MEMORY_RUNTIME];
  const double per_batch = b.total_bytes - fixed; /* KV + activations + comm buffers */
  const double room = spec->hbm_bytes - fixed;
  if (room <= 0)
    return 0;
  const double max = floor (room * (double)batch / per_batch);
  return max >= 0x1p64 ? G_MAXUINT64 - 1 : (guint64)max;
}

guint64
afd_memory_role_max_batch (const AfdMemoryPlan *plan, const char *role, const AfdGpuSpec *spec,
                           guint64 batch)
{
  g_return_val_if_fail (plan != NULL && role != NULL && spec != NULL, 0);
  guint64 best = G_MAXUINT64;
  for (guint i = 0; i < plan->n_gpus; i++)
    if (g_strcmp0 (plan->gpus[i].role, role) == 0)
      best = MIN (best, afd_memory_max_batch (plan, i, spec, batch));
  return best;
}

gboolean
afd_memory_check_uniform (const AfdMemoryPlan *plan, const AfdGpuSpec *gpu, GError **error)
{
  g_return_val_if_fail (plan != NULL && gpu != NULL, FALSE);
  g_autofree const AfdGpuSpec **gpus = g_new (const AfdGpuSpec *, MAX (plan->n_gpus, 1u));
  for (guint i = 0; i < plan->n_gpus; i++)
    gpus[i] = gpu;
  return afd_memory_check (plan, gpus, error);
}

cJSON *
afd_memory_plan_to_json (const AfdMemoryPlan *plan)
{
  g_return_val_if_fail (plan != NULL, NULL);
  cJSON *arr = cJSON_CreateArray ();
  for (guint i = 0; i < plan->n_gpus; i++)
    {
      AfdMemoryBreakdown b;
      afd_memory_get (plan, i, &b);
      cJSON *o = cJSON_CreateObject ();
      afd_json_add_number (o, "gpu", i);
      cJSON_AddStringToObject (o, "role", plan->gpus[i].role);
      for (int c = 0; c < AFD_MEMORY_CLASS_COUNT; c++)
        {
          g_autofree char *key = g_strdup_printf ("%s_bytes", class_names[c]);
          afd_json_add_number (o, key, b.bytes[c]);
        }
      afd_json_add_number (o, "total_bytes", b.total_bytes);
      cJSON_AddItemToArray (arr, o);
    }
  return arr;
}

/* Query/output width of @hc heads: MLA nope+rope (Q) and v; others head_dim. */
static double
q_width (const AfdLlm *llm, double hc)
{
  if (llm->attention == AFD_ATTENTION_MLA)
    return hc * ((double)llm->qk_nope_head_dim + llm->qk_rope_head_dim);
  return hc * llm->head_dim;
}

double
afd_memory_attention_weights_bytes (const AfdLlm *llm, guint head_first, guint head_count)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  const double h = llm->hidden_size, hc = head_count, ql = llm->q_lora_rank;
  const double w = afd_dtype_bytes (llm->dtypes.attention_weights);
  const double kvc = afd_ops_kv_heads_for (llm, head_first, head_count);
  double params;
  switch (llm->attention)
    {
    case AFD_ATTENTION_MLA:
      {
        const double dc = llm->kv_lora_rank, dr = llm->qk_rope_head_dim;
        double q = ql > 0 ? h * ql + ql + ql * q_width (llm, hc) : h * q_width (llm, hc);
        double kv
            = h * (dc + dr) + dc + dc * hc * ((double)llm->qk_nope_head_dim + llm->v_head_dim);
        params = q + kv + hc * llm->v_head_dim * h;
        break;
      }
    case AFD_ATTENTION_MFA:
      {
        double q = ql > 0 ? h * ql + ql + ql * q_width (llm, hc) : h * q_width (llm, hc);
        params = q + 2.0 * h * kvc * llm->head_dim + hc * llm->head_dim * h;
        break;
      }
    case AFD_ATTENTION_MHA:
    case AFD_ATTENTION_GQA:
    default:
      params = h * hc * llm->head_dim + 2.0 * h * kvc * llm->head_dim + hc * llm->v_head_dim * h;
      break;
    }
  return params * w;
}

double
afd_memory_kv_bytes (const AfdLlm *llm, guint head_first, guint head_count, guint64 tokens)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  double elems = llm->attention == AFD_ATTENTION_MLA
                     ? (double)llm->kv_lora_rank + llm->qk_rope_head_dim
                     : 2.0 * afd_ops_kv_heads_for (llm, head_first, head_count) * llm->head_dim;
  return (double)tokens * elems * afd_dtype_bytes (llm->dtypes.kv_cache);
}

double
afd_memory_expert_weights_bytes (const AfdLlm *llm, guint n_experts)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return (double)n_experts * afd_llm_ffn_matrices (llm) * llm->hidden_size
         * llm->expert_intermediate_size * afd_dtype_bytes (llm->dtypes.expert_weights);
}

double
afd_memory_shared_expert_weights_bytes (const AfdLlm *llm, guint shards)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return (double)llm->n_shared_experts * afd_llm_ffn_matrices (llm) * llm->hidden_size
         * llm->shared_expert_intermediate_size * afd_dtype_bytes (llm->dtypes.dense_weights)
         / MAX (shards, 1u);
}

double
afd_memory_dense_ffn_weights_bytes (const AfdLlm *llm, guint shards)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return (double)afd_llm_ffn_matrices (llm) * llm->hidden_size * llm->dense_intermediate_size
         * afd_dtype_bytes (llm->dtypes.dense_weights) / MAX (shards, 1u);
}

double
afd_memory_router_weights_bytes (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return ((double)llm->n_routed_experts * llm->hidden_size + 2.0 * llm->hidden_size)
         * afd_dtype_bytes (llm->dtypes.attention_weights);
}

double
afd_memory_embedding_weights_bytes (const AfdLlm *llm, guint shards)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  double tables = llm->tie_embeddings ? 1.0 : 2.0;
  return tables * llm->vocab_size * llm->hidden_size
         * afd_dtype_bytes (llm->dtypes.embedding_weights) / MAX (shards, 1u);
}

double
afd_memory_vocab_table_bytes (const AfdLlm *llm, guint shards)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return (double)llm->vocab_size * llm->hidden_size
         * afd_dtype_bytes (llm->dtypes.embedding_weights) / MAX (shards, 1u);
}

double
afd_memory_attention_activation_bytes (const AfdLlm *llm, guint head_count, guint64 tokens)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  const double hc = head_count;
  /* Input and residual (2·H), Q, K, V of the share and the attention output. */
  double kv_width
      = llm->attention == AFD_ATTENTION_MLA
            ? hc * ((double)llm->qk_nope_head_dim + llm->qk_rope_head_dim + llm->v_head_dim)
            : 2.0 * afd_ops_kv_heads_for (llm, 0, head_count) * llm->head_dim;
  double width = 2.0 * llm->hidden_size + q_width (llm, hc) + kv_width + hc * llm->v_head_dim;
  return (double)tokens * width * afd_dtype_bytes (llm->dtypes.activations);
}

double
afd_memory_expert_activation_bytes (const AfdLlm *llm, guint64 tokens)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  double width = 2.0 * llm->hidden_size
                 + ((double)afd_llm_ffn_matrices (llm) - 1.0) * llm->expert_intermediate_size;
  return (double)tokens * width * afd_dtype_bytes (llm->dtypes.activations);
}

double
afd_memory_comm_buffer_bytes (const AfdLlm *llm, guint64 tokens)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return (double)tokens * llm->hidden_size
         * (afd_dtype_bytes (llm->dtypes.dispatch) + afd_dtype_bytes (llm->dtypes.combine));
}
