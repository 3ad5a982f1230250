/* SPDX-License-Identifier: MIT */
/*
 * strategy-tppp.c - TP x PP (x DP), Megatron-style: the seeds' baseline (TP=8, PP=2).
 *
 * GPU (d, s, t) = d·tp·pp + s·tp + t: replica d, pipeline stage s, tensor rank t. Each stage
 * holds a contiguous, balanced share of the layers. The replica's sequences are split into
 * micro-batches (default: pp) that flow through the stages. Per layer: attention with heads
 * split over the TP group and an all-reduce of tokens·H activations; the FFN either under TP
 * (every rank holds 1/tp of every expert's hidden dimension, all-reduce) or, with
 * moe = "ep", expert parallel inside the TP group (E/tp experts per rank on the replicated
 * tokens, then the same all-reduce). Between stages every TP rank sends its 1/tp shard of the
 * micro-batch's activations to the same rank of the next stage (send/recv). Formulas:
 * docs/models/strategies.md "TP x PP".
 */
#include "config.h"

#include <string.h>

#include "models/registry.h"
#include "models/placement.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct {
  gint64 tp, pp, dp, micro_batches; /* as given; 0 = derived from the cluster */
  gboolean moe_ep;
  guint used_tp, used_pp, used_dp, used_mb; /* what the last build used (describe) */
} TpPp;

/* Defaults derived from the cluster's G GPUs: tp min(8, G); pp min(2, G / tp) (at least 1);
 * dp G / (tp pp). TP 8 on 16 GPUs gives pp 2 as before; tp 1 on one GPU gives pp 1. */
static void
resolve (const TpPp *s, guint n_gpus, guint *out_tp, guint *out_pp, guint *out_dp)
{
  guint g = MAX (n_gpus, 1u);
  guint tp = s->tp > 0 ? (guint) s->tp : MIN (8u, g);
  guint pp = s->pp > 0 ? (guint) s->pp : MAX (1u, MIN (2u, g / tp));
  *out_tp = tp;
  *out_pp = pp;
  *out_dp = s->dp > 0 ? (guint) s->dp : MAX (1u, g / (tp * pp));
}

static const char *const tppp_moes[] = { "tp", "ep", NULL };

/* The parameters (sim/strategy.h): a search tries every TP size that divides both the cluster
 * and a node, every PP depth that divides the cluster, and both MoE layouts; dp and the
 * micro-batches follow from them. */
static const AfdStrategyParam tppp_params[] = {
  { .key = "tp", .flag = "tp", .type = AFD_STRATEGY_PARAM_INT, .unit = "GPUs", .min = 1,
    .max = 1 << 16, .default_help = "min(8, G)", .help = "tensor-parallel size",
    .search = AFD_STRATEGY_SEARCH_GPU_DIVISORS, .search_min = 1,
    .search_max = AFD_STRATEGY_SEARCH_NODE_MAX },
  { .key = "pp", .flag = "pp", .type = AFD_STRATEGY_PARAM_INT, .unit = "stages", .min = 1,
    .max = 1 << 16, .default_help = "min(2, G / tp), at least 1", .help = "pipeline stages",
    .search = AFD_STRATEGY_SEARCH_GPU_DIVISORS, .search_min = 1 },
  { .key = "dp", .flag = "dp", .type = AFD_STRATEGY_PARAM_INT, .unit = "replicas", .min = 1,
    .max = 1 << 20, .default_help = "G / (tp pp), at least 1",
    .help = "data-parallel replicas" },
  { .key = "micro_batches", .flag = "micro-batches", .type = AFD_STRATEGY_PARAM_INT,
    .unit = "micro-batches", .min = 1, .max = 1 << 16, .default_help = "pp",
    .help = "micro-batches", .roles = AFD_STRATEGY_PARAM_MICRO_BATCHES },
  { .key = "moe", .type = AFD_STRATEGY_PARAM_CHOICE, .choices = tppp_moes,
    .default_value = "\"tp\"",
    .help = "MoE layers: experts' hidden split over tp, or whole experts over the tp group",
    .search = AFD_STRATEGY_SEARCH_CHOICES },
  { NULL },
};


static gpointer
tppp_create (const cJSON *params, GError **error)
{
  (void) error;
  const AfdStrategyClass *k = &afd_strategy_tppp_class;
  g_autofree TpPp *s = g_new0 (TpPp, 1);
  s->tp = afd_strategy_param_int (k, params, "tp");
  s->pp = afd_strategy_param_int (k, params, "pp");
  s->dp = afd_strategy_param_int (k, params, "dp");
  s->micro_batches = afd_strategy_param_int (k, params, "micro_batches");
  s->moe_ep = strcmp (afd_strategy_param_choice (k, params, "moe"), "ep") == 0;
  return g_steal_pointer (&s);
}

static void
tppp_describe (gpointer state, GString *out)
{
  const TpPp *s = state;
  if (s->used_tp > 0)
    {
      /* After a build: the sizes used, defaults derived from the cluster included. */
      g_string_append_printf (out, "tp=%u pp=%u dp=%u micro_batches=%u moe=%s", s->used_tp,
                              s->used_pp, s->used_dp, s->used_mb, s->moe_ep ? "ep" : "tp");
      return;
    }
  g_string_append_printf (out, "tp=%" G_GINT64_FORMAT " pp=%" G_GINT64_FORMAT
                          " dp=%" G_GINT64_FORMAT " micro_batches=%" G_GINT64_FORMAT " moe=%s",
                          s->tp, s->pp, s->dp, s->micro_batches, s->moe_ep ? "ep" : "tp");
}

/* All-reduce over @group; each member waits for its GPU's last compute op. Returns member
 * ops in @out_ops. */
static void
allreduce (AfdOpGraph *g, const char *name, guint layer, guint mb, const guint *group, guint n,
           double bytes, guint *out_ops)
{
  g_autofree guint *deps = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    deps[i] = afd_opgraph_stream_tail (g, group[i], AFD_OPGRAPH_STREAM_COMPUTE);
  afd_opgraph_add_comm (g, AFD_COMM_ALL_REDUCE, name, layer, mb, group, n, bytes, NULL, deps,
                        out_ops);
}

static gboolean
tppp_build (gpointer state, const AfdStrategyInput *in, AfdOpGraph *g, GError **error)
{
  TpPp *s = state;
  const AfdLlm *llm = in->llm;
  guint tp, pp, dp;
  resolve (s, in->n_gpus, &tp, &pp, &dp);
  guint M = s->micro_batches > 0 ? (guint) s->micro_batches : pp;
  s->used_tp = tp, s->used_pp = pp, s->used_dp = dp, s->used_mb = M;
  if ((guint64) tp * pp * dp > in->n_gpus)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "tp %u x pp %u x dp %u needs %u GPUs but the cluster has %u", tp, pp, dp,
                   tp * pp * dp, in->n_gpus);
      return FALSE;
    }
  if (llm->n_heads < tp)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%u attention heads cannot be split over tp %u", llm->n_heads, tp);
      return FALSE;
    }
  if (pp > llm->n_layers)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE, "pp %u exceeds the model's %u layers",
                   pp, llm->n_layers);
      return FALSE;
    }
  guint E = llm->n_routed_experts;
  if (s->moe_ep && E > 0 && E % tp != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "moe ep: %u experts are not divisible by tp %u", E, tp);
      return FALSE;
    }
  guint64 nt = afd_placement_new_tokens (in);
  guint64 T = in->batch * nt;
  double hb = afd_placement_hidden_bytes_per_token (llm);
  g_auto (AfdPlacementRouting) routing = { 0 };
  if (!afd_placement_routing_sample (in, T, g, &routing, error))
    return FALSE;
  g_autofree guint *group = g_new (guint, tp);
  g_autofree guint *ar_ops = g_new (guint, tp);
  g_autofree guint *layer_first = g_new (guint, pp + 1);
  layer_first[0] = 0;
  for (guint st = 0; st < pp; st++)
    layer_first[st + 1] = layer_first[st] + (guint) afd_placement_share (llm->n_layers, pp, st);
  g_autofree guint64 *etok = g_new0 (guint64, MAX (E, 1u));
  /* Memory (docs/models/memory.md "Per strategy"): rank t of stage st holds its heads'
   * projections and KV cache for the stage's layers, 1/tp of the experts (whole experts with
   * moe ep), shared experts and dense FFNs, the routers, the embedding on the first stage and
   * the LM head on the last (both on one stage when pp = 1), split tp ways. Tensor-parallel
   * all-reduces run in place; a pipeline stage holds a send and a receive buffer of its hidden
   * states, and moe ep the dispatch/combine buffers of 1/tp of the pairs. */
  g_autoptr (AfdMemoryPlan) mem = afd_memory_plan_new (dp * tp * pp);
  for (guint d = 0; d < dp; d++)
    {
      guint64 seqs_d = afd_placement_share (in->batch, dp, d);
      /* Memory and roles. */
      for (guint st = 0; st < pp; st++)
        {
          guint nl = layer_first[st + 1] - layer_first[st], nmoe = 0;
          for (guint l = layer_first[st]; l < layer_first[st + 1]; l++)
            nmoe += afd_llm_layer_is_moe (llm, l) ? 1 : 0;
          for (guint t = 0; t < tp; t++)
            {
              guint first, count;
              afd_ops_split_heads (llm->n_heads, tp, t, &first, &count);
              guint gpu = d * tp * pp + st * tp + t;
              guint64 tokens = seqs_d * nt, pairs = tokens * llm->top_k;
              double vocab = pp == 1 ? afd_memory_embedding_weights_bytes (llm, tp)
                             : st == 0 || st + 1 == pp ? afd_memory_vocab_table_bytes (llm, tp)
                                                       : 0;
              g_autofree char *role = g_strdup_printf ("tp%u-pp%u", t, st);
              afd_memory_set_role (mem, gpu, role);
              afd_memory_add_weights (
                  mem, gpu,
                  nl * afd_memory_attention_weights_bytes (llm, first, count) + vocab
                      + nmoe
                            * (afd_memory_expert_weights_bytes (llm, E) / tp
                               + afd_memory_shared_expert_weights_bytes (llm, tp)
                               + afd_memory_router_weights_bytes (llm))
                      + (nl - nmoe) * afd_memory_dense_ffn_weights_bytes (llm, tp));
              afd_memory_add_kv (mem, gpu,
                                 nl * afd_memory_kv_bytes (llm, first, count,
                                                           seqs_d * (in->context_tokens + nt)));
              double act = afd_memory_attention_activation_bytes (llm, count, tokens);
              if (nmoe > 0 && E > 0)
                act = MAX (act, afd_memory_expert_activation_bytes (llm, pairs) / tp);
              afd_memory_add_activations (mem, gpu, act);
              afd_memory_add_comm_buffers (
                  mem, gpu,
                  (pp > 1 ? 2.0 * (double) tokens * hb : 0)
                      + (s->moe_ep && nmoe > 0 && E > 0
                             ? afd_memory_comm_buffer_bytes (llm, pairs / tp)
                             : 0));
              afd_memory_add_runtime (mem, gpu, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
              if (!afd_placement_check_memory (g, in, mem, gpu, error))
                return FALSE;
            }
        }
      for (guint mb = 0; mb < M; mb++)
        {
          guint64 seqs = afd_placement_share (seqs_d, M, mb);
          guint64 tok = seqs * nt;
          if (seqs == 0)
            continue;
          guint slot = d * M + mb; /* this micro-batch's share of every expert's tokens */
          for (guint st = 0; st < pp; st++)
            {
              guint base = d * tp * pp + st * tp;
              for (guint t = 0; t < tp; t++)
                group[t] = base + t;
              g_autofree guint *entry = g_new (guint, tp);
              for (guint t = 0; t < tp; t++)
                entry[t] = AFD_OPGRAPH_NONE;
              if (st > 0)
                for (guint t = 0; t < tp; t++)
                  {
                    guint pair[2] = { base - tp + t, base + t };
                    guint pdeps[2] = {
                      afd_opgraph_stream_tail (g, pair[0], AFD_OPGRAPH_STREAM_COMPUTE),
                      AFD_OPGRAPH_NONE
                    };
                    guint ops[2];
                    afd_opgraph_add_comm (g, AFD_COMM_SEND_RECV, "pp_send_recv",
                                          layer_first[st], mb, pair, 2, (double) tok * hb / tp,
                                          NULL, pdeps, ops);
                    entry[t] = ops[1];
                  }
              for (guint l = layer_first[st]; l < layer_first[st + 1]; l++)
                {
                  for (guint t = 0; t < tp; t++)
                    {
                      guint first, count;
                      afd_ops_split_heads (llm->n_heads, tp, t, &first, &count);
                      AfdOpsParams ap;
                      afd_placement_attention_params (in, l, seqs, first, count, &ap);
                      g_autoptr (GPtrArray) ops
                          = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
                      if (!afd_ops_attention_block (llm, &ap, ops, error))
                        return FALSE;
                      afd_placement_add_ops (g, group[t], l, mb, ops,
                                            l == layer_first[st] ? entry[t] : ar_ops[t]);
                    }
                  allreduce (g, "tp_allreduce_attn", l, mb, group, tp, (double) tok * hb, ar_ops);
                  gboolean is_moe = afd_llm_layer_is_moe (llm, l);
                  if (is_moe)
                    afd_placement_routing_part (&routing, l, dp * M, slot, etok);
                  for (guint t = 0; t < tp; t++)
                    {
                      guint gt = group[t];
                      if (!is_moe)
                        {
                          afd_placement_add_op (g, gt, l, mb, afd_ops_dense_ffn (llm, l, tok, tp),
                                               ar_ops[t]);
                          continue;
                        }
                      afd_placement_add_op (g, gt, l, mb, afd_ops_router (llm, l, tok), ar_ops[t]);
                      AfdOp *ex;
                      if (s->moe_ep)
                        ex = afd_ops_expert_grouped_gemm (llm, l, etok + t * (E / tp), E / tp);
                      else
                        {
                          /* Every rank holds 1/tp of each expert's hidden dimension. */
                          ex = afd_ops_expert_grouped_gemm (llm, l, etok, E);
                          ex->flops /= tp;
                          ex->bytes_read /= tp;
                          ex->bytes_written /= tp;
                          ex->gemm.n = (ex->gemm.n + tp - 1) / tp;
                        }
                      afd_placement_add_op (g, gt, l, mb, ex, AFD_OPGRAPH_NONE);
                      AfdOp *sh = afd_ops_shared_expert (llm, l, tok, tp);
                      if (sh != NULL)
                        afd_placement_add_op (g, gt, l, mb, sh, AFD_OPGRAPH_NONE);
                    }
                  allreduce (g, "tp_allreduce_ffn", l, mb, group, tp, (double) tok * hb, ar_ops);
                }
              /* The last stage computes the micro-batch's logits, vocabulary split over tp. */
              if (st + 1 == pp)
                for (guint t = 0; t < tp; t++)
                  afd_placement_add_op (g, group[t], AFD_OPGRAPH_NONE, mb,
                                       afd_ops_lm_head (llm, seqs, tp), ar_ops[t]);
            }
        }
    }
  return TRUE;
}

const AfdStrategyClass afd_strategy_tppp_class = {
  .name = "tppp",
  .summary = "TP x PP (x DP), Megatron-style: heads and expert hidden split over tp with "
             "all-reduces, layers over pp stages with send/recv and micro-batches",
  .params = tppp_params,
  .compare_by_default = TRUE,
  .create = tppp_create,
  .destroy = g_free,
  .build = tppp_build,
  .describe = tppp_describe,
};
