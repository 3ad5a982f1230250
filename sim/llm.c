/* SPDX-License-Identifier: MIT */
/*
 * llm.c - strict loader of models/llm/NAME.json and the parameter counts of an AfdLlm.
 *
 * The format is documented key by key in docs/user/model-format.md. Every size is checked
 * (> 0 where a zero makes no sense, integers only), the attention keys that a kind does not
 * use are rejected, and cross-key rules (top_k <= experts, heads divisible by kv heads,
 * hidden divisible by heads when head_dim is implied, dense layers within the block count)
 * are enforced with messages that name the file and the key. Parameter counts follow the
 * formulas in docs/user/model-format.md ("What is counted"); tests/test-llm.c checks them
 * against the published totals.
 */
#include "config.h"

#include <string.h>

#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/llm.h"

static const char *const attention_names[AFD_ATTENTION_COUNT] = {
  [AFD_ATTENTION_MHA] = "mha",
  [AFD_ATTENTION_GQA] = "gqa",
  [AFD_ATTENTION_MLA] = "mla",
  [AFD_ATTENTION_MFA] = "mfa",
};

static const char *const activation_names[AFD_FFN_COUNT] = {
  [AFD_FFN_GELU] = "gelu",
  [AFD_FFN_SWIGLU] = "swiglu",
};

/* Largest accepted dimension: keeps every product of three sizes far inside a double. */
#define MAX_DIM (G_GINT64_CONSTANT (1) << 31)

const char *
afd_attention_kind_name (AfdAttentionKind kind)
{
  if ((int)kind < 0 || kind >= AFD_ATTENTION_COUNT)
    return NULL;
  return attention_names[kind];
}

const char *
afd_ffn_activation_name (AfdFfnActivation activation)
{
  if ((int)activation < 0 || activation >= AFD_FFN_COUNT)
    return NULL;
  return activation_names[activation];
}

void
afd_llm_free (AfdLlm *llm)
{
  if (llm == NULL)
    return;
  g_free (llm->name);
  g_free (llm->source);
  g_free (llm->notes);
  g_free (llm);
}

AfdLlm *
afd_llm_copy (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, NULL);
  AfdLlm *copy = g_new (AfdLlm, 1);
  *copy = *llm;
  copy->name = g_strdup (llm->name);
  copy->source = g_strdup (llm->source);
  copy->notes = g_strdup (llm->notes);
  return copy;
}

AfdLlm *
afd_llm_with_draft (const AfdLlm *llm, guint n_draft)
{
  g_return_val_if_fail (llm != NULL && llm->draft_layers == 0 && llm->mtp_layers > 0, NULL);
  g_return_val_if_fail (n_draft >= 1 && n_draft <= G_MAXUINT - llm->n_layers, NULL);
  AfdLlm *copy = afd_llm_copy (llm);
  copy->n_layers += n_draft;
  copy->draft_layers = n_draft;
  return copy;
}

/* Reads an unsigned dimension in [@min, 2^31] into @out (left untouched when absent). */
static gboolean
get_dim (const cJSON *obj, const AfdJsonWhere *where, const char *key, AfdJsonFlags flags,
         gint64 min, guint *out, GError **error)
{
  gint64 v = *out;
  if (min > 0)
    flags |= AFD_JSON_POSITIVE;
  else
    flags |= AFD_JSON_NONNEGATIVE;
  if (!afd_json_get_int (obj, where, key, flags, min, MAX_DIM, &v, error))
    return FALSE;
  *out = (guint)v;
  return TRUE;
}

/* Reads a string key that must be one of @names[0..n-1]; stores the index. */
static gboolean
get_enum (const cJSON *obj, const AfdJsonWhere *where, const char *key, const char *const *names,
          int n, int *out, GError **error)
{
  g_autofree char *text = NULL;
  if (!afd_json_get_string (obj, where, key, AFD_JSON_REQUIRED, &text, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    if (strcmp (text, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  g_autoptr (GString) list = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", names[i]);
  g_autofree char *at = afd_json_path (where->path, key);
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: unknown value '%s' (expected %s)",
               where->file, at, text, list->str);
  return FALSE;
}

/* Sets a consistency error at "FILE: PATH.KEY: message". */
G_GNUC_PRINTF (4, 5)
static gboolean
fail (GError **error, const AfdJsonWhere *where, const char *key, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *at = afd_json_path (where->path, key);
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: %s", where->file, at, msg);
  return FALSE;
}

/* Rejects @key in @obj: used for attention keys that the chosen kind does not use. */
static gboolean
forbid (const cJSON *obj, const AfdJsonWhere *where, const char *key, const char *kind,
        GError **error)
{
  if (cJSON_GetObjectItemCaseSensitive (obj, key) == NULL)
    return TRUE;
  return fail (error, where, key, "not used by attention kind '%s'; remove it", kind);
}

/* Reads the "attention" object. */
static gboolean
read_attention (const cJSON *root, const char *file, AfdLlm *llm, GError **error)
{
  const AfdJsonWhere top = { file, "", AFD_ERROR_CONFIG };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &top, "attention", AFD_JSON_REQUIRED, cJSON_Object, &obj, error))
    return FALSE;
  const AfdJsonWhere w = { file, "attention", AFD_ERROR_CONFIG };
  static const char *const allowed[] = { "kind",
                                         "heads",
                                         "kv_heads",
                                         "head_dim",
                                         "q_lora_rank",
                                         "kv_lora_rank",
                                         "qk_nope_head_dim",
                                         "qk_rope_head_dim",
                                         "v_head_dim",
                                         NULL };
  int kind = 0;
  if (!afd_json_check_object (obj, &w, allowed, error)
      || !get_enum (obj, &w, "kind", attention_names, AFD_ATTENTION_COUNT, &kind, error)
      || !get_dim (obj, &w, "heads", AFD_JSON_REQUIRED, 1, &llm->n_heads, error))
    return FALSE;
  llm->attention = (AfdAttentionKind)kind;
  const char *kname = attention_names[kind];

  if (llm->attention == AFD_ATTENTION_MLA)
    {
      if (!forbid (obj, &w, "kv_heads", kname, error) || !forbid (obj, &w, "head_dim", kname, error)
          || !get_dim (obj, &w, "q_lora_rank", AFD_JSON_OPTIONAL, 0, &llm->q_lora_rank, error)
          || !get_dim (obj, &w, "kv_lora_rank", AFD_JSON_REQUIRED, 1, &llm->kv_lora_rank, error)
          || !get_dim (obj, &w, "qk_nope_head_dim", AFD_JSON_REQUIRED, 1, &llm->qk_nope_head_dim,
                       error)
          || !get_dim (obj, &w, "qk_rope_head_dim", AFD_JSON_REQUIRED, 1, &llm->qk_rope_head_dim,
                       error)
          || !get_dim (obj, &w, "v_head_dim", AFD_JSON_REQUIRED, 1, &llm->v_head_dim, error))
        return FALSE;
      llm->n_kv_heads = llm->n_heads;
      llm->head_dim = llm->qk_nope_head_dim + llm->qk_rope_head_dim;
      return TRUE;
    }

  if (!forbid (obj, &w, "kv_lora_rank", kname, error)
      || !forbid (obj, &w, "qk_nope_head_dim", kname, error)
      || !forbid (obj, &w, "qk_rope_head_dim", kname, error)
      || !forbid (obj, &w, "v_head_dim", kname, error))
    return FALSE;
  if (llm->attention == AFD_ATTENTION_MHA || llm->attention == AFD_ATTENTION_GQA)
    if (!forbid (obj, &w, "q_lora_rank", kname, error))
      return FALSE;

  AfdJsonFlags kv_flags
      = llm->attention == AFD_ATTENTION_MHA ? AFD_JSON_OPTIONAL : AFD_JSON_REQUIRED;
  llm->n_kv_heads = llm->n_heads;
  if (!get_dim (obj, &w, "kv_heads", kv_flags, 1, &llm->n_kv_heads, error))
    return FALSE;
  if (llm->attention == AFD_ATTENTION_MHA && llm->n_kv_heads != llm->n_heads)
    return fail (error, &w, "kv_heads", "must equal heads (%u) for 'mha'; use kind 'gqa'",
                 llm->n_heads);
  if (llm->n_kv_heads > llm->n_heads || llm->n_heads % llm->n_kv_heads != 0)
    return fail (error, &w, "kv_heads", "heads (%u) must be a multiple of kv_heads (%u)",
                 llm->n_heads, llm->n_kv_heads);

  AfdJsonFlags hd_flags
      = llm->attention == AFD_ATTENTION_MFA ? AFD_JSON_REQUIRED : AFD_JSON_OPTIONAL;
  llm->head_dim = 0;
  if (!get_dim (obj, &w, "head_dim", hd_flags, 1, &llm->head_dim, error)
      || !get_dim (obj, &w, "q_lora_rank", AFD_JSON_OPTIONAL, 0, &llm->q_lora_rank, error))
    return FALSE;
  if (llm->head_dim == 0)
    {
      if (llm->hidden_size % llm->n_heads != 0)
        return fail (error, &w, "heads",
                     "hidden_size (%u) is not divisible by heads (%u); give head_dim explicitly",
                     llm->hidden_size, llm->n_heads);
      llm->head_dim = llm->hidden_size / llm->n_heads;
    }
  llm->v_head_dim = llm->head_dim;
  return TRUE;
}

/* Reads the "ffn" object. */
static gboolean
read_ffn (const cJSON *root, const char *file, AfdLlm *llm, GError **error)
{
  const AfdJsonWhere top = { file, "", AFD_ERROR_CONFIG };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &top, "ffn", AFD_JSON_REQUIRED, cJSON_Object, &obj, error))
    return FALSE;
  const AfdJsonWhere w = { file, "ffn", AFD_ERROR_CONFIG };
  static const char *const allowed[] = { "activation", "dense_intermediate_size", NULL };
  int act = 0;
  if (!afd_json_check_object (obj, &w, allowed, error)
      || !get_enum (obj, &w, "activation", activation_names, AFD_FFN_COUNT, &act, error)
      || !get_dim (obj, &w, "dense_intermediate_size", AFD_JSON_OPTIONAL, 1,
                   &llm->dense_intermediate_size, error))
    return FALSE;
  llm->activation = (AfdFfnActivation)act;
  return TRUE;
}

/* Reads the optional "moe" object (absent: a dense model). */
static gboolean
read_moe (const cJSON *root, const char *file, AfdLlm *llm, GError **error)
{
  const AfdJsonWhere top = { file, "", AFD_ERROR_CONFIG };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &top, "moe", AFD_JSON_OPTIONAL, cJSON_Object, &obj, error))
    return FALSE;
  if (obj == NULL)
    return TRUE;
  const AfdJsonWhere w = { file, "moe", AFD_ERROR_CONFIG };
  static const char *const allowed[] = { "routed_experts",
                                         "top_k",
                                         "shared_experts",
                                         "expert_intermediate_size",
                                         "shared_expert_intermediate_size",
                                         NULL };
  if (!afd_json_check_object (obj, &w, allowed, error)
      || !get_dim (obj, &w, "routed_experts", AFD_JSON_REQUIRED, 1, &llm->n_routed_experts, error)
      || !get_dim (obj, &w, "top_k", AFD_JSON_REQUIRED, 1, &llm->top_k, error)
      || !get_dim (obj, &w, "shared_experts", AFD_JSON_OPTIONAL, 0, &llm->n_shared_experts, error)
      || !get_dim (obj, &w, "expert_intermediate_size", AFD_JSON_REQUIRED, 1,
                   &llm->expert_intermediate_size, error))
    return FALSE;
  llm->shared_expert_intermediate_size = llm->expert_intermediate_size;
  if (!get_dim (obj, &w, "shared_expert_intermediate_size", AFD_JSON_OPTIONAL, 1,
                &llm->shared_expert_intermediate_size, error))
    return FALSE;
  if (llm->top_k > llm->n_routed_experts)
    return fail (error, &w, "top_k", "must be <= routed_experts (%u), got %u",
                 llm->n_routed_experts, llm->top_k);
  return TRUE;
}

/* Reads the "dtypes" object: every tensor class is required. */
static gboolean
read_dtypes (const cJSON *root, const char *file, AfdLlmDtypes *dt, GError **error)
{
  const AfdJsonWhere top = { file, "", AFD_ERROR_CONFIG };
  const cJSON *obj = NULL;
  if (!afd_json_get_child (root, &top, "dtypes", AFD_JSON_REQUIRED, cJSON_Object, &obj, error))
    return FALSE;
  const AfdJsonWhere w = { file, "dtypes", AFD_ERROR_CONFIG };
  static const char *const keys[] = { "attention_weights", "dense_weights", "expert_weights",
                                      "embedding_weights", "kv_cache",      "activations",
                                      "dispatch",          "combine",       NULL };
  AfdDtype *slots[]
      = { &dt->attention_weights, &dt->dense_weights, &dt->expert_weights, &dt->embedding_weights,
          &dt->kv_cache,          &dt->activations,   &dt->dispatch,       &dt->combine };
  if (!afd_json_check_object (obj, &w, keys, error))
    return FALSE;
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *text = NULL;
      if (!afd_json_get_string (obj, &w, keys[i], AFD_JSON_REQUIRED, &text, error))
        return FALSE;
      if (!afd_dtype_from_name (text, slots[i]))
        return fail (error, &w, keys[i],
                     "unknown dtype '%s' (expected fp32, tf32, bf16, fp16, fp8, fp4)", text);
    }
  return TRUE;
}

/* Fills @llm from the parsed tree of @file and checks the cross-key rules. */
static gboolean
read_llm (const cJSON *root, const char *file, AfdLlm *llm, GError **error)
{
  const AfdJsonWhere w = { file, "", AFD_ERROR_CONFIG };
  static const char *const allowed[] = { "name",
                                         "source",
                                         "notes",
                                         "layers",
                                         "dense_layers_first",
                                         "dense_layers_last",
                                         "mtp_layers",
                                         "hidden_size",
                                         "vocab_size",
                                         "tie_embeddings",
                                         "context_tokens",
                                         "attention",
                                         "ffn",
                                         "moe",
                                         "dtypes",
                                         NULL };
  if (!afd_json_check_object (root, &w, allowed, error)
      || !afd_json_get_string (root, &w, "name", AFD_JSON_REQUIRED, &llm->name, error)
      || !afd_json_get_string (root, &w, "source", AFD_JSON_REQUIRED, &llm->source, error)
      || !afd_json_get_string (root, &w, "notes", AFD_JSON_OPTIONAL, &llm->notes, error)
      || !get_dim (root, &w, "layers", AFD_JSON_REQUIRED, 1, &llm->n_layers, error)
      || !get_dim (root, &w, "dense_layers_first", AFD_JSON_OPTIONAL, 0, &llm->dense_layers_first,
                   error)
      || !get_dim (root, &w, "dense_layers_last", AFD_JSON_OPTIONAL, 0, &llm->dense_layers_last,
                   error)
      || !get_dim (root, &w, "mtp_layers", AFD_JSON_OPTIONAL, 0, &llm->mtp_layers, error)
      || !get_dim (root, &w, "hidden_size", AFD_JSON_REQUIRED, 1, &llm->hidden_size, error)
      || !get_dim (root, &w, "vocab_size", AFD_JSON_REQUIRED, 1, &llm->vocab_size, error)
      || !afd_json_get_bool (root, &w, "tie_embeddings", AFD_JSON_OPTIONAL, &llm->tie_embeddings,
                             error)
      || !get_dim (root, &w, "context_tokens", AFD_JSON_REQUIRED, 1, &llm->context_tokens, error)
      || !read_attention (root, file, llm, error) || !read_ffn (root, file, llm, error)
      || !read_moe (root, file, llm, error) || !read_dtypes (root, file, &llm->dtypes, error))
    return FALSE;

  guint dense_edges = llm->dense_layers_first + llm->dense_layers_last;
  if (dense_edges > llm->n_layers)
    return fail (error, &w, "dense_layers_first",
                 "dense_layers_first + dense_layers_last (%u) exceeds layers (%u)", dense_edges,
                 llm->n_layers);
  const AfdJsonWhere fw = { file, "ffn", AFD_ERROR_CONFIG };
  if (llm->n_routed_experts == 0)
    {
      if (dense_edges > 0)
        return fail (error, &w, "dense_layers_first",
                     "only meaningful with a \"moe\" object (a dense model has no MoE blocks)");
    }
  else if (dense_edges == llm->n_layers)
    return fail (error, &w, "dense_layers_first",
                 "every block is dense, but a \"moe\" object is given");
  if (afd_llm_n_dense_layers (llm) > 0 && llm->dense_intermediate_size == 0)
    return fail (error, &fw, "dense_intermediate_size",
                 "missing required key (the model has %u dense blocks)",
                 afd_llm_n_dense_layers (llm));
  return TRUE;
}

AfdLlm *
afd_llm_load_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return NULL;
  g_autoptr (AfdLlm) llm = g_new0 (AfdLlm, 1);
  if (!read_llm (root, path, llm, error))
    return NULL;
  return g_steal_pointer (&llm);
}

AfdLlm *
afd_llm_load (const char *name_or_file, GError **error)
{
  g_return_val_if_fail (name_or_file != NULL, NULL);
  g_autofree char *path = afd_data_resolve ("models/llm", "model", name_or_file, error);
  if (path == NULL)
    return NULL;
  return afd_llm_load_file (path, error);
}

gboolean
afd_llm_layer_is_moe (const AfdLlm *llm, guint layer)
{
  g_return_val_if_fail (llm != NULL && layer < llm->n_layers, FALSE);
  if (llm->n_routed_experts == 0)
    return FALSE;
  /* The draft passes (afd_llm_with_draft) follow the main model: MoE, as the MTP module is. */
  if (layer >= llm->n_layers - llm->draft_layers)
    return TRUE;
  return layer >= llm->dense_layers_first
         && layer < llm->n_layers - llm->draft_layers - llm->dense_layers_last;
}

guint
afd_llm_n_moe_layers (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0);
  if (llm->n_routed_experts == 0)
    return 0;
  return llm->n_layers - llm->dense_layers_first - llm->dense_layers_last;
}

guint
afd_llm_n_dense_layers (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0);
  return llm->n_layers - afd_llm_n_moe_layers (llm);
}

guint
afd_llm_ffn_matrices (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0);
  return llm->activation == AFD_FFN_SWIGLU ? 3 : 2;
}

double
afd_llm_kv_elements_per_token_layer (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  if (llm->attention == AFD_ATTENTION_MLA)
    return (double)llm->kv_lora_rank + llm->qk_rope_head_dim;
  return 2.0 * llm->n_kv_heads * llm->head_dim;
}

double
afd_llm_kv_bytes_per_token (const AfdLlm *llm)
{
  g_return_val_if_fail (llm != NULL, 0.0);
  return afd_llm_kv_elements_per_token_layer (llm) * llm->n_layers
         * afd_dtype_bytes (llm->dtypes.kv_cache);
}

/* Parameters of one block's attention projections (and their internal norms). */
static double
attention_params (const AfdLlm *llm)
{
  const double h = llm->hidden_size, nh = llm->n_heads, nkv = llm->n_kv_heads;
  const double ql = llm->q_lora_rank;
  switch (llm->attention)
    {
    case AFD_ATTENTION_MLA:
      {
        const double qk = (double)llm->qk_nope_head_dim + llm->qk_rope_head_dim;
        const double dc = llm->kv_lora_rank, dr = llm->qk_rope_head_dim;
        double q = ql > 0 ? h * ql + ql + ql * nh * qk : h * nh * qk;
        double kv
            = h * (dc + dr) + dc + dc * nh * ((double)llm->qk_nope_head_dim + llm->v_head_dim);
        return q + kv + nh * llm->v_head_dim * h;
      }
    case AFD_ATTENTION_MFA:
      {
        const double d = llm->head_dim;
        double q = ql > 0 ? h * ql + ql + ql * nh * d : h * nh * d;
        return q + 2.0 * h * nkv * d + nh * d * h;
      }
    case AFD_ATTENTION_MHA:
    case AFD_ATTENTION_GQA:
    default:
      {
        const double d = llm->head_dim;
        return h * nh * d + 2.0 * h * nkv * d + nh * d * h;
      }
    }
}

void
afd_llm_params (const AfdLlm *llm, AfdLlmParams *out)
{
  g_return_if_fail (llm != NULL && out != NULL);
  const double h = llm->hidden_size, m = afd_llm_ffn_matrices (llm);
  memset (out, 0, sizeof *out);
  out->embedding = (double)llm->vocab_size * h;
  out->lm_head = llm->tie_embeddings ? 0.0 : out->embedding;
  out->attention_per_layer = attention_params (llm);
  out->norms_per_layer = 2.0 * h;
  out->dense_ffn_per_layer = m * h * llm->dense_intermediate_size;
  out->expert = m * h * llm->expert_intermediate_size;
  out->shared_expert = m * h * llm->shared_expert_intermediate_size;
  out->router_per_layer = (double)llm->n_routed_experts * h;

  const double moe_block = llm->n_routed_experts * out->expert
                           + llm->n_shared_experts * out->shared_expert + out->router_per_layer;
  const double n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);
  out->total = out->embedding + out->lm_head + h /* final norm */
               + llm->n_layers * (out->attention_per_layer + out->norms_per_layer)
               + n_dense * out->dense_ffn_per_layer + n_moe * moe_block;
  out->active = out->total - n_moe * ((double)llm->n_routed_experts - llm->top_k) * out->expert;
  /* DeepSeek-V3 MTP module: one full block (MoE when the model has experts), a 2H->H
   * projection, two input norms and a final norm; embedding and head are shared. */
  const double mtp_ffn = llm->n_routed_experts > 0 ? moe_block : out->dense_ffn_per_layer;
  out->mtp = llm->mtp_layers
             * (out->attention_per_layer + out->norms_per_layer + mtp_ffn + 2.0 * h * h + 3.0 * h);
}
