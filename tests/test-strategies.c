/* SPDX-License-Identifier: MIT */
/* Tests for models/strategy-*.c: invariants on every strategy and infeasible placements. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/engine.h"
#include "sim/json.h"
#include "sim/replay.h"
#include "tests/test-helpers.h"

static AfdLlm *llm;
static AfdGpuSpec *gpu;

static void
setup (void)
{
  llm = afd_llm_load ("masep-4l", NULL);
  gpu = afd_gpu_spec_load ("A100-SXM4-80GB", NULL);
  cr_assert_not_null (llm);
  cr_assert_not_null (gpu);
}

static void
teardown (void)
{
  g_clear_pointer (&llm, afd_llm_free);
  g_clear_pointer (&gpu, afd_gpu_spec_free);
}

TestSuite (strategies, .init = setup, .fini = teardown);

static AfdStrategyInput
input (guint64 batch)
{
  AfdStrategyInput in = { llm, gpu, 16, 4, batch, 2048, FALSE, "zipf:1.2", 7, NULL, NULL, 0, 0 };
  return in;
}

/* Builds strategy @name with options @json (NULL: {}). */
static AfdOpGraph *
build (const char *name, const char *json, const AfdStrategyInput *in, GError **error)
{
  const AfdStrategyClass *k = afd_strategy_lookup (name, NULL);
  cr_assert_not_null (k);
  g_autoptr (cJSON) o = json ? cJSON_Parse (json) : NULL;
  g_autoptr (AfdStrategy) s = afd_strategy_new (k, o, error);
  if (s == NULL)
    return NULL;
  return afd_strategy_build (s, in, error);
}

static gboolean
price (gpointer u, const AfdOpGraph *g, guint op, double *out, GError **error)
{
  AfdOp view;
  if (!afd_opgraph_compute_op (g, op, &view))
    return *out = 0, TRUE;
  AfdPlacement where = { gpu, 0 };
  return afd_cost_model_op_time (u, &view, &where, out, error);
}

static const char *const cases[][2] = {
  { "masep", "{\"attn_gpus\": 12, \"moe_gpus\": 4}" },
  { "masep", "{\"attn_gpus\": 8, \"moe_gpus\": 8, \"handoff\": \"scatter\"}" },
  { "masep", "{\"attn_gpus\": 12, \"moe_gpus\": 4, \"attention_redundancy\": 2}" },
  { "tppp", "{\"tp\": 8, \"pp\": 2}" },
  { "tppp", "{\"tp\": 4, \"pp\": 2, \"moe\": \"ep\", \"micro_batches\": 4}" },
  { "ep", "{\"ep\": 16, \"micro_batches\": 2}" },
  { "ep", "{\"ep\": 8, \"micro_batches\": 1}" },
  { "ep", "{\"ep\": 16, \"dispatch\": \"two-stage\", \"node_limit\": 2}" },
  { "afd", "{\"attn_nodes\": 2, \"ffn_nodes\": 2, \"micro_batches\": 3}" },
};

/* On every strategy: no stream runs two ops at once, every op starts after its dependencies
 * end, bytes sent = bytes received per collective, and the routed-expert FLOPs are the same
 * for every strategy (same model, batch, routing and seed). */
Test (strategies, invariants_on_every_strategy)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCostModel) costs
      = afd_cost_model_new (afd_cost_model_lookup ("analytic", NULL), NULL, &error);
  afd_assert_no_error (error);
  AfdStrategyInput in = input (256);
  double expert_flops = -1;
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (AfdOpGraph) g = build (cases[c][0], cases[c][1], &in, &error);
      afd_assert_no_error (error);
      double ef = afd_opgraph_total_flops (g, AFD_OP_EXPERT_GROUPED_GEMM);
      if (expert_flops < 0)
        expert_flops = ef;
      cr_assert_float_eq (ef, expert_flops, expert_flops * 1e-12, "%s %s: expert FLOPs %g vs %g",
                          cases[c][0], cases[c][1], ef, expert_flops);
      for (guint k = 0; k < afd_opgraph_n_comms (g); k++)
        {
          const AfdOpGraphComm *cm = afd_opgraph_comm (g, k);
          double sent = 0, recv = 0;
          for (guint m = 0; m < cm->n_members; m++)
            {
              double s, r;
              afd_opgraph_member_bytes (g, k, m, &s, &r);
              sent += s;
              recv += r;
            }
          cr_assert_float_eq (sent, recv, 1e-9 * MAX (sent, 1.0), "%s: %s sent %g recv %g",
                              cases[c][0], cm->name, sent, recv);
        }
      g_autoptr (AfdEngine) e = afd_engine_new (1);
      AfdReplayLinks links = { 4, 3e11, 2.5e10, 5e-7, 1.5e-6 };
      AfdReplayConfig cfg = { price, costs, afd_replay_links_comm_time, &links, NULL, NULL };
      g_autoptr (AfdReplay) r = afd_replay_new (g, e, &cfg, &error);
      afd_assert_no_error (error);
      cr_assert (afd_replay_run (r, &error), "%s: %s", cases[c][0], error ? error->message : "");
      const guint *deps = afd_opgraph_deps (g);
      g_autofree AfdTime *stream_end = g_new0 (AfdTime, 16 * AFD_OPGRAPH_N_STREAMS);
      for (guint i = 0; i < afd_opgraph_n_ops (g); i++)
        {
          const AfdOpGraphOp *op = afd_opgraph_op (g, i);
          AfdTime s = afd_replay_op_start (r, i), en = afd_replay_op_end (r, i);
          cr_assert_geq (s, stream_end[op->gpu * AFD_OPGRAPH_N_STREAMS + op->stream]);
          stream_end[op->gpu * AFD_OPGRAPH_N_STREAMS + op->stream] = en;
          for (guint d = 0; d < op->n_deps; d++)
            cr_assert_geq (s, afd_replay_op_end (r, deps[op->dep_offset + d]));
        }
    }
  cr_assert_gt (expert_flops, 0);
}

/* Every strategy records its GPUs' five-class memory plan (docs/models/memory.md "Per
 * strategy"): each GPU it uses carries at least the 1 GiB runtime reserve; TP=8×PP=2 gives
 * the first stage the embedding and the last the LM head, so rank 0 of both stages (2 layers,
 * the same heads each) holds exactly the same bytes; an AFD FFN GPU holds no KV cache, so it
 * needs less than an attention GPU here. */
Test (strategies, memory_follows_the_plan)
{
  g_autoptr (GError) error = NULL;
  AfdStrategyInput in = input (256);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (AfdOpGraph) g = build (cases[c][0], cases[c][1], &in, &error);
      afd_assert_no_error (error);
      for (guint i = 0; i < 16; i++)
        if (afd_opgraph_gpu_memory (g, i) > 0)
          cr_assert_geq (afd_opgraph_gpu_memory (g, i), 1073741824.0, "%s %s: GPU %u",
                         cases[c][0], cases[c][1], i);
    }
  g_autoptr (AfdOpGraph) tp = build ("tppp", "{\"tp\": 8, \"pp\": 2}", &in, &error);
  afd_assert_no_error (error);
  cr_assert_float_eq (afd_opgraph_gpu_memory (tp, 0), afd_opgraph_gpu_memory (tp, 8), 1e-3);
  g_autoptr (AfdOpGraph) afd
      = build ("afd", "{\"attn_nodes\": 2, \"ffn_nodes\": 2, \"micro_batches\": 2}", &in,
               &error);
  afd_assert_no_error (error);
  cr_assert_lt (afd_opgraph_gpu_memory (afd, 8), afd_opgraph_gpu_memory (afd, 0));
}

/* Infeasible placements are rejected with AFD_ERROR_INFEASIBLE naming the constraint. */
Test (strategies, rejects_infeasible_placements)
{
  AfdStrategyInput in = input (256);
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
  g_autoptr (AfdOpGraph) g1 = build ("masep", "{\"attn_gpus\": 13, \"moe_gpus\": 3}", &in, &e1);
  cr_assert_null (g1);
  afd_assert_error (e1, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  afd_assert_error_contains (e1, "divisible");
  AfdStrategyInput big = input (256);
  big.n_gpus = 128;
  g_autoptr (AfdOpGraph) g2 = build ("masep", "{\"attn_gpus\": 64, \"moe_gpus\": 4}", &big, &e2);
  cr_assert_null (g2);
  afd_assert_error_contains (e2, "heads");
  AfdStrategyInput huge = input (1u << 20);
  g_autoptr (AfdOpGraph) g3 = build ("ep", NULL, &huge, &e3);
  cr_assert_null (g3);
  afd_assert_error (e3, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  afd_assert_error_contains (e3, "HBM");
  g_autoptr (AfdOpGraph) g4 = build ("tppp", "{\"tp\": 8, \"pp\": 4}", &in, &e4);
  cr_assert_null (g4);
  afd_assert_error (e4, AFD_ERROR, AFD_ERROR_INFEASIBLE);
}

/* Unknown option keys are configuration errors (strict validation). */
Test (strategies, rejects_unknown_options)
{
  g_autoptr (GError) error = NULL;
  AfdStrategyInput in = input (256);
  g_autoptr (AfdOpGraph) g = build ("masep", "{\"tp\": 8}", &in, &error);
  cr_assert_null (g);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
}

/* Worked examples (docs/models/strategies.md "Worked examples"): op time = FLOPs / 1e12 s,
 * links α = 0 and 10 GB/s inside the one node. */
static gboolean
one_tflops (gpointer u, const AfdOpGraph *g, guint op, double *out, GError **error)
{
  *out = afd_opgraph_op (g, op)->flops / 1e12;
  return TRUE;
}

static AfdTime
replay_tiny (const char *strategy, const char *options, guint n_gpus, AfdOpGraph **out_graph)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) tiny = afd_llm_load (TEST_DATA "/strategy-tiny.json", &error);
  afd_assert_no_error (error);
  AfdStrategyInput in = { tiny, gpu, n_gpus, n_gpus, 4, 1024, FALSE, "uniform", 1, NULL, NULL, 0, 0 };
  AfdOpGraph *g = build (strategy, options, &in, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdEngine) e = afd_engine_new (1);
  AfdReplayLinks links = { n_gpus, 1e10, 1e10, 0, 0 };
  AfdReplayConfig cfg = { one_tflops, NULL, afd_replay_links_comm_time, &links, NULL, NULL };
  g_autoptr (AfdReplay) r = afd_replay_new (g, e, &cfg, &error);
  afd_assert_no_error (error);
  cr_assert (afd_replay_run (r, &error));
  *out_graph = g;
  return afd_replay_makespan (r);
}

/* A 2-GPU EP step: attention 25 190 ns, dispatch 410 ns (4096 B at 10 GB/s), experts
 * 67 109 ns (4 tokens x 4·H·M), combine 410 ns, LM head 4 096 ns: 97 215 ns; 4096 B per
 * direction. */
Test (strategies, worked_ep_two_gpus)
{
  g_autoptr (AfdOpGraph) g = NULL;
  AfdTime t = replay_tiny ("ep", "{\"ep\": 2, \"micro_batches\": 1}", 2, &g);
  cr_assert_eq (t, 97215);
  cr_assert_float_eq (afd_opgraph_total_flops (g, AFD_OP_EXPERT_GROUPED_GEMM), 134217728.0, 1e-3);
  for (guint k = 0; k < afd_opgraph_n_comms (g); k++)
    {
      double s, r;
      afd_opgraph_member_bytes (g, k, 0, &s, &r);
      cr_assert_float_eq (s, 4096, 1e-9);
      cr_assert_float_eq (r, 4096, 1e-9);
    }
}

/* A 2:1 MA Separation step: attention 25 190 ns (4 heads), all-reduce 819 ns, broadcast
 * 819 ns, router 16 ns, experts 134 218 ns (8 token-expert pairs), return 1 638 ns, LM head
 * (vocabulary split over the 2 attention GPUs) 4 096 ns: 166 796 ns. */
Test (strategies, worked_masep_two_to_one)
{
  g_autoptr (AfdOpGraph) g = NULL;
  AfdTime t = replay_tiny ("masep", "{\"attn_gpus\": 2, \"moe_gpus\": 1}", 3, &g);
  cr_assert_eq (t, 166796);
  cr_assert_float_eq (afd_opgraph_total_flops (g, AFD_OP_EXPERT_GROUPED_GEMM), 134217728.0, 1e-3);
}

/* Counts the GPUs of @g whose role is @role. */
static guint
count_role (const AfdOpGraph *g, const char *role)
{
  guint n = 0;
  for (guint i = 0; i < afd_opgraph_n_gpus (g); i++)
    n += g_strcmp0 (afd_opgraph_gpu_role (g, i), role) == 0;
  return n;
}

/* The largest per-GPU routed-expert FLOPs of @g. */
static double
max_expert_flops (const AfdOpGraph *g)
{
  g_autofree double *f = g_new0 (double, afd_opgraph_n_gpus (g));
  double best = 0;
  for (guint i = 0; i < afd_opgraph_n_ops (g); i++)
    {
      const AfdOpGraphOp *op = afd_opgraph_op (g, i);
      if (op->kind == AFD_OPGRAPH_COMPUTE && op->op_kind == AFD_OP_EXPERT_GROUPED_GEMM)
        best = MAX (best, f[op->gpu] += op->flops);
    }
  return best;
}

/* MA Separation rebalancing: a threshold of 100 % never moves GPUs; at a short context the
 * MoE side is predicted slower (4 experts' weights per layer vs 3 heads of a 256-token KV),
 * so GPUs move from attention to MoE; longest-first expert placement never raises the most
 * loaded MoE GPU's expert FLOPs under skewed routing; the total is unchanged. */
Test (strategies, masep_rebalancing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCostModel) costs
      = afd_cost_model_new (afd_cost_model_lookup ("analytic", NULL), NULL, &error);
  afd_assert_no_error (error);
  AfdStrategyInput in = input (1024);
  in.context_tokens = 256;
  in.routing = "zipf:1.5";
  in.costs = costs;
  g_autoptr (AfdOpGraph) fixed = build ("masep", "{\"attn_gpus\": 12, \"moe_gpus\": 4}", &in,
                                        &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOpGraph) kept = build (
      "masep",
      "{\"attn_gpus\": 12, \"moe_gpus\": 4, \"rebalance\": true, \"rebalance_threshold\": 1}",
      &in, &error);
  afd_assert_no_error (error);
  cr_assert_eq (count_role (kept, "attention"), 12);
  cr_assert_leq (max_expert_flops (kept), max_expert_flops (fixed));
  g_autoptr (AfdOpGraph) moved
      = build ("masep", "{\"attn_gpus\": 12, \"moe_gpus\": 4, \"rebalance\": true}", &in, &error);
  afd_assert_no_error (error);
  cr_assert_lt (count_role (moved, "attention"), 12);
  cr_assert_eq (count_role (moved, "attention") + count_role (moved, "moe"), 16);
  cr_assert_float_eq (afd_opgraph_total_flops (moved, AFD_OP_EXPERT_GROUPED_GEMM),
                      afd_opgraph_total_flops (fixed, AFD_OP_EXPERT_GROUPED_GEMM), 1e-3);
  /* Without a cost model the predictor cannot be fitted: a configuration error. */
  in.costs = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (AfdOpGraph) none = build ("masep", "{\"rebalance\": true}", &in, &e2);
  cr_assert_null (none);
  afd_assert_error (e2, AFD_ERROR, AFD_ERROR_CONFIG);
}

/* Bytes that cross nodes (sender and receiver in different nodes) in all collectives of @g. */
static double
cross_node_bytes (const AfdOpGraph *g, guint gpn)
{
  double total = 0;
  for (guint k = 0; k < afd_opgraph_n_comms (g); k++)
    {
      const AfdOpGraphComm *c = afd_opgraph_comm (g, k);
      const double *p = afd_opgraph_comm_pairs (g, k);
      const guint *gpus = afd_opgraph_comm_gpus (g, k);
      if (p == NULL)
        continue;
      for (guint i = 0; i < c->n_members; i++)
        for (guint j = 0; j < c->n_members; j++)
          if (gpus[i] / gpn != gpus[j] / gpn)
            total += p[(gsize) i * c->n_members + j];
    }
  return total;
}

/* Two-stage dispatch sends each token at most once per destination node, so fewer bytes
 * cross nodes than with the flat all-to-all-v (k = 2 experts of 16 on 4 nodes: a token hits
 * a remote node with probability 1 - (3/4)^2 = 0.4375 instead of sending 2 x 1/4 pairs, and
 * the node limit lowers it further), while the routed-expert FLOPs stay the same. */
Test (strategies, two_stage_dispatch_cuts_cross_node_bytes)
{
  g_autoptr (GError) error = NULL;
  AfdStrategyInput in = input (256);
  in.routing = "uniform";
  g_autoptr (AfdOpGraph) flat = build ("ep", "{\"ep\": 16}", &in, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOpGraph) two = build ("ep", "{\"ep\": 16, \"dispatch\": \"two-stage\"}", &in,
                                      &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOpGraph) lim = build (
      "ep", "{\"ep\": 16, \"dispatch\": \"two-stage\", \"node_limit\": 1}", &in, &error);
  afd_assert_no_error (error);
  double f = cross_node_bytes (flat, 4), t = cross_node_bytes (two, 4), m = cross_node_bytes (lim, 4);
  cr_assert_lt (t, f, "two-stage %g vs flat %g", t, f);
  cr_assert_lt (m, t, "node limit 1: %g vs %g", m, t);
  cr_assert_float_eq (afd_opgraph_total_flops (two, AFD_OP_EXPERT_GROUPED_GEMM),
                      afd_opgraph_total_flops (flat, AFD_OP_EXPERT_GROUPED_GEMM), 1e-3);
}

/* Concatenates the numbers of @values ("1,2,4,8,16"). */
static char *
numbers_text (GPtrArray *values)
{
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < values->len; i++)
    g_string_append_printf (out, "%s%g", i ? "," : "", ((cJSON *) values->pdata[i])->valuedouble);
  return g_string_free (out, FALSE);
}

/* The search values the parameter tables declare (sim/strategy.h), on 16 GPUs in 2 nodes of 8
 * and on 32 GPUs in 4 nodes: EP sizes divide the cluster, TP sizes divide a node, micro-batches
 * are 1..2 for EP and 2..4 for AFD, dispatch flat|two-stage, every attention:MoE split for MA
 * Separation and every N_A:N_F node split for AFD. */
Test (strategies, search_values_from_the_tables)
{
  const AfdStrategyClass *ep = afd_strategy_lookup ("ep", NULL);
  const AfdStrategyClass *tppp = afd_strategy_lookup ("tppp", NULL);
  const AfdStrategyClass *masep = afd_strategy_lookup ("masep", NULL);
  const AfdStrategyClass *afd = afd_strategy_lookup ("afd", NULL);
  struct {
    const AfdStrategyClass *klass;
    const char *key;
    guint gpus, per_node;
    const char *want;
  } rows[] = {
    { ep, "ep", 16, 8, "1,2,4,8,16" },   { ep, "ep", 24, 8, "1,2,3,4,6,8,12,24" },
    { ep, "micro_batches", 16, 8, "1,2" }, { tppp, "tp", 16, 8, "1,2,4,8" },
    { tppp, "tp", 12, 4, "1,2,4" },     { afd, "micro_batches", 32, 8, "2,3,4" },
    { afd, "attn_nodes", 32, 8, "1,2,3" }, { masep, "attn_gpus", 4, 4, "1,2,3" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const AfdStrategyParam *p = afd_strategy_param_find (rows[i].klass, rows[i].key);
      cr_assert_not_null (p, "%s", rows[i].key);
      g_autoptr (GPtrArray) v = afd_strategy_search_values (p, rows[i].gpus, rows[i].per_node);
      g_autofree char *got = numbers_text (v);
      cr_assert_str_eq (got, rows[i].want, "%s %s on %u GPUs", rows[i].klass->name,
                        rows[i].key, rows[i].gpus);
    }
  g_autoptr (GPtrArray) d
      = afd_strategy_search_values (afd_strategy_param_find (ep, "dispatch"), 16, 8);
  cr_assert_eq (d->len, 2);
  cr_assert_str_eq (((cJSON *) d->pdata[0])->valuestring, "flat");
  cr_assert_str_eq (((cJSON *) d->pdata[1])->valuestring, "two-stage");

  /* MA Separation's space on 16 GPUs: 15 splits x 2 hand-offs, each split whole. */
  g_autoptr (GPtrArray) space = afd_strategy_search_space (masep, 16, 8);
  cr_assert_eq (space->len, 30);
  for (guint i = 0; i < space->len; i++)
    {
      const cJSON *o = space->pdata[i];
      double k = cJSON_GetObjectItem (o, "attn_gpus")->valuedouble;
      double m = cJSON_GetObjectItem (o, "moe_gpus")->valuedouble;
      cr_assert_eq (k + m, 16);
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdStrategy) s = afd_strategy_new (masep, o, &error);
      cr_assert_not_null (s, "point %u is not valid options: %s", i, error->message);
    }
  /* AFD on 4 nodes: 3 node splits x 3 micro-batch counts; EP on 16: 5 sizes x 2 x 2. */
  g_autoptr (GPtrArray) afd_space = afd_strategy_search_space (afd, 32, 8);
  cr_assert_eq (afd_space->len, 9);
  g_autoptr (GPtrArray) ep_space = afd_strategy_search_space (ep, 16, 8);
  cr_assert_eq (ep_space->len, 20);
}

/* The table checks options before create(): a default from the table is used when absent, a
 * value out of the declared range names the key. */
Test (strategies, params_check_uses_the_table)
{
  const AfdStrategyClass *afd = afd_strategy_lookup ("afd", NULL);
  g_autoptr (cJSON) empty = cJSON_CreateObject ();
  cr_assert_eq (afd_strategy_param_int (afd, empty, "micro_batches"), 3);
  cr_assert_eq (afd_strategy_param_int (afd, empty, "attn_nodes"), 0); /* derived */
  g_autoptr (cJSON) bad = cJSON_Parse ("{\"micro_batches\": 5}");
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_strategy_params_check (afd, bad, &error));
  afd_assert_error_contains (error, "micro_batches: must be an integer in [2, 4] (got 5)");
}
