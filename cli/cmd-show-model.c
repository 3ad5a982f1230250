/* SPDX-License-Identifier: MIT */
/*
 * cmd-show-model.c - `afdsim show model NAME|FILE [--context L] [--json]`.
 *
 * Loads one model and prints its architecture, parameter counts (total, active, MTP),
 * FLOPs per decoded token at context L and KV bytes per token. Definitions:
 * docs/user/model-format.md ("What is counted") and docs/models/operators.md. Prints to
 * stdout only; errors go back to main().
 */
#include "config.h"

#include <stdio.h>

#include "cli/commands.h"
#include "models/ops.h"
#include "sim/error.h"
#include "sim/json.h"

static double weights_bytes (const AfdLlm *llm, const AfdLlmParams *params);

/* Adds the architecture object (the model file's keys, resolved defaults included). */
static cJSON *
architecture_json (const AfdLlm *llm)
{
  cJSON *o = cJSON_CreateObject ();
  afd_json_add_number (o, "layers", llm->n_layers);
  afd_json_add_number (o, "dense_layers", afd_llm_n_dense_layers (llm));
  afd_json_add_number (o, "moe_layers", afd_llm_n_moe_layers (llm));
  afd_json_add_number (o, "dense_layers_first", llm->dense_layers_first);
  afd_json_add_number (o, "dense_layers_last", llm->dense_layers_last);
  afd_json_add_number (o, "mtp_layers", llm->mtp_layers);
  afd_json_add_number (o, "hidden_size", llm->hidden_size);
  afd_json_add_number (o, "vocab_size", llm->vocab_size);
  cJSON_AddBoolToObject (o, "tie_embeddings", llm->tie_embeddings);

  cJSON *att = cJSON_AddObjectToObject (o, "attention");
  cJSON_AddStringToObject (att, "kind", afd_attention_kind_name (llm->attention));
  afd_json_add_number (att, "heads", llm->n_heads);
  afd_json_add_number (att, "kv_heads", llm->n_kv_heads);
  afd_json_add_number (att, "head_dim", llm->head_dim);
  afd_json_add_number (att, "v_head_dim", llm->v_head_dim);
  afd_json_add_number (att, "q_lora_rank", llm->q_lora_rank);
  if (llm->attention == AFD_ATTENTION_MLA)
    {
      afd_json_add_number (att, "kv_lora_rank", llm->kv_lora_rank);
      afd_json_add_number (att, "qk_nope_head_dim", llm->qk_nope_head_dim);
      afd_json_add_number (att, "qk_rope_head_dim", llm->qk_rope_head_dim);
    }

  cJSON *ffn = cJSON_AddObjectToObject (o, "ffn");
  cJSON_AddStringToObject (ffn, "activation", afd_ffn_activation_name (llm->activation));
  afd_json_add_number (ffn, "dense_intermediate_size", llm->dense_intermediate_size);
  if (llm->n_routed_experts > 0)
    {
      cJSON *moe = cJSON_AddObjectToObject (o, "moe");
      afd_json_add_number (moe, "routed_experts", llm->n_routed_experts);
      afd_json_add_number (moe, "top_k", llm->top_k);
      afd_json_add_number (moe, "shared_experts", llm->n_shared_experts);
      afd_json_add_number (moe, "expert_intermediate_size", llm->expert_intermediate_size);
      afd_json_add_number (moe, "shared_expert_intermediate_size",
                           llm->shared_expert_intermediate_size);
    }
  const AfdLlmDtypes *d = &llm->dtypes;
  cJSON *dt = cJSON_AddObjectToObject (o, "dtypes");
  cJSON_AddStringToObject (dt, "attention_weights", afd_dtype_name (d->attention_weights));
  cJSON_AddStringToObject (dt, "dense_weights", afd_dtype_name (d->dense_weights));
  cJSON_AddStringToObject (dt, "expert_weights", afd_dtype_name (d->expert_weights));
  cJSON_AddStringToObject (dt, "embedding_weights", afd_dtype_name (d->embedding_weights));
  cJSON_AddStringToObject (dt, "kv_cache", afd_dtype_name (d->kv_cache));
  cJSON_AddStringToObject (dt, "activations", afd_dtype_name (d->activations));
  cJSON_AddStringToObject (dt, "dispatch", afd_dtype_name (d->dispatch));
  cJSON_AddStringToObject (dt, "combine", afd_dtype_name (d->combine));
  return o;
}

cJSON *
afd_show_model_json (const AfdLlm *llm, guint64 context_tokens)
{
  g_return_val_if_fail (llm != NULL, NULL);
  if (context_tokens == 0)
    context_tokens = llm->context_tokens;
  AfdLlmParams params;
  AfdOpsTokenCost cost;
  afd_llm_params (llm, &params);
  afd_ops_token_cost (llm, context_tokens, &cost);

  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "name", llm->name);
  cJSON_AddStringToObject (o, "source", llm->source);
  afd_json_add_number (o, "params_total", params.total);
  afd_json_add_number (o, "params_active", params.active);
  afd_json_add_number (o, "params_mtp", params.mtp);
  afd_json_add_number (o, "context_tokens", (double)context_tokens);
  afd_json_add_number (o, "flops_per_token", cost.total_flops);
  afd_json_add_number (o, "kv_bytes_per_token", afd_llm_kv_bytes_per_token (llm));
  afd_json_add_number (o, "weights_bytes", weights_bytes (llm, &params));
  cJSON *per = cJSON_AddObjectToObject (o, "flops_per_token_breakdown");
  afd_json_add_number (per, "attention_core_flops", cost.attention_core_flops);
  afd_json_add_number (per, "projection_flops", cost.projection_flops);
  afd_json_add_number (per, "ffn_flops", cost.ffn_flops);
  afd_json_add_number (per, "router_flops", cost.router_flops);
  afd_json_add_number (per, "lm_head_flops", cost.lm_head_flops);
  afd_json_add_number (o, "kv_bytes_per_token_at_context", cost.kv_bytes);
  cJSON_AddItemToObject (o, "architecture", architecture_json (llm));
  return o;
}

/* Weights in bytes, each tensor class in its dtype, from the same counts as params_total. */
static double
weights_bytes (const AfdLlm *llm, const AfdLlmParams *params)
{
  const AfdLlmDtypes *d = &llm->dtypes;
  const double n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);
  return (params->embedding + params->lm_head) * afd_dtype_bytes (d->embedding_weights)
         + (llm->n_layers * (params->attention_per_layer + params->norms_per_layer)
            + n_moe * params->router_per_layer + llm->hidden_size)
               * afd_dtype_bytes (d->attention_weights)
         + (n_dense * params->dense_ffn_per_layer
            + n_moe * llm->n_shared_experts * params->shared_expert)
               * afd_dtype_bytes (d->dense_weights)
         + n_moe * llm->n_routed_experts * params->expert * afd_dtype_bytes (d->expert_weights);
}

/* Formats a count with an SI suffix (B = 1e9, T = 1e12). */
static char *
human (double v)
{
  if (v >= 1e12)
    return g_strdup_printf ("%.3f T", v / 1e12);
  if (v >= 1e9)
    return g_strdup_printf ("%.2f B", v / 1e9);
  if (v >= 1e6)
    return g_strdup_printf ("%.2f M", v / 1e6);
  return g_strdup_printf ("%.0f", v);
}

/* Prints the text form of @o (the JSON object built above). */
static void
print_text (const AfdLlm *llm, const cJSON *o)
{
  double total = cJSON_GetObjectItem (o, "params_total")->valuedouble;
  double active = cJSON_GetObjectItem (o, "params_active")->valuedouble;
  double mtp = cJSON_GetObjectItem (o, "params_mtp")->valuedouble;
  double flops = cJSON_GetObjectItem (o, "flops_per_token")->valuedouble;
  double ctx = cJSON_GetObjectItem (o, "context_tokens")->valuedouble;
  double wbytes = cJSON_GetObjectItem (o, "weights_bytes")->valuedouble;
  g_autofree char *t = human (total), *a = human (active), *m = human (mtp), *f = human (flops);

  printf ("model              %s\n", llm->name);
  printf ("source             %s\n", llm->source);
  if (llm->notes != NULL)
    printf ("notes              %s\n", llm->notes);
  printf ("layers             %u (%u dense + %u MoE)", llm->n_layers, afd_llm_n_dense_layers (llm),
          afd_llm_n_moe_layers (llm));
  if (llm->mtp_layers > 0)
    printf (", %u MTP module%s", llm->mtp_layers, llm->mtp_layers > 1 ? "s" : "");
  printf ("\nhidden_size        %u, vocab %u%s\n", llm->hidden_size, llm->vocab_size,
          llm->tie_embeddings ? " (tied head)" : "");
  printf ("attention          %s, %u heads", afd_attention_kind_name (llm->attention),
          llm->n_heads);
  if (llm->attention == AFD_ATTENTION_MLA)
    printf (", q_lora %u, kv_lora %u, nope %u + rope %u, v %u", llm->q_lora_rank, llm->kv_lora_rank,
            llm->qk_nope_head_dim, llm->qk_rope_head_dim, llm->v_head_dim);
  else
    {
      printf (" / %u kv heads of %u", llm->n_kv_heads, llm->head_dim);
      if (llm->q_lora_rank > 0)
        printf (", q_lora %u", llm->q_lora_rank);
    }
  printf ("\nffn                %s", afd_ffn_activation_name (llm->activation));
  if (llm->dense_intermediate_size > 0)
    printf (", dense d_ff %u", llm->dense_intermediate_size);
  if (llm->n_routed_experts > 0)
    printf ("; %u routed experts (top-%u) + %u shared, expert d_ff %u", llm->n_routed_experts,
            llm->top_k, llm->n_shared_experts, llm->expert_intermediate_size);
  printf ("\nparams_total       %s (%.0f)\n", t, total);
  printf ("params_active      %s (%.0f)\n", a, active);
  if (mtp > 0)
    printf ("params_mtp         %s (not in params_total)\n", m);
  printf ("weights            %.1f GB\n", wbytes / 1e9);
  printf ("kv_bytes_per_token %.0f B (%s kv cache)\n", afd_llm_kv_bytes_per_token (llm),
          afd_dtype_name (llm->dtypes.kv_cache));
  printf ("flops_per_token    %s (%.4g FLOPs at context_tokens %.0f)\n", f, flops, ctx);
}

/* `show model`: parses flags, loads the model, prints text or JSON. */
static int
cmd_show_model (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                GError **error)
{
  g_autofree char *context_text = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "context", 0, 0, G_OPTION_ARG_STRING, &context_text,
      "context length L in tokens for flops_per_token (default: the model's context_tokens)", "L" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of text", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  if (!afd_cli_parse_command (&afd_command_show_model, afd_command_show_model.summary, entries,
                              &argc, &argv, error))
    return 2;
  if (argc < 2)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "show model: expected a model NAME or FILE (see 'afdsim list models')");
      return 2;
    }
  gint64 context = 0;
  if (!afd_cli_parse_int ("--context", context_text, 1, G_GINT64_CONSTANT (1) << 40, &context,
                          error))
    return 2;
  g_autoptr (AfdLlm) llm = afd_llm_load (argv[1], error);
  if (llm == NULL)
    return 1;
  g_autoptr (cJSON) o = afd_show_model_json (llm, (guint64)context);
  if (json)
    {
      g_autofree char *text = cJSON_Print (o);
      printf ("%s\n", text);
    }
  else
    print_text (llm, o);
  return 0;
}

const AfdCommand afd_command_show_model
    = { "show model", "print a model's architecture, parameters, FLOPs and KV bytes per token",
        cmd_show_model, "NAME|FILE", 1 };
