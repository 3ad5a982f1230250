/* SPDX-License-Identifier: MIT */
/*
 * strategy-ep.c - wide expert parallelism, DeepSeek-style (seed 003; DeepSeek-V3 §3.4).
 *
 * Attention is data-parallel: each of the ep GPUs serves an even share of the sequences with
 * all heads. Routed experts are spread over the GPUs (afd_placement_expert_slots): with
 * E >= G, GPU i holds a contiguous block of E/G experts (the seed's "at most one per GPU"
 * when E = G); with E < G, GPUs beyond E hold EPLB replicas of the hottest experts (DeepSeek-V3
 * EP320: 256 experts + 64 redundant), which split those experts' pairs evenly.
 * Per MoE layer and micro-batch: attention, router, dispatch (all-to-all-v: a source sends each
 * expert-holding GPU its share of that expert's token-expert pairs, H·(1+4/128) bytes each in
 * fp8 with block scales, or H·dtype), the grouped expert GEMM, the shared experts on local
 * tokens, and the combine (the reverse pairs, in the combine dtype). With two micro-batches
 * the compute stream runs A0 A1 E0 E1 and the comm stream D0 D1 C0 C1, so the attention of
 * one overlaps the dispatch/combine of the other. Formulas: docs/models/strategies.md "EP".
 *
 * Redundant experts and failed GPUs (docs/models/faults.md "EP with redundant experts"):
 * redundant_experts R: R EPLB copies in all (those E < G forces among them) of the hottest
 * experts of each layer, on max(E + R, G) slots
 * (afd_placement_expert_place; memory counts every slot). With in->excluded set, the failed
 * GPUs get no op: their sequences are lost (ep_lost_sequences), their expert copies' pairs go
 * to the surviving copies, and the dispatch/combine groups shrink to the survivors; an expert
 * without a surviving copy makes the build fail (AFD_ERROR_INFEASIBLE).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "models/registry.h"
#include "models/placement.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct {
  gint64 ep;
  gint64 micro_batches;
  gboolean two_stage; /* node-limited two-stage dispatch/combine */
  gint64 node_limit;  /* most nodes a token is sent to (0: no limit) */
  gint64 redundant_experts; /* EPLB copies of the hottest experts per layer, in all */
  guint used_ep;            /* the group size the last build used (describe) */
} Ep;

static const char *const ep_dispatches[] = { "flat", "two-stage", NULL };

/* The parameters (sim/strategy.h): a search tries every EP size that divides the cluster, one
 * and two micro-batches, and both dispatches. */
static const AfdStrategyParam ep_params[] = {
  { .key = "ep", .flag = "ep", .type = AFD_STRATEGY_PARAM_INT, .unit = "GPUs", .min = 1,
    .max = 1 << 20, .default_help = "the whole cluster", .help = "expert-parallel GPUs",
    .search = AFD_STRATEGY_SEARCH_GPU_DIVISORS, .search_min = 1 },
  { .key = "micro_batches", .flag = "micro-batches", .type = AFD_STRATEGY_PARAM_INT,
    .unit = "micro-batches", .min = 1, .max = 2, .default_value = "2",
    .help = "micro-batches",
    .search = AFD_STRATEGY_SEARCH_RANGE, .search_min = 1, .search_max = 2,
    .roles = AFD_STRATEGY_PARAM_MICRO_BATCHES },
  { .key = "dispatch", .type = AFD_STRATEGY_PARAM_CHOICE, .choices = ep_dispatches,
    .default_value = "\"flat\"",
    .help = "all-to-all-v straight to the experts, or node-limited two-stage (NVLink hop)",
    .search = AFD_STRATEGY_SEARCH_CHOICES },
  { .key = "node_limit", .type = AFD_STRATEGY_PARAM_INT, .unit = "nodes", .min = 0,
    .max = 1 << 16, .default_value = "0",
    .help = "most nodes a token is sent to (0: no limit)" },
  { .key = "redundant_experts", .type = AFD_STRATEGY_PARAM_INT, .unit = "copies", .min = 0,
    .max = 1 << 16, .default_value = "0",
    .help = "extra EPLB copies of the hottest experts per layer" },
  { NULL },
};


static gpointer
ep_create (const cJSON *params, GError **error)
{
  (void) error;
  const AfdStrategyClass *k = &afd_strategy_ep_class;
  g_autofree Ep *s = g_new0 (Ep, 1);
  s->ep = afd_strategy_param_int (k, params, "ep");
  s->micro_batches = afd_strategy_param_int (k, params, "micro_batches");
  s->node_limit = afd_strategy_param_int (k, params, "node_limit");
  s->redundant_experts = afd_strategy_param_int (k, params, "redundant_experts");
  s->two_stage = strcmp (afd_strategy_param_choice (k, params, "dispatch"), "two-stage") == 0;
  return g_steal_pointer (&s);
}

static void
ep_describe (gpointer state, GString *out)
{
  const Ep *s = state;
  g_string_append_printf (out, "ep=%" G_GINT64_FORMAT " micro_batches=%" G_GINT64_FORMAT
                          " dispatch=%s node_limit=%" G_GINT64_FORMAT,
                          s->ep > 0 ? s->ep : (gint64) s->used_ep, s->micro_batches,
                          s->two_stage ? "two-stage" : "flat",
                          s->node_limit);
  if (s->redundant_experts > 0)
    g_string_append_printf (out, " redundant_experts=%" G_GINT64_FORMAT, s->redundant_experts);
}

/* The GPUs of the EP group (ep, or the whole cluster). */
static guint
ep_size (const Ep *s, const AfdStrategyInput *in)
{
  return s->ep > 0 ? (guint) s->ep : in->n_gpus;
}

/* AfdStrategyClass.lost_sequences: the data-parallel attention shares of the excluded GPUs
 * (their sequences' KV cache exists nowhere else). */
static guint64
ep_lost_sequences (gpointer state, const AfdStrategyInput *in)
{
  guint n = MIN (ep_size (state, in), in->n_gpus);
  guint64 lost = 0;
  for (guint i = 0; in->excluded != NULL && i < n; i++)
    if (in->excluded[i])
      lost += afd_placement_share (in->batch, n, i);
  return lost;
}

/* The copies of expert @e in @p, as "GPU a, GPU b". */
static char *
copies_text (const AfdPlacementExperts *p, guint e)
{
  GString *out = g_string_new (NULL);
  for (guint k = 0; k < p->n_slots; k++)
    if (p->slot_expert[k] == e)
      g_string_append_printf (out, "%sGPU %u", out->len ? ", " : "", p->slot_gpu[k]);
  return g_string_free (out, FALSE);
}

/* Fills @local/@count with the micro-batch's pairs per copy: the fixed EPLB placement when
 * @p is set (failed copies' pairs to the survivors), else afd_placement_expert_slots(). */
static gboolean
ep_slots (const AfdPlacementExperts *p, const guint64 *etok, guint E, guint n,
          const guint8 *excluded, guint layer, guint64 *local, guint *count, GError **error)
{
  if (p == NULL)
    {
      afd_placement_expert_slots (etok, E, n, local, count);
      return TRUE;
    }
  guint lost;
  if (afd_placement_expert_slots_placed (p, etok, excluded, local, count, &lost))
    return TRUE;
  g_autofree char *where = copies_text (p, lost);
  g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
               "expert %u of layer %u has no copy on a surviving GPU (its copies: %s); add "
               "redundant_experts",
               lost, layer, where);
  return FALSE;
}

/* Adds the flat dispatch (or, with @transpose, combine) of one layer and micro-batch: an
 * all-to-all-v where every source sends GPU d an even share of the @recv[d] pairs d
 * processes, @unit bytes each, stored compactly; members wait for their GPU's compute tail. */
static void
add_even (AfdOpGraph *g, const char *name, guint layer, guint mb, const guint *group, guint n,
          const guint64 *recv, double unit, gboolean transpose, guint *out_ops)
{
  g_autofree guint *deps = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    deps[i] = afd_opgraph_stream_tail (g, group[i], AFD_OPGRAPH_STREAM_COMPUTE);
  afd_opgraph_add_comm_even (g, name, layer, mb, group, n, recv, unit, transpose, deps, out_ops);
}

/* What one dispatch or combine exchanges: pairs each GPU receives (recv[d]) and tokens each
 * GPU sends (tok[i]), for one layer and micro-batch. */
typedef struct {
  guint n, gpn, top_k;
  gint64 node_limit;
  const guint64 *recv;
  const guint64 *tok;
} Exchange;

/* Expected fraction of a source's tokens that reach node @d (two-stage): a token's k pairs
 * land on node d with probability q_d (d's share of all pairs), so it reaches d with
 * probability 1 - (1 - q_d)^k; with a node limit M the hits of a token are scaled so that
 * their sum is at most M. */
static void
node_hits (const Exchange *x, double *out_hit)
{
  guint N = x->n / x->gpn;
  double total = 0, sum = 0;
  for (guint d = 0; d < x->n; d++)
    total += (double) x->recv[d];
  for (guint b = 0; b < N; b++)
    {
      double q = 0;
      for (guint j = 0; j < x->gpn; j++)
        q += (double) x->recv[b * x->gpn + j];
      q = total > 0 ? q / total : 0;
      out_hit[b] = 1 - pow (1 - q, x->top_k);
      sum += out_hit[b];
    }
  if (x->node_limit > 0 && sum > (double) x->node_limit)
    for (guint b = 0; b < N; b++)
      out_hit[b] *= (double) x->node_limit / sum;
}

/* Two-stage exchange (DeepSeek node-limited all-to-all): a rail stage among the GPUs of one
 * local rank across nodes carrying each token once per destination node, and a node stage
 * (NVLink) carrying each pair to the GPU of its expert. Dispatch runs rail then node; combine
 * runs node then rail (outputs are summed inside the node before crossing the network).
 * @out_ops[i]: GPU i's member op of the last stage. */
static void
add_two_stage (AfdOpGraph *g, const Exchange *x, gboolean combine, double unit, guint layer,
               guint mb, guint *out_ops)
{
  guint N = x->n / x->gpn, gpn = x->gpn;
  g_autofree double *hit = g_new (double, N);
  node_hits (x, hit);
  g_autofree guint *grp = g_new (guint, MAX (N, gpn));
  g_autofree guint *ops = g_new (guint, MAX (N, gpn));
  g_autofree double *pairs = g_new0 (double, (gsize) MAX (N, gpn) * MAX (N, gpn));
  for (guint stage = 0; stage < 2; stage++)
    {
      gboolean rail = (stage == 0) != combine;
      if (rail)
        for (guint r = 0; r < gpn; r++)
          {
            for (guint a = 0; a < N; a++)
              grp[a] = a * gpn + r;
            for (guint a = 0; a < N; a++)
              for (guint b = 0; b < N; b++)
                {
                  /* Dispatch: a's tokens to node b; combine: b's outputs for a's tokens. */
                  guint src = combine ? b : a, dst = combine ? a : b;
                  pairs[(gsize) src * N + dst]
                      = a == b ? 0 : (double) x->tok[grp[a]] * hit[b] * unit;
                }
            g_autofree guint *deps = g_new (guint, N);
            for (guint a = 0; a < N; a++)
              deps[a] = afd_opgraph_stream_tail (g, grp[a], AFD_OPGRAPH_STREAM_COMPUTE);
            afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, combine ? "combine_rail" : "dispatch_rail",
                                  layer, mb, grp, N, 0, pairs, deps, ops);
            for (guint a = 0; a < N; a++)
              out_ops[grp[a]] = ops[a];
          }
      else
        for (guint b = 0; b < N; b++)
          {
            for (guint j = 0; j < gpn; j++)
              grp[j] = b * gpn + j;
            for (guint i = 0; i < gpn; i++)
              for (guint j = 0; j < gpn; j++)
                {
                  double v = i == j ? 0
                                    : (double) afd_placement_share (x->recv[grp[j]], gpn, i) * unit;
                  pairs[combine ? (gsize) j * gpn + i : (gsize) i * gpn + j] = v;
                }
            g_autofree guint *deps = g_new (guint, gpn);
            for (guint j = 0; j < gpn; j++)
              deps[j] = afd_opgraph_stream_tail (g, grp[j], AFD_OPGRAPH_STREAM_COMPUTE);
            afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, combine ? "combine_node" : "dispatch_node",
                                  layer, mb, grp, gpn, 0, pairs, deps, ops);
            for (guint j = 0; j < gpn; j++)
              out_ops[grp[j]] = ops[j];
          }
    }
}

static gboolean
ep_build (gpointer state, const AfdStrategyInput *in, AfdOpGraph *g, GError **error)
{
  Ep *s = state;
  const AfdLlm *llm = in->llm;
  guint n = ep_size (s, in);
  s->used_ep = n;
  guint M = (guint) s->micro_batches;
  if (n > in->n_gpus)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE, "ep %u exceeds the cluster's %u GPUs", n,
                   in->n_gpus);
      return FALSE;
    }
  if (in->batch < (guint64) n * M)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "batch %" G_GUINT64_FORMAT " is smaller than ep %u x %u micro-batches: some "
                   "GPUs would have no sequences",
                   in->batch, n, M);
      return FALSE;
    }
  if (s->two_stage && (n % in->gpus_per_node != 0 || n / in->gpus_per_node < 2))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "dispatch two-stage needs ep (%u) to be whole nodes of %u GPUs, at least 2", n,
                   in->gpus_per_node);
      return FALSE;
    }
  guint E = llm->n_routed_experts;
  guint R = (guint) s->redundant_experts;
  /* Survivors: the GPUs of the group not excluded (all of them without faults). */
  const guint8 *excluded = in->excluded;
  g_autofree guint *group = g_new (guint, n);
  guint m = 0;
  for (guint i = 0; i < n; i++)
    if (excluded == NULL || !excluded[i])
      group[m++] = i;
  if (m == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE, "no GPU of the ep group survives");
      return FALSE;
    }
  if (m < n && s->two_stage)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "dispatch two-stage cannot run on %u of %u GPUs after a failure (TODO(#8))", m,
                   n);
      return FALSE;
    }
  /* The fixed per-layer placement with redundant copies, or after a failure. */
  gboolean placed = E > 0 && (R > 0 || m < n);
  guint W = placed ? afd_placement_expert_capacity (E, n, R, 0) : afd_placement_experts_per_gpu (E, n);
  guint64 nt = afd_placement_new_tokens (in);
  guint64 T = in->batch * nt;
  double db = afd_placement_dispatch_bytes_per_token (llm);
  double cb = afd_placement_combine_bytes_per_token (llm);
  g_auto (AfdPlacementRouting) routing = { 0 };
  if (!afd_placement_routing_sample (in, T, g, &routing, error))
    return FALSE;
  g_autofree guint *member_ops = g_new (guint, n);
  g_autofree guint64 *member_recv = g_new0 (guint64, n);
  g_autofree guint *disp_ops = g_new (guint, (gsize) n * M);
  g_autofree guint *comb_ops = g_new (guint, (gsize) n * M);
  for (guint i = 0; i < n * M; i++)
    comb_ops[i] = AFD_OPGRAPH_NONE;
  g_autofree guint64 *etok = g_new0 (guint64, MAX (E, 1u));
  g_autofree guint64 *local = g_new0 (guint64, (gsize) n * W);
  g_autofree guint *count = g_new0 (guint, n);
  g_autofree guint64 *recv = g_new0 (guint64, n);
  g_autofree guint64 *tok = g_new0 (guint64, n);
  Exchange x = { n, in->gpus_per_node, MAX (llm->top_k, 1u), s->node_limit, recv, tok };
  guint n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);

  /* Memory (docs/models/memory.md "Per strategy"): every GPU holds the whole attention, the
   * embedding and LM head, its expert slots, the shared experts, routers and dense FFNs, the
   * KV cache of its sequences, and dispatch/combine buffers for its own token-destinations
   * and the pairs it receives. */
  g_autoptr (AfdMemoryPlan) mem = afd_memory_plan_new (n);
  for (guint i = 0; i < n; i++)
    {
      if (excluded != NULL && excluded[i])
        {
          afd_opgraph_set_gpu (g, i, i / in->gpus_per_node, "failed", 0);
          continue;
        }
      guint64 seqs = afd_placement_share (in->batch, n, i);
      guint64 pairs = afd_placement_share (T * llm->top_k, n, i);
      /* Every slot holds weights (R = 0: E/G per GPU for E >= G, one for E < G). */
      guint held = E == 0 ? 0 : afd_placement_expert_capacity (E, n, R, i);
      afd_memory_set_role (mem, i, E > 0 ? "attention+experts" : "attention+ffn");
      afd_memory_add_weights (
          mem, i,
          llm->n_layers * afd_memory_attention_weights_bytes (llm, 0, llm->n_heads)
              + afd_memory_embedding_weights_bytes (llm, 1)
              + n_moe
                    * (afd_memory_expert_weights_bytes (llm, held)
                       + afd_memory_shared_expert_weights_bytes (llm, 1)
                       + afd_memory_router_weights_bytes (llm))
              + n_dense * afd_memory_dense_ffn_weights_bytes (llm, 1));
      afd_memory_add_kv (mem, i,
                         llm->n_layers
                             * afd_memory_kv_bytes (llm, 0, llm->n_heads,
                                                    seqs * (in->context_tokens + nt)));
      double act = afd_memory_attention_activation_bytes (llm, llm->n_heads, seqs * nt);
      if (E > 0)
        act = MAX (act, afd_memory_expert_activation_bytes (llm, pairs));
      afd_memory_add_activations (mem, i, act);
      if (E > 0)
        afd_memory_add_comm_buffers (mem, i,
                                     afd_memory_comm_buffer_bytes (llm, seqs * nt * llm->top_k)
                                         + afd_memory_comm_buffer_bytes (llm, pairs));
      afd_memory_add_runtime (mem, i, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
      if (!afd_placement_check_memory (g, in, mem, i, error))
        return FALSE;
    }

  for (guint l = 0; l < llm->n_layers; l++)
    {
      gboolean is_moe = afd_llm_layer_is_moe (llm, l);
      g_auto (AfdPlacementExperts) placement = { 0 };
      if (placed && is_moe)
        afd_placement_expert_place (routing.tokens + (gsize) l * E, E, n, R, &placement);
      const AfdPlacementExperts *pl = placed && is_moe ? &placement : NULL;
      /* Attention (+ router) of every micro-batch, each followed by its dispatch. */
      for (guint mb = 0; mb < M; mb++)
        {
          for (guint j = 0; j < m; j++)
            {
              guint i = group[j];
              guint64 seqs = afd_placement_share (afd_placement_share (in->batch, n, i), M, mb);
              if (!afd_placement_add_attention (g, in, i, l, mb, seqs, &comb_ops[mb * n + i],
                                               error))
                return FALSE;
            }
          if (!is_moe)
            continue;
          /* Dispatch: source i sends GPU d an even share of the pairs d processes. */
          afd_placement_routing_part (&routing, l, M, mb, etok);
          if (!ep_slots (pl, etok, E, n, excluded, l, local, count, error))
            return FALSE;
          for (guint d = 0; d < n; d++)
            recv[d] = afd_placement_slots_tokens (local + (gsize) d * W, count[d]);
          for (guint j = 0; j < m; j++)
            member_recv[j] = recv[group[j]];
          for (guint i = 0; i < n; i++)
            tok[i] = afd_placement_share (afd_placement_share (in->batch, n, i), M, mb) * nt;
          if (s->two_stage)
            add_two_stage (g, &x, FALSE, db, l, mb, disp_ops + mb * n);
          else
            {
              add_even (g, "dispatch", l, mb, group, m, member_recv, db, FALSE, member_ops);
              for (guint j = 0; j < m; j++)
                disp_ops[mb * n + group[j]] = member_ops[j];
            }
        }
      if (!is_moe)
        continue;
      /* Experts and shared experts of every micro-batch, each followed by its combine. */
      for (guint mb = 0; mb < M; mb++)
        {
          afd_placement_routing_part (&routing, l, M, mb, etok);
          if (!ep_slots (pl, etok, E, n, excluded, l, local, count, error))
            return FALSE;
          for (guint j = 0; j < m; j++)
            {
              guint i = group[j];
              recv[i] = afd_placement_slots_tokens (local + (gsize) i * W, count[i]);
              afd_placement_add_op (g, i, l, mb,
                                   afd_ops_expert_grouped_gemm (llm, l, local + (gsize) i * W,
                                                                count[i]),
                                   disp_ops[mb * n + i]);
              guint64 seqs = afd_placement_share (afd_placement_share (in->batch, n, i), M, mb);
              AfdOp *sh = afd_ops_shared_expert (llm, l, seqs * nt, 1);
              if (sh != NULL)
                afd_placement_add_op (g, i, l, mb, sh, AFD_OPGRAPH_NONE);
              member_recv[j] = recv[i];
            }
          /* Combine: the transpose of this micro-batch's dispatch, in the combine dtype. */
          for (guint i = 0; i < n; i++)
            tok[i] = afd_placement_share (afd_placement_share (in->batch, n, i), M, mb) * nt;
          if (s->two_stage)
            add_two_stage (g, &x, TRUE, cb, l, mb, comb_ops + mb * n);
          else
            {
              add_even (g, "combine", l, mb, group, m, member_recv, cb, TRUE, member_ops);
              for (guint j = 0; j < m; j++)
                comb_ops[mb * n + group[j]] = member_ops[j];
            }
        }
    }
  /* LM head of every micro-batch on its own GPU (one logit row per sequence). */
  for (guint mb = 0; mb < M; mb++)
    for (guint j = 0; j < m; j++)
      afd_placement_add_op (
          g, group[j], AFD_OPGRAPH_NONE, mb,
          afd_ops_lm_head (llm,
                           afd_placement_share (afd_placement_share (in->batch, n, group[j]), M, mb),
                           1),
          comb_ops[mb * n + group[j]]);
  return TRUE;
}

const AfdStrategyClass afd_strategy_ep_class = {
  .name = "ep",
  .summary = "wide expert parallelism (DeepSeek): data-parallel attention on every GPU, experts "
             "spread over GPUs, all-to-all-v dispatch/combine, two-micro-batch overlap",
  .params = ep_params,
  .compare_by_default = TRUE,
  .create = ep_create,
  .destroy = g_free,
  .build = ep_build,
  .describe = ep_describe,
  .lost_sequences = ep_lost_sequences,
};
