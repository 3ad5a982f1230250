/* SPDX-License-Identifier: MIT */
/* placement.c - the operator placement the deployment strategies share (see models/placement.h). */
#include "config.h"

#include <string.h>

#include "models/routing.h"
#include "models/placement.h"
#include "sim/engine.h"
#include "sim/error.h"

gboolean
afd_placement_routing_sample (const AfdStrategyInput *in, guint64 tokens, AfdOpGraph *graph,
                             AfdPlacementRouting *out, GError **error)
{
  const AfdLlm *llm = in->llm;
  out->n_layers = llm->n_layers;
  out->n_experts = llm->n_routed_experts;
  /* MFU numerator: the per-token FLOPs of the model at this context, every new token once. */
  if (!in->prefill)
    {
      AfdOpsTokenCost cost;
      afd_ops_token_cost (llm, in->context_tokens, &cost);
      afd_opgraph_set_model_flops (graph, cost.total_flops * (double) tokens);
    }
  out->tokens = g_new0 (guint64, (gsize) MAX (1u, llm->n_layers * MAX (1u, out->n_experts)));
  if (llm->n_routed_experts == 0)
    return TRUE;
  g_autoptr (AfdRouting) routing = afd_routing_new (in->routing != NULL ? in->routing : "uniform",
                                                    llm->n_routed_experts, llm->top_k, error);
  if (routing == NULL)
    return FALSE;
  g_autoptr (GRand) rng = g_rand_new_with_seed (afd_rng_seed_for (in->seed, "routing"));
  for (guint l = 0; l < llm->n_layers; l++)
    {
      if (!afd_llm_layer_is_moe (llm, l))
        continue;
      g_autoptr (AfdRoutingResult) r = afd_routing_sample (routing, rng, tokens);
      for (guint e = 0; e < out->n_experts; e++)
        out->tokens[(gsize) l * out->n_experts + e] = r->expert_tokens[e];
    }
  return TRUE;
}

void
afd_placement_routing_clear (AfdPlacementRouting *routing)
{
  g_clear_pointer (&routing->tokens, g_free);
}

guint
afd_placement_experts_per_gpu (guint n_experts, guint n_gpus)
{
  return MAX (1u, (n_experts + n_gpus - 1) / n_gpus);
}

void
afd_placement_expert_slots (const guint64 *expert_tokens, guint n_experts, guint n_gpus,
                           guint64 *out_tokens, guint *out_count)
{
  guint width = afd_placement_experts_per_gpu (n_experts, n_gpus);
  memset (out_tokens, 0, sizeof (guint64) * width * n_gpus);
  if (n_experts == 0)
    {
      memset (out_count, 0, sizeof (guint) * n_gpus);
      return;
    }
  if (n_experts >= n_gpus)
    {
      guint at = 0;
      for (guint i = 0; i < n_gpus; i++)
        {
          out_count[i] = (guint) afd_placement_share (n_experts, n_gpus, i);
          for (guint k = 0; k < out_count[i]; k++)
            out_tokens[(gsize) i * width + k] = expert_tokens[at + k];
          at += out_count[i];
        }
      return;
    }
  g_autoptr (AfdRoutingResult) r
      = afd_routing_replicate (expert_tokens, n_experts, n_gpus - n_experts);
  g_assert (r->n_slots == n_gpus);
  for (guint i = 0; i < n_gpus; i++)
    {
      out_count[i] = 1;
      out_tokens[(gsize) i * width] = r->slot_tokens[i];
    }
}

guint
afd_placement_expert_capacity (guint n_experts, guint n_gpus, guint n_redundant, guint gpu)
{
  /* R counts every redundant copy (DeepSeek-V3's "256 experts + 64 redundant" on 320 GPUs):
   * the G − E copies E < G forces are among them. */
  return (guint) afd_placement_share (MAX ((guint64) n_experts + n_redundant, (guint64) n_gpus),
                                     n_gpus, gpu);
}

void
afd_placement_expert_place (const guint64 *expert_tokens, guint n_experts, guint n_gpus,
                           guint n_redundant, AfdPlacementExperts *out)
{
  guint E = n_experts, G = n_gpus;
  guint extra = (guint) (MAX ((guint64) E + n_redundant, (guint64) G) - E);
  out->n_experts = E;
  out->n_gpus = G;
  out->width = afd_placement_expert_capacity (E, G, n_redundant, 0);
  out->n_slots = 0;
  g_autofree guint *cap = g_new (guint, G);
  g_autofree guint *used = g_new0 (guint, G);
  g_autofree guint *copies = g_new0 (guint, MAX (E, 1u));
  g_autofree guint8 *holds = g_new0 (guint8, (gsize) MAX (E, 1u) * G);
  g_autofree guint *gpu = g_new (guint, (gsize) E + extra);
  g_autofree guint *expert = g_new (guint, (gsize) E + extra);
  guint at = 0;
  for (guint i = 0; i < G; i++)
    {
      cap[i] = afd_placement_expert_capacity (E, G, n_redundant, i);
      guint primaries = E >= G ? (guint) afd_placement_share (E, G, i) : i < E ? 1 : 0;
      for (guint k = 0; k < primaries; k++, at++)
        {
          gpu[out->n_slots] = i;
          expert[out->n_slots++] = at;
          holds[(gsize) at * G + i] = 1;
          copies[at]++;
          used[i]++;
        }
    }
  g_autofree double *load = g_new (double, G);
  for (guint x = 0; x < extra && E > 0; x++)
    {
      /* Each GPU's pairs with the copies so far (an expert's pairs split over its copies). */
      for (guint i = 0; i < G; i++)
        load[i] = 0;
      for (guint s = 0; s < out->n_slots; s++)
        load[gpu[s]] += (double) expert_tokens[expert[s]] / copies[expert[s]];
      /* The expert with the most pairs per copy that some free GPU lacks, on the free GPU
       * lacking it with the fewest pairs (then the fewest copies, then the lowest index). */
      guint best = G_MAXUINT, best_gpu = G_MAXUINT;
      for (guint e = 0; e < E; e++)
        {
          guint where = G_MAXUINT;
          for (guint i = 0; i < G; i++)
            if (used[i] < cap[i] && !holds[(gsize) e * G + i]
                && (where == G_MAXUINT || load[i] < load[where]
                    || (load[i] == load[where] && used[i] < used[where])))
              where = i;
          if (where == G_MAXUINT)
            continue;
          if (best == G_MAXUINT
              || (double) expert_tokens[e] / copies[e]
                     > (double) expert_tokens[best] / copies[best])
            {
              best = e;
              best_gpu = where;
            }
        }
      if (best == G_MAXUINT)
        break;
      gpu[out->n_slots] = best_gpu;
      expert[out->n_slots++] = best;
      holds[(gsize) best * G + best_gpu] = 1;
      copies[best]++;
      used[best_gpu]++;
    }
  /* GPU-major slot order. */
  out->slot_gpu = g_new (guint, MAX (out->n_slots, 1u));
  out->slot_expert = g_new (guint, MAX (out->n_slots, 1u));
  guint k = 0;
  for (guint i = 0; i < G; i++)
    for (guint s = 0; s < out->n_slots; s++)
      if (gpu[s] == i)
        {
          out->slot_gpu[k] = i;
          out->slot_expert[k++] = expert[s];
        }
}

void
afd_placement_expert_placement_clear (AfdPlacementExperts *placement)
{
  g_clear_pointer (&placement->slot_gpu, g_free);
  g_clear_pointer (&placement->slot_expert, g_free);
}

gboolean
afd_placement_expert_slots_placed (const AfdPlacementExperts *p,
                                  const guint64 *expert_tokens, const guint8 *excluded,
                                  guint64 *out_tokens, guint *out_count, guint *out_lost_expert)
{
  guint E = p->n_experts, G = p->n_gpus;
  memset (out_tokens, 0, sizeof (guint64) * p->width * G);
  memset (out_count, 0, sizeof (guint) * G);
  g_autofree guint *alive = g_new0 (guint, MAX (E, 1u));
  g_autofree guint *seen = g_new0 (guint, MAX (E, 1u));
  for (guint s = 0; s < p->n_slots; s++)
    if (excluded == NULL || !excluded[p->slot_gpu[s]])
      alive[p->slot_expert[s]]++;
  for (guint e = 0; e < E; e++)
    if (alive[e] == 0)
      {
        *out_lost_expert = e;
        return FALSE;
      }
  for (guint s = 0; s < p->n_slots; s++)
    {
      guint i = p->slot_gpu[s], e = p->slot_expert[s];
      if (excluded != NULL && excluded[i])
        continue;
      out_tokens[(gsize) i * p->width + out_count[i]++]
          = afd_placement_share (expert_tokens[e], alive[e], seen[e]++);
    }
  return TRUE;
}

guint64
afd_placement_share (guint64 total, guint n, guint i)
{
  g_return_val_if_fail (n > 0 && i < n, 0);
  return total / n + (i < total % n ? 1 : 0);
}

guint
afd_placement_add_op (AfdOpGraph *graph, guint gpu, guint layer, guint micro_batch, AfdOp *op,
                     guint dep)
{
  guint id = afd_opgraph_add_compute (graph, gpu, AFD_OPGRAPH_STREAM_COMPUTE, layer, micro_batch,
                                      op, &dep, 1);
  afd_op_free (op);
  return id;
}

guint
afd_placement_add_ops (AfdOpGraph *graph, guint gpu, guint layer, guint micro_batch,
                      GPtrArray *ops, guint dep)
{
  guint last = dep;
  for (guint i = 0; i < ops->len; i++)
    last = afd_opgraph_add_compute (graph, gpu, AFD_OPGRAPH_STREAM_COMPUTE, layer, micro_batch,
                                    ops->pdata[i], i == 0 ? &dep : NULL, i == 0 ? 1 : 0);
  return last;
}

guint64
afd_placement_new_tokens (const AfdStrategyInput *in)
{
  /* MTP: the step verifies the last accepted token and the N drafts (docs/models/mtp.md). */
  return in->prefill ? MAX (in->context_tokens, 1) : 1 + (guint64) in->draft_tokens;
}

gboolean
afd_placement_add_attention (AfdOpGraph *graph, const AfdStrategyInput *in, guint gpu,
                            guint layer, guint micro_batch, guint64 n_sequences, guint *io_dep,
                            GError **error)
{
  const AfdLlm *llm = in->llm;
  guint64 tokens = n_sequences * afd_placement_new_tokens (in);
  AfdOpsParams ap;
  afd_placement_attention_params (in, layer, n_sequences, 0, 0, &ap);
  g_autoptr (GPtrArray) blk = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
  if (!afd_ops_attention_block (llm, &ap, blk, error))
    return FALSE;
  afd_placement_add_ops (graph, gpu, layer, micro_batch, blk, *io_dep);
  if (afd_llm_layer_is_moe (llm, layer))
    afd_placement_add_op (graph, gpu, layer, micro_batch, afd_ops_router (llm, layer, tokens),
                         AFD_OPGRAPH_NONE);
  else
    *io_dep = afd_placement_add_op (graph, gpu, layer, micro_batch,
                                   afd_ops_dense_ffn (llm, layer, tokens, 1), AFD_OPGRAPH_NONE);
  return TRUE;
}

void
afd_placement_routing_part (const AfdPlacementRouting *routing, guint layer, guint n_parts,
                           guint part, guint64 *out_expert_tokens)
{
  guint E = routing->n_experts;
  for (guint e = 0; e < E; e++)
    out_expert_tokens[e] = afd_placement_share (routing->tokens[(gsize) layer * E + e], n_parts,
                                               part);
}

guint64
afd_placement_slots_tokens (const guint64 *slot_tokens, guint n_slots)
{
  guint64 sum = 0;
  for (guint k = 0; k < n_slots; k++)
    sum += slot_tokens[k];
  return sum;
}

void
afd_placement_attention_params (const AfdStrategyInput *in, guint layer, guint64 n_sequences,
                               guint head_first, guint head_count, AfdOpsParams *out)
{
  afd_ops_params_init (out, in->prefill ? AFD_PHASE_PREFILL : AFD_PHASE_DECODE);
  out->layer = layer;
  out->n_sequences = n_sequences;
  out->new_tokens = afd_placement_new_tokens (in);
  out->context_tokens = in->prefill ? 0 : in->context_tokens;
  out->head_first = head_first;
  out->head_count = head_count;
}

gboolean
afd_placement_check_memory (AfdOpGraph *graph, const AfdStrategyInput *in,
                           const AfdMemoryPlan *plan, guint gpu, GError **error)
{
  AfdMemoryBreakdown b;
  afd_memory_get (plan, gpu, &b);
  afd_opgraph_set_gpu (graph, gpu, gpu / in->gpus_per_node, afd_memory_get_role (plan, gpu),
                       b.total_bytes);
  return afd_memory_check_gpu (plan, gpu, in->gpu, error);
}

double
afd_placement_dispatch_bytes_per_token (const AfdLlm *llm)
{
  double b = afd_dtype_bytes (llm->dtypes.dispatch) * llm->hidden_size;
  if (llm->dtypes.dispatch == AFD_DTYPE_FP8)
    b += 4.0 * llm->hidden_size / 128.0; /* one fp32 scale per 128-element block */
  return b;
}

double
afd_placement_combine_bytes_per_token (const AfdLlm *llm)
{
  return afd_dtype_bytes (llm->dtypes.combine) * llm->hidden_size;
}

double
afd_placement_hidden_bytes_per_token (const AfdLlm *llm)
{
  return afd_dtype_bytes (llm->dtypes.activations) * llm->hidden_size;
}
