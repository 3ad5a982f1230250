/* SPDX-License-Identifier: MIT */
/*
 * strategy-masep.c - MA Separation (seeds 000-002): k attention GPUs and m MoE GPUs.
 *
 * Per layer: every attention GPU runs the attention block for its heads (32 heads on 12 GPUs:
 * 8 GPUs of 3 and 4 of 2) over the whole batch; an all-reduce among the attention GPUs sums
 * the partial output projections (hierarchical when they span nodes); the result is handed to
 * the MoE GPUs (broadcast from attention GPU 0, or scattered by routing: each MoE GPU receives
 * only the token-expert pairs of its experts); each MoE GPU routes, runs its E/m experts and
 * its share of the shared experts; an all-to-all among MoE GPUs combines expert outputs per
 * token shard; each MoE GPU returns its token shard to every attention GPU; a barrier closes
 * the layer. With attention_redundancy 2 the heads are split over k/2 GPUs and every head runs
 * twice (each replica set all-reduces on its own). With rebalance, a time predictor fitted on
 * the run's cost model (least-squares lines of attention time vs heads and expert time vs
 * experts per GPU) moves GPUs between the roles when the predicted times differ by more than
 * rebalance_threshold (5 %), and experts are placed longest-first on the least loaded MoE
 * GPU. Formulas, comm volumes and the hand-worked
 * 2:1 case: docs/models/strategies.md "MA Separation" (tests/test-strategies.c).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "models/placement.h"
#include "models/registry.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct {
  gint64 attn_gpus; /* 0: 3/4 of the cluster */
  gint64 moe_gpus;  /* 0: the rest */
  gboolean scatter; /* hand-off by routing instead of broadcast */
  gint64 redundancy;
  gboolean barrier;
  gboolean rebalance;
  double threshold; /* relative difference of predicted times that triggers rebalancing */
  guint used_k, used_m; /* the split the last build used: defaults and rebalancing included */
} MaSep;

static const char *const masep_handoffs[] = { "broadcast", "scatter", NULL };

/* The parameters (sim/strategy.h): every attention:MoE split of the cluster is searched, with
 * both hand-offs. */
static const AfdStrategyParam masep_params[] = {
  { .key = "attn_gpus", .flag = "attn-gpus", .type = AFD_STRATEGY_PARAM_INT, .unit = "GPUs",
    .min = 1, .max = 1 << 20, .default_help = "3/4 of the cluster, at least 1",
    .help = "attention GPUs k", .search = AFD_STRATEGY_SEARCH_GPU_SPLIT, .partner = "moe_gpus" },
  { .key = "moe_gpus", .flag = "moe-gpus", .type = AFD_STRATEGY_PARAM_INT, .unit = "GPUs",
    .min = 1, .max = 1 << 20, .default_help = "the GPUs attention leaves",
    .help = "MoE GPUs m" },
  { .key = "handoff", .type = AFD_STRATEGY_PARAM_CHOICE, .choices = masep_handoffs,
    .default_value = "\"broadcast\"",
    .help = "attention to MoE hand-off: every MoE GPU gets all tokens, or each its routed ones",
    .search = AFD_STRATEGY_SEARCH_CHOICES },
  { .key = "attention_redundancy", .type = AFD_STRATEGY_PARAM_INT, .unit = "copies", .min = 1,
    .max = 2, .default_value = "1",
    .help = "copies of each attention head group (2: a failed attention GPU has a replica)" },
  { .key = "barrier", .type = AFD_STRATEGY_PARAM_BOOL, .default_value = "true",
    .help = "a barrier over all GPUs ends every layer" },
  { .key = "rebalance", .type = AFD_STRATEGY_PARAM_BOOL, .default_value = "false",
    .help = "move GPUs between attention and MoE when their predicted times differ" },
  { .key = "rebalance_threshold", .type = AFD_STRATEGY_PARAM_NUMBER,
    .number_flags = AFD_JSON_FRACTION, .default_value = "0.05",
    .help = "relative time difference that triggers rebalancing" },
  { NULL },
};


static gpointer
masep_create (const cJSON *params, GError **error)
{
  (void) error;
  const AfdStrategyClass *k = &afd_strategy_masep_class;
  g_autofree MaSep *s = g_new0 (MaSep, 1);
  s->attn_gpus = afd_strategy_param_int (k, params, "attn_gpus");
  s->moe_gpus = afd_strategy_param_int (k, params, "moe_gpus");
  s->redundancy = afd_strategy_param_int (k, params, "attention_redundancy");
  s->barrier = afd_strategy_param_bool (k, params, "barrier");
  s->rebalance = afd_strategy_param_bool (k, params, "rebalance");
  s->threshold = afd_strategy_param_number (k, params, "rebalance_threshold");
  s->scatter = strcmp (afd_strategy_param_choice (k, params, "handoff"), "scatter") == 0;
  return g_steal_pointer (&s);
}

static void
masep_describe (gpointer state, GString *out)
{
  const MaSep *s = state;
  g_string_append_printf (out, "attn_gpus=%" G_GINT64_FORMAT " moe_gpus=%" G_GINT64_FORMAT
                          " handoff=%s attention_redundancy=%" G_GINT64_FORMAT
                          " barrier=%s rebalance=%s rebalance_threshold=%g",
                          s->used_k > 0 ? (gint64) s->used_k : s->attn_gpus,
                          s->used_m > 0 ? (gint64) s->used_m : s->moe_gpus,
                          s->scatter ? "scatter" : "broadcast",
                          s->redundancy, s->barrier ? "true" : "false",
                          s->rebalance ? "true" : "false", s->threshold);
}

/* Adds an all-to-all-v over @group with @pairs (n×n, freed here); members depend on their
 * GPU's tail. */
static void
add_a2a (AfdOpGraph *g, const char *name, guint layer, const guint *group, guint n, double *pairs)
{
  g_autofree guint *deps = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    deps[i] = afd_opgraph_gpu_tail (g, group[i]);
  afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, name, layer, 0, group, n, 0, pairs, deps, NULL);
  g_free (pairs);
}

/* Adds a collective over @group whose members depend on their GPU's tail. */
static void
add_coll (AfdOpGraph *g, AfdCommPattern pattern, const char *name, guint layer,
          const guint *group, guint n, double bytes)
{
  g_autofree guint *deps = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    deps[i] = afd_opgraph_gpu_tail (g, group[i]);
  afd_opgraph_add_comm (g, pattern, name, layer, 0, group, n, bytes, NULL, deps, NULL);
}

/* Least-squares line y = a + b·x through @n points. */
static void
fit_line (const double *x, const double *y, guint n, double *out_a, double *out_b)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (guint i = 0; i < n; i++)
    {
      sx += x[i];
      sy += y[i];
      sxx += x[i] * x[i];
      sxy += x[i] * y[i];
    }
  double den = n * sxx - sx * sx;
  *out_b = den != 0 ? (n * sxy - sx * sy) / den : 0;
  *out_a = (sy - *out_b * sx) / n;
}

/* Sum of the cost model's times for @ops. */
static gboolean
price_ops (const AfdStrategyInput *in, GPtrArray *ops, double *out_s, GError **error)
{
  AfdPlacement where = { in->gpu, 0 };
  double total = 0;
  for (guint i = 0; i < ops->len; i++)
    {
      double t = 0;
      if (!afd_cost_model_op_time (in->costs, ops->pdata[i], &where, &t, error))
        return FALSE;
      total += t;
    }
  *out_s = total;
  return TRUE;
}

/* The time predictor of MA Separation's rebalancing (docs/models/strategies.md): per layer,
 * t_attn(h) = a + b·h for an attention GPU with h heads over the whole batch and
 * t_moe(e) = c + d·e for a MoE GPU with e experts at the mean load, both least-squares lines
 * fitted on the run's cost model (h = 1..min(heads, 16), e = 1..E). */
typedef struct {
  double a, b, c, d;
} Predictor;

static gboolean
fit_predictor (const AfdStrategyInput *in, guint64 T, Predictor *out, GError **error)
{
  const AfdLlm *llm = in->llm;
  guint nh = MIN (llm->n_heads, 16u), ne = MAX (llm->n_routed_experts, 1u);
  g_autofree double *x = g_new (double, MAX (nh, ne));
  g_autofree double *y = g_new (double, MAX (nh, ne));
  guint layer = 0;
  while (layer + 1 < llm->n_layers && !afd_llm_layer_is_moe (llm, layer))
    layer++;
  for (guint h = 1; h <= nh; h++)
    {
      AfdOpsParams ap;
      afd_placement_attention_params (in, layer, in->batch, 0, h, &ap);
      g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
      if (!afd_ops_attention_block (llm, &ap, ops, error) || !price_ops (in, ops, &y[h - 1], error))
        return FALSE;
      x[h - 1] = h;
    }
  fit_line (x, y, nh, &out->a, &out->b);
  g_autofree guint64 *tok = g_new (guint64, ne);
  for (guint e = 1; e <= ne; e++)
    {
      for (guint k = 0; k < e; k++)
        tok[k] = T * MAX (llm->top_k, 1u) / ne;
      g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
      g_ptr_array_add (ops, afd_ops_expert_grouped_gemm (llm, layer, tok, e));
      if (!price_ops (in, ops, &y[e - 1], error))
        return FALSE;
      x[e - 1] = e;
    }
  fit_line (x, y, ne, &out->c, &out->d);
  return TRUE;
}

/* Predicted per-layer times of a k:m split (r replica sets). */
static void
predict (const Predictor *p, const AfdLlm *llm, guint k, guint m, guint r, double *out_attn,
         double *out_moe)
{
  guint ks = k / r;
  *out_attn = p->a + p->b * ((llm->n_heads + ks - 1) / ks);
  *out_moe = p->c + p->d * ((double) llm->n_routed_experts / m);
}

/* Rebalancing: when the predicted attention and MoE times of k:m differ by more than the
 * threshold (relative to the larger), move GPUs between the roles: the feasible split of the
 * same k + m GPUs that minimises max(t_attn, t_moe) (ties: the one closest to k). */
static gboolean
rebalance_split (const MaSep *s, const AfdStrategyInput *in, guint64 T, guint *inout_k,
                 guint *inout_m, GError **error)
{
  const AfdLlm *llm = in->llm;
  if (in->costs == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "rebalance needs the run's cost model to fit its time predictor");
      return FALSE;
    }
  Predictor p;
  if (!fit_predictor (in, T, &p, error))
    return FALSE;
  guint k = *inout_k, m = *inout_m, r = (guint) s->redundancy, n = k + m;
  double ta, tm;
  predict (&p, llm, k, m, r, &ta, &tm);
  if (fabs (ta - tm) <= s->threshold * MAX (ta, tm))
    return TRUE;
  double best = MAX (ta, tm);
  for (guint kk = r; kk < n; kk += r)
    {
      guint mm = n - kk;
      if (kk / r > llm->n_heads || (llm->n_routed_experts > 0 && llm->n_routed_experts % mm != 0))
        continue;
      double a, b;
      predict (&p, llm, kk, mm, r, &a, &b);
      double worst = MAX (a, b);
      guint dist = kk > *inout_k ? kk - *inout_k : *inout_k - kk;
      guint best_dist = k > *inout_k ? k - *inout_k : *inout_k - k;
      if (worst < best * (1 - 1e-12) || (worst <= best && dist < best_dist))
        {
          best = worst;
          k = kk;
          m = mm;
        }
    }
  *inout_k = k;
  *inout_m = m;
  return TRUE;
}

/* Expert placement: which experts each MoE GPU holds. Without rebalancing GPU j holds the
 * contiguous block [j·E/m, (j+1)·E/m); with it, experts are assigned longest-processing-time
 * first (by their pairs summed over the layers) to the least loaded GPU with room left. */
static void
place_experts (const MaSep *s, const AfdPlacementRouting *routing, guint E, guint m,
               guint *out_expert_of_slot)
{
  guint epg = E / m;
  for (guint e = 0; e < E; e++)
    out_expert_of_slot[e] = e;
  if (!s->rebalance || m <= 1)
    return;
  g_autofree double *load = g_new0 (double, E);
  for (guint l = 0; l < routing->n_layers; l++)
    for (guint e = 0; e < E; e++)
      load[e] += (double) routing->tokens[(gsize) l * E + e];
  g_autofree guint *order = g_new (guint, E);
  for (guint e = 0; e < E; e++)
    order[e] = e;
  /* Stable insertion sort by load, descending (E is small). */
  for (guint i = 1; i < E; i++)
    for (guint j = i; j > 0 && load[order[j - 1]] < load[order[j]]; j--)
      {
        guint t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  g_autofree double *gpu_load = g_new0 (double, m);
  g_autofree guint *fill = g_new0 (guint, m);
  for (guint i = 0; i < E; i++)
    {
      guint best = G_MAXUINT;
      for (guint j = 0; j < m; j++)
        if (fill[j] < epg && (best == G_MAXUINT || gpu_load[j] < gpu_load[best]))
          best = j;
      out_expert_of_slot[best * epg + fill[best]++] = order[i];
      gpu_load[best] += load[order[i]];
    }
}

static gboolean
masep_build (gpointer state, const AfdStrategyInput *in, AfdOpGraph *g, GError **error)
{
  MaSep *s = state;
  const AfdLlm *llm = in->llm;
  guint k = s->attn_gpus > 0 ? (guint) s->attn_gpus : MAX (1u, in->n_gpus * 3 / 4);
  guint m = s->moe_gpus > 0 ? (guint) s->moe_gpus : (in->n_gpus > k ? in->n_gpus - k : 0);
  s->used_k = k, s->used_m = m;
  guint r = (guint) s->redundancy;
  if (m == 0 || k + m > in->n_gpus)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%u attention + %u MoE GPUs do not fit the cluster's %u GPUs", k, m, in->n_gpus);
      return FALSE;
    }
  if (k % r != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "attention_redundancy %u needs the %u attention GPUs to be a multiple of it", r,
                   k);
      return FALSE;
    }
  guint ks = k / r; /* GPUs that share the heads in one replica set */
  if (llm->n_heads < ks)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%u attention heads cannot be spread over %u attention GPUs (each needs >= 1)",
                   llm->n_heads, ks);
      return FALSE;
    }
  if (llm->n_routed_experts > 0 && llm->n_routed_experts % m != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%u experts are not divisible by %u MoE GPUs (MA Separation places E/m each)",
                   llm->n_routed_experts, m);
      return FALSE;
    }
  guint64 T = in->batch * afd_placement_new_tokens (in);
  if (s->rebalance)
    {
      if (!rebalance_split (s, in, T, &k, &m, error))
        return FALSE;
      s->used_k = k, s->used_m = m;
      ks = k / r;
    }
  guint E = llm->n_routed_experts, epg = m > 0 && E > 0 ? E / m : 0;
  double hb = afd_placement_hidden_bytes_per_token (llm);
  g_auto (AfdPlacementRouting) routing = { 0 };
  if (!afd_placement_routing_sample (in, T, g, &routing, error))
    return FALSE;
  /* slot_expert[j·epg + i]: the i-th expert of MoE GPU j; local[]: its pairs in a layer. */
  g_autofree guint *slot_expert = g_new0 (guint, MAX (E, 1u));
  g_autofree guint64 *local = g_new0 (guint64, MAX (epg, 1u));
  place_experts (s, &routing, E, m, slot_expert);

  g_autofree guint *attn = g_new (guint, k);
  g_autofree guint *moe = g_new (guint, m);
  g_autofree guint *all = g_new (guint, k + m);
  for (guint a = 0; a < k; a++)
    all[a] = attn[a] = a;
  for (guint j = 0; j < m; j++)
    all[k + j] = moe[j] = k + j;

  /* Memory and roles. */
  /* Memory (docs/models/memory.md, worked example): an attention GPU holds its heads'
   * projections and KV cache for the whole batch, the first replica set also the embedding and
   * LM head split ks ways (and, with the scatter hand-off, the routers); a MoE GPU holds its
   * E/m experts, 1/m of the shared experts and dense FFNs (and, with the broadcast hand-off,
   * the routers). Buffers: the hand-off and return of the batch on an attention GPU, the
   * pairs it receives on a MoE GPU. */
  guint n_moe = afd_llm_n_moe_layers (llm), n_dense = afd_llm_n_dense_layers (llm);
  g_autoptr (AfdMemoryPlan) mem = afd_memory_plan_new (k + m);
  const guint64 cached = in->batch * (in->context_tokens + afd_placement_new_tokens (in));
  for (guint a = 0; a < k; a++)
    {
      guint first, count;
      afd_ops_split_heads (llm->n_heads, ks, a % ks, &first, &count);
      afd_memory_set_role (mem, a, "attention");
      afd_memory_add_weights (
          mem, a,
          llm->n_layers * afd_memory_attention_weights_bytes (llm, first, count)
              + (a < ks ? afd_memory_embedding_weights_bytes (llm, ks)
                              + (s->scatter ? n_moe * afd_memory_router_weights_bytes (llm) : 0)
                        : 0));
      afd_memory_add_kv (mem, a,
                         llm->n_layers * afd_memory_kv_bytes (llm, first, count, cached));
      afd_memory_add_activations (mem, a, afd_memory_attention_activation_bytes (llm, count, T));
      afd_memory_add_comm_buffers (mem, a, afd_memory_comm_buffer_bytes (llm, T));
      afd_memory_add_runtime (mem, a, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
      if (!afd_placement_check_memory (g, in, mem, a, error))
        return FALSE;
    }
  for (guint j = 0; j < m; j++)
    {
      guint64 pairs = afd_placement_share (T * llm->top_k, m, j);
      afd_memory_set_role (mem, k + j, "moe");
      afd_memory_add_weights (
          mem, k + j,
          n_moe
                  * (afd_memory_expert_weights_bytes (llm, epg)
                     + afd_memory_shared_expert_weights_bytes (llm, m)
                     + (s->scatter ? 0 : afd_memory_router_weights_bytes (llm)))
              + n_dense * afd_memory_dense_ffn_weights_bytes (llm, m));
      afd_memory_add_activations (mem, k + j, afd_memory_expert_activation_bytes (llm, pairs));
      afd_memory_add_comm_buffers (mem, k + j, afd_memory_comm_buffer_bytes (llm, pairs));
      afd_memory_add_runtime (mem, k + j, AFD_MEMORY_DEFAULT_RUNTIME_BYTES);
      if (!afd_placement_check_memory (g, in, mem, k + j, error))
        return FALSE;
    }

  for (guint l = 0; l < llm->n_layers; l++)
    {
      gboolean is_moe = afd_llm_layer_is_moe (llm, l);
      /* Attention: heads split over each replica set, the whole batch on every GPU. */
      for (guint a = 0; a < k; a++)
        {
          guint first, count;
          afd_ops_split_heads (llm->n_heads, ks, a % ks, &first, &count);
          AfdOpsParams ap;
          afd_placement_attention_params (in, l, in->batch, first, count, &ap);
          g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
          if (!afd_ops_attention_block (llm, &ap, ops, error))
            return FALSE;
          afd_placement_add_ops (g, a, l, 0, ops, afd_opgraph_gpu_tail (g, a));
        }
      for (guint rs = 0; rs < r; rs++)
        add_coll (g, AFD_COMM_ALL_REDUCE, "attn_allreduce", l, attn + rs * ks, ks, (double) T * hb);
      if (!s->scatter || !is_moe)
        {
          /* Broadcast from attention GPU 0 to the MoE GPUs. */
          g_autofree guint *grp = g_new (guint, m + 1);
          grp[0] = attn[0];
          memcpy (grp + 1, moe, m * sizeof (guint));
          add_coll (g, AFD_COMM_BROADCAST, "handoff_broadcast", l, grp, m + 1, (double) T * hb);
        }
      else
        {
          /* Route on the attention GPUs (each its token shard), then send each MoE GPU the
           * token-expert pairs of its experts from every attention GPU of replica set 0. */
          for (guint a = 0; a < ks; a++)
            afd_placement_add_op (g, a, l, 0,
                                 afd_ops_router (llm, l, afd_placement_share (T, ks, a)),
                                 afd_opgraph_gpu_tail (g, a));
          guint n = ks + m;
          g_autofree guint *grp = g_new (guint, n);
          memcpy (grp, attn, ks * sizeof (guint));
          memcpy (grp + ks, moe, m * sizeof (guint));
          double *pairs = g_new0 (double, (gsize) n * n);
          double db = afd_placement_dispatch_bytes_per_token (llm);
          for (guint j = 0; j < m; j++)
            {
              guint64 pairs_j = 0;
              for (guint i = j * epg; i < (j + 1) * epg; i++)
                pairs_j += routing.tokens[(gsize) l * E + slot_expert[i]];
              for (guint a = 0; a < ks; a++)
                pairs[(gsize) a * n + ks + j] = (double) afd_placement_share (pairs_j, ks, a) * db;
            }
          add_a2a (g, "handoff_scatter", l, grp, n, pairs);
        }
      /* MoE GPUs: router, experts, shared expert share (or the dense FFN split m ways). */
      for (guint j = 0; j < m; j++)
        {
          guint gj = moe[j];
          if (is_moe)
            {
              if (!s->scatter)
                afd_placement_add_op (g, gj, l, 0, afd_ops_router (llm, l, T),
                                     afd_opgraph_gpu_tail (g, gj));
              for (guint i = 0; i < epg; i++)
                local[i] = routing.tokens[(gsize) l * E + slot_expert[j * epg + i]];
              afd_placement_add_op (g, gj, l, 0, afd_ops_expert_grouped_gemm (llm, l, local, epg),
                                   afd_opgraph_gpu_tail (g, gj));
              AfdOp *sh = afd_ops_shared_expert (llm, l, afd_placement_share (T, m, j), 1);
              if (sh != NULL)
                afd_placement_add_op (g, gj, l, 0, sh, afd_opgraph_gpu_tail (g, gj));
            }
          else
            afd_placement_add_op (g, gj, l, 0, afd_ops_dense_ffn (llm, l, T, m),
                                 afd_opgraph_gpu_tail (g, gj));
        }
      /* All-to-all among MoE GPUs: expert outputs to the GPU that owns each token shard. */
      if (m > 1)
        {
          double *pairs = g_new0 (double, (gsize) m * m);
          double cb = afd_placement_combine_bytes_per_token (llm);
          for (guint i = 0; i < m; i++)
            {
              double produced = 0;
              if (is_moe)
                for (guint q = i * epg; q < (i + 1) * epg; q++)
                  produced += (double) routing.tokens[(gsize) l * E + slot_expert[q]];
              else
                produced = (double) T; /* partial sums of the split dense FFN */
              for (guint jj = 0; jj < m; jj++)
                if (jj != i)
                  pairs[(gsize) i * m + jj]
                      = produced * (double) afd_placement_share (T, m, jj) / (double) T * cb;
            }
          add_a2a (g, "moe_alltoall", l, moe, m, pairs);
        }
      /* Return: every MoE GPU sends its token shard to every attention GPU. */
      {
        guint n = m + k;
        g_autofree guint *grp = g_new (guint, n);
        memcpy (grp, moe, m * sizeof (guint));
        memcpy (grp + m, attn, k * sizeof (guint));
        double *pairs = g_new0 (double, (gsize) n * n);
        for (guint j = 0; j < m; j++)
          for (guint a = 0; a < k; a++)
            pairs[(gsize) j * n + m + a] = (double) afd_placement_share (T, m, j) * hb;
        add_a2a (g, "return_to_attention", l, grp, n, pairs);
      }
      if (s->barrier)
        add_coll (g, AFD_COMM_BARRIER, "layer_barrier", l, all, k + m, 0);
    }
  /* LM head: vocabulary split over the first replica set (one logit row per sequence). */
  for (guint a = 0; a < ks; a++)
    afd_placement_add_op (g, a, AFD_OPGRAPH_NONE, 0, afd_ops_lm_head (llm, in->batch, ks),
                         afd_opgraph_gpu_tail (g, a));
  return TRUE;
}

/* AfdStrategyClass.replica_of: with attention_redundancy 2, attention GPU a of one replica
 * set computes the same heads as GPU (a + k/2) mod k of the other (docs/models/faults.md).
 * With rebalance the split is decided at build time, so no replica is claimed. */
static guint
masep_replica_of (gpointer state, const AfdStrategyInput *in, guint gpu)
{
  const MaSep *s = state;
  guint k = s->attn_gpus > 0 ? (guint) s->attn_gpus : MAX (1u, in->n_gpus * 3 / 4);
  if (s->redundancy != 2 || s->rebalance || k % 2 != 0 || gpu >= k)
    return G_MAXUINT;
  return (gpu + k / 2) % k;
}

const AfdStrategyClass afd_strategy_masep_class = {
  .name = "masep",
  .summary = "MA Separation: k attention GPUs (heads split, all-reduce) + m MoE GPUs (E/m "
             "experts), hand-off, all-to-all, return and a barrier per layer",
  .params = masep_params,
  .compare_by_default = TRUE,
  .create = masep_create,
  .destroy = g_free,
  .build = masep_build,
  .describe = masep_describe,
  .replica_of = masep_replica_of,
};
