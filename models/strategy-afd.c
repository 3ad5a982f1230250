/* SPDX-License-Identifier: MIT */
/*
 * strategy-afd.c - attention-FFN disaggregation (seed 004; MegaScale-Infer ping-pong).
 *
 * N_A attention nodes and N_F FFN nodes (whole nodes). Attention GPUs are data-parallel over
 * the sequences, each split into m micro-batches (2..4). FFN GPUs hold the routed experts
 * (E/G_F contiguous, or EPLB replicas of the hottest when E < G_F) and the shared experts (on a 1/G_F token share).
 * Per layer and micro-batch: attention + router on the attention GPUs, an M2N all-to-all-v
 * attention->FFN in fp8 (H·(1+4/128) bytes per token-destination), the grouped expert GEMM on
 * the FFN GPUs, and the FFN->attention return in bf16 (2H). Dense layers run on the attention
 * GPUs. The comm stream of every GPU orders the transfers by their slot in a balanced
 * ping-pong (A2F(l,i) at slot l·m+i+1, F2A(l,i) at l·m+i+2, F2A first on ties), which keeps
 * every rendezvous deadlock-free. Formulas: docs/models/strategies.md "AFD".
 */
#include "config.h"

#include <string.h>

#include "models/registry.h"
#include "models/placement.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct {
  gint64 attn_nodes, ffn_nodes, micro_batches;
  guint used_na, used_nf; /* the nodes the last build used, defaults included (describe) */
} Afd;

/* The parameters (sim/strategy.h): a search tries every N_A:N_F split of the cluster's nodes
 * and 2 to 4 micro-batches. */
static const AfdStrategyParam afd_params[] = {
  { .key = "attn_nodes", .flag = "attn-nodes", .type = AFD_STRATEGY_PARAM_INT, .unit = "nodes",
    .min = 1, .max = 1 << 16, .default_help = "half the nodes, at least 1",
    .help = "attention nodes N_A", .search = AFD_STRATEGY_SEARCH_NODE_SPLIT,
    .partner = "ffn_nodes" },
  { .key = "ffn_nodes", .flag = "ffn-nodes", .type = AFD_STRATEGY_PARAM_INT, .unit = "nodes",
    .min = 1, .max = 1 << 16, .default_help = "the nodes attention leaves",
    .help = "FFN nodes N_F" },
  { .key = "micro_batches", .flag = "micro-batches", .type = AFD_STRATEGY_PARAM_INT,
    .unit = "micro-batches", .min = 2, .max = 4, .default_value = "3",
    .help = "micro-batches",
    .search = AFD_STRATEGY_SEARCH_RANGE, .search_min = 2, .search_max = 4,
    .roles = AFD_STRATEGY_PARAM_MICRO_BATCHES },
  { NULL },
};


static gpointer
afd_create (const cJSON *params, GError **error)
{
  (void) error;
  const AfdStrategyClass *k = &afd_strategy_afd_class;
  g_autofree Afd *s = g_new0 (Afd, 1);
  s->attn_nodes = afd_strategy_param_int (k, params, "attn_nodes");
  s->ffn_nodes = afd_strategy_param_int (k, params, "ffn_nodes");
  s->micro_batches = afd_strategy_param_int (k, params, "micro_batches");
  return g_steal_pointer (&s);
}

static void
afd_describe (gpointer state, GString *out)
{
  const Afd *s = state;
  g_string_append_printf (out, "attn_nodes=%" G_GINT64_FORMAT " ffn_nodes=%" G_GINT64_FORMAT
                          " micro_batches=%" G_GINT64_FORMAT,
                          s->attn_nodes > 0 ? s->attn_nodes : (gint64) s->used_na,
                          s->ffn_nodes > 0 ? s->ffn_nodes : (gint64) s->used_nf, s->micro_batches);
}

/* One pending transfer in the ping-pong order. */
typedef struct {
  guint slot;
  guint kind; /* 0 = F2A (sorts first on ties), 1 = A2F */
  guint layer, mb;
} Xfer;

static gboolean
afd_build (gpointer state, const AfdStrategyInput *in, AfdOpGraph *g, GError **error)
{
  Afd *s = state;
  const AfdLlm *llm = in->llm;
  guint gpn = in->gpus_per_node, nodes = in->n_gpus / gpn;
  guint na = s->attn_nodes > 0 ? (guint) s->attn_nodes : MAX (1u, nodes / 2);
  guint nf = s->ffn_nodes > 0 ? (guint) s->ffn_nodes : (nodes > na ? nodes - na : 0);
  s->used_na = na, s->used_nf = nf;
  guint M = (guint) s->micro_batches;
  if (nf == 0 || na + nf > nodes)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%u attention + %u FFN nodes do not fit the cluster's %u nodes", na, nf, nodes);
      return FALSE;
    }
  guint ka = na * gpn, kf = nf * gpn, n = ka + kf, E = llm->n_routed_experts;
  if (in->batch < (guint64) ka * M)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "batch %" G_GUINT64_FORMAT " is smaller than %u attention GPUs x %u "
                   "micro-batches", in->batch, ka, M);
      return FALSE;
    }
  guint64 nt = afd_placement_new_tokens (in);
  guint64 T = in->batch * nt;
  double db = afd_placement_dispatch_bytes_per_token (llm);
  double cb = afd_placement_combine_bytes_per_token (llm);
  g_auto (AfdPlacementRouting) routing = { 0 };
  if (!afd_placement_routing_sample (in, T, g, &routing, error))
    return FALSE;
  guint n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);
  guint W = afd_placement_experts_per_gpu (E, kf);
  g_autofree guint64 *local = g_new0 (guint64, (gsize) kf * W);
  g_autofree guint *count = g_new0 (guint, kf);

  /* Memory (docs/models/memory.md "Per strategy"): an attention GPU holds the whole
   * attention, embedding and LM head, routers and dense FFNs, the KV cache of its sequences
   * and the dispatch/combine buffers of their token-destinations; an FFN GPU its experts
   * (one replica when E < its GPUs) and the shared experts, with the pairs it receives. */
  g_autoptr (AfdMemoryPlan) mem = afd_memory_plan_new (n);
  for (guint a = 0; a < ka; a++)
    {
      guint64 seqs = afd_placement_share (in->batch, ka, a);
      afd_memory_set_role (mem, a, "attention");
      afd_memory_add_weights (
          mem, a,
          llm->n_layers * afd_memory_attention_weights_bytes (llm, 0, llm->n_heads)
              + afd_memory_embedding_weights_bytes (llm, 1)
              + n_moe * afd_memory_router_weights_bytes (llm)
              + n_dense * afd_memory_dense_ffn_weights_bytes (llm, 1));
      afd_memory_add_kv (mem, a,
                         llm->n_layers
                             * afd_memory_kv_bytes (llm, 0, llm->n_heads,
                                                    seqs * (in->context_tokens + nt)));
      afd_memory_add_activations (
          mem, a, afd_memory_attention_activation_bytes (llm, llm->n_heads, seqs * nt));
      afd_memory_add_comm_buffers (mem, a,
                                   afd_memory_comm_buffer_bytes (llm, seqs * nt * llm->top_k));
      afd_memory_add_runtime (mem, a, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
      if (!afd_placement_check_memory (g, in, mem, a, error))
        return FALSE;
    }
  for (guint f = 0; f < kf; f++)
    {
      guint64 pairs = afd_placement_share (T * llm->top_k, kf, f);
      afd_memory_set_role (mem, ka + f, "ffn");
      afd_memory_add_weights (
          mem, ka + f,
          n_moe
              * (afd_memory_expert_weights_bytes (
                     llm, E == 0 ? 0 : E >= kf ? (guint) afd_placement_share (E, kf, f) : 1)
                 + afd_memory_shared_expert_weights_bytes (llm, 1)));
      afd_memory_add_activations (mem, ka + f, afd_memory_expert_activation_bytes (llm, pairs));
      afd_memory_add_comm_buffers (mem, ka + f, afd_memory_comm_buffer_bytes (llm, pairs));
      afd_memory_add_runtime (mem, ka + f, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
      if (!afd_placement_check_memory (g, in, mem, ka + f, error))
        return FALSE;
    }

  g_autofree guint *group = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    group[i] = i;
  g_autofree guint *deps = g_new (guint, n);
  g_autofree guint *ops = g_new (guint, n);
  /* f2a[mb * n + i]: the last F2A member op of micro-batch mb on GPU i (next layer waits). */
  g_autofree guint *back = g_new (guint, (gsize) M * n);
  for (guint i = 0; i < M * n; i++)
    back[i] = AFD_OPGRAPH_NONE;
  g_autofree guint *a2f = g_new (guint, (gsize) M * n);
  g_autofree double *pairs = g_new0 (double, (gsize) n * n);
  g_autofree guint64 *etok = g_new0 (guint64, MAX (E, 1u));
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Xfer));
  for (guint l = 0; l < llm->n_layers; l++)
    for (guint mb = 0; mb < M; mb++)
      {
        Xfer x1 = { l * M + mb + 1, 1, l, mb }, x0 = { l * M + mb + 2, 0, l, mb };
        g_array_append_val (order, x1);
        g_array_append_val (order, x0);
      }
  /* Insertion order already ascends by slot except adjacent pairs: sort stably by (slot, kind). */
  for (guint i = 1; i < order->len; i++)
    for (guint j = i; j > 0; j--)
      {
        Xfer *u = &g_array_index (order, Xfer, j - 1), *v = &g_array_index (order, Xfer, j);
        if (u->slot < v->slot || (u->slot == v->slot && u->kind <= v->kind))
          break;
        Xfer t = *u;
        *u = *v;
        *v = t;
      }

  for (guint x = 0; x < order->len; x++)
    {
      Xfer xf = g_array_index (order, Xfer, x);
      guint l = xf.layer, mb = xf.mb;
      gboolean is_moe = afd_llm_layer_is_moe (llm, l);
      if (xf.kind == 1)
        {
          /* Attention of (l, mb) on every attention GPU, then its A2F. */
          for (guint a = 0; a < ka; a++)
            {
              guint64 seqs = afd_placement_share (afd_placement_share (in->batch, ka, a), M, mb);
              if (!afd_placement_add_attention (g, in, a, l, mb, seqs, &back[mb * n + a], error))
                return FALSE;
            }
          if (!is_moe)
            continue;
          afd_placement_routing_part (&routing, l, M, mb, etok);
          afd_placement_expert_slots (etok, E, kf, local, count);
          memset (pairs, 0, sizeof (double) * n * n);
          for (guint f = 0; f < kf; f++)
            {
              guint64 recv = afd_placement_slots_tokens (local + (gsize) f * W, count[f]);
              for (guint a = 0; a < ka; a++)
                pairs[(gsize) a * n + ka + f]
                    = (double) afd_placement_share (recv, ka, (a + f) % ka) * db;
            }
          for (guint i = 0; i < n; i++)
            deps[i] = i < ka ? afd_opgraph_stream_tail (g, i, AFD_OPGRAPH_STREAM_COMPUTE)
                             : AFD_OPGRAPH_NONE;
          afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, "a2f", l, mb, group, n, 0, pairs, deps,
                                a2f + mb * n);
        }
      else
        {
          if (!is_moe)
            continue;
          afd_placement_routing_part (&routing, l, M, mb, etok);
          afd_placement_expert_slots (etok, E, kf, local, count);
          memset (pairs, 0, sizeof (double) * n * n);
          for (guint f = 0; f < kf; f++)
            {
              guint64 recv = afd_placement_slots_tokens (local + (gsize) f * W, count[f]);
              guint gf = ka + f;
              afd_placement_add_op (g, gf, l, mb,
                                   afd_ops_expert_grouped_gemm (llm, l, local + (gsize) f * W,
                                                                count[f]),
                                   a2f[mb * n + gf]);
              guint64 mb_tokens = afd_placement_share (T, M, mb);
              AfdOp *sh = afd_ops_shared_expert (llm, l, afd_placement_share (mb_tokens, kf, f), 1);
              if (sh != NULL)
                afd_placement_add_op (g, gf, l, mb, sh, AFD_OPGRAPH_NONE);
              for (guint a = 0; a < ka; a++)
                pairs[(gsize) gf * n + a]
                    = (double) afd_placement_share (recv, ka, (a + f) % ka) * cb;
            }
          for (guint i = 0; i < n; i++)
            deps[i] = i >= ka ? afd_opgraph_stream_tail (g, i, AFD_OPGRAPH_STREAM_COMPUTE)
                              : AFD_OPGRAPH_NONE;
          afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, "f2a", l, mb, group, n, 0, pairs, deps,
                                ops);
          for (guint a = 0; a < ka; a++)
            back[mb * n + a] = ops[a];
        }
    }
  /* LM head of every micro-batch on its attention GPU (one logit row per sequence). */
  for (guint mb = 0; mb < M; mb++)
    for (guint a = 0; a < ka; a++)
      afd_placement_add_op (
          g, a, AFD_OPGRAPH_NONE, mb,
          afd_ops_lm_head (llm, afd_placement_share (afd_placement_share (in->batch, ka, a), M, mb), 1),
          back[mb * n + a]);
  return TRUE;
}

const AfdStrategyClass afd_strategy_afd_class = {
  .name = "afd",
  .summary = "attention-FFN disaggregation: attention nodes and FFN nodes, micro-batch ping-pong "
             "(2..4), fp8 A->F and bf16 F->A all-to-all-v",
  .params = afd_params,
  .create = afd_create,
  .destroy = g_free,
  .build = afd_build,
  .describe = afd_describe,
};
