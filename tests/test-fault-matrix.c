/* SPDX-License-Identifier: MIT */
/* test-fault-matrix.c - the fault × strategy matrix (issue #8; docs/models/faults.md
 * "Fault × strategy test matrix"): stragglers, degraded links and failed links (rerouted or
 * disconnecting) on TP×PP, EP, MA Separation and AFD, each asserted to the nanosecond against
 * a hand-derived formula of the strategy's schedule, plus bounds on both network fidelities
 * and GPU failures without a replica (AFD, data-parallel TP×PP) or on an idle GPU, on tiny
 * configurations (tests/data/fault-ep-tiny.json: one MoE layer, H = 1024, 4 experts). */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/json.h"
#include "sim/network.h"
#include "tests/fault-test-helpers.h"
#include "tests/test-helpers.h"

#define TINY TEST_DATA "/fault-ep-tiny.json"

/* Every op's duration is rounded to 1 ns, so a scaled op can exceed X times its rounded
 * healthy duration by up to 1 ns: the slack for comparing a faulted time with X·T₀ is 1 ns
 * per op on the critical path, bounded here by 64 ns (the tiny graphs' paths are shorter). */
#define ROUNDING_S 64e-9

/* Runs the tiny model (batch 64) under @strategy with @options on @cluster for @iterations
 * iterations with the faults of the NULL-terminated @faults on @network. */
static cJSON *
run_tiny (const char *cluster, const char *strategy, const char *options, const char *network,
          guint iterations, const char *const *faults)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = afd_experiment_new ();
  g_free (e->cluster);
  e->cluster = g_strdup (cluster);
  g_free (e->model);
  e->model = g_strdup (TINY);
  cr_assert (afd_network_fidelity_from_name (network, &e->network), "%s", network);
  e->batch = 64;
  e->iterations = iterations;
  e->fault_detection_s = 1e-3;
  afd_experiment_add_run (e, NULL, strategy, cJSON_Parse (options));
  for (guint i = 0; faults[i] != NULL; i++)
    {
      AfdFault *f = afd_fault_parse (faults[i], AFD_ERROR_USAGE, &error);
      afd_assert_no_error (error);
      g_ptr_array_add (e->faults, f);
    }
  cJSON *s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_not_null (s);
  return s;
}

/* One strategy cell: a cluster, options and a GPU that has compute work. */
typedef struct
{
  const char *strategy, *cluster, *options;
  guint gpu;
} Cell;

static const Cell cells[] = {
  { "masep", "h200-1x4", "{}", 0 },                      /* 3 attention : 1 MoE, GPU 0 attention */
  { "masep", "h200-1x4", "{}", 3 },                      /* the MoE GPU */
  { "ep", "h200-1x4", "{}", 1 },                         /* EP4, attention+experts */
  { "tppp", "h200-1x4", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}", 3 },
  { "afd", "h200-2x2-loopback", "{}", 0 },               /* node 0 attention */
  { "afd", "h200-2x2-loopback", "{}", 3 },               /* node 1 FFN */
};

/* Straggler ×X on a working GPU, every strategy: only compute durations on that GPU grow, by
 * X, so (the makespan is a max-plus expression of op durations, monotone and homogeneous of
 * degree 1) T₀ < T' ≤ X·T₀, strictly slower because every GPU of these tiny cases is on
 * the critical path of its own layer (X = 1 would give exactly T₀ and is refused). */
Test (fault_matrix, straggler_bounds_each_strategy)
{
  for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
    {
      const Cell *c = &cells[i];
      g_autofree char *x2 = g_strdup_printf ("straggler:%u:2@iter1", c->gpu);
      g_autofree char *x3 = g_strdup_printf ("straggler:%u:1.5@iter2", c->gpu);
      const char *f2[] = { x2, x3, NULL };
      g_autoptr (cJSON) s = run_tiny (c->cluster, c->strategy, c->options, "analytic", 3, f2);
      double t0 = iter_time (s, 0), t1 = iter_time (s, 1), t2 = iter_time (s, 2);
      cr_assert_str_eq (iter_state (s, 0), "healthy");
      cr_assert_str_eq (iter_state (s, 1), "degraded", "%s GPU %u", c->strategy, c->gpu);
      cr_assert (t1 > t0 && t1 <= 2 * t0 + ROUNDING_S, "%s GPU %u: T0 %g s, x2 %g s",
                 c->strategy, c->gpu, t0, t1);
      /* Stragglers multiply (2 × 1.5 = 3): at least the ×2 time, at most 1.5 × it. */
      cr_assert (t2 > t1 && t2 <= 1.5 * t1 + ROUNDING_S, "%s GPU %u: x2 %g s, x3 %g s",
                 c->strategy, c->gpu, t1, t2);
    }
}

/* A straggler on a GPU the placement leaves idle (EP with ep 2 on 4 GPUs: GPU 3 has no op)
 * changes nothing: the compute scale multiplies no op, so T' = T₀ exactly. */
Test (fault_matrix, straggler_on_idle_gpu_is_free)
{
  const char *f[] = { "straggler:3:4@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "ep", "{\"ep\": 2}", "analytic", 2, f);
  cr_assert_str_eq (iter_state (s, 1), "degraded");
  cr_assert (iter_time (s, 1) == iter_time (s, 0), "T0 %g s, T' %g s", iter_time (s, 0),
             iter_time (s, 1));
}

/* Worked α-β case for AFD's A→F hand-off: on h200-2x2-loopback (node 0 attention, node 1
 * FFN) a send of S bytes from GPU 0 to GPU 2 crosses n0.nic0 (2.73 GB/s, the bottleneck);
 * degrading it to 0.5 halves the route's bus bandwidth, doubles the bandwidth term S/B and
 * leaves α unchanged, so the send's time grows by exactly S/B (1e-12 s tolerance: doubles). */
Test (fault_matrix, afd_degraded_nic_doubles_handoff_bandwidth_term)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("h200-2x2-loopback", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.nic0:0.5", AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdCluster) d = afd_fault_derive_cluster (c, &f, 1, &error);
  afd_assert_no_error (error);
  const guint group[2] = { 0, 2 };
  /* One micro-batch of 32 tokens' hidden states (H = 1024, bf16): 64 KiB. */
  AfdCollective coll = { .op = AFD_COLL_SEND_RECV, .algo = AFD_ALGO_AUTO,
                         .proto = AFD_PROTO_AUTO, .group = group, .group_size = 2,
                         .bytes = 32.0 * 1024 * 2 };
  g_autoptr (AfdNetwork) n0 = afd_network_new (c);
  g_autoptr (AfdNetwork) n1 = afd_network_new (d);
  double bw0, bw1;
  afd_network_path (n0, 0, 2, &bw0, NULL);
  afd_network_path (n1, 0, 2, &bw1, NULL);
  cr_assert_float_eq (bw0, 2.73e9, 1);
  cr_assert_float_eq (bw1, 2.73e9 / 2, 1);
  AfdCollectiveChoice c0, c1;
  double t0, t1;
  cr_assert (afd_collective_time_analytic (n0, &coll, NULL, &c0, &t0, &error));
  cr_assert (afd_collective_time_analytic (n1, &coll, NULL, &c1, &t1, &error));
  afd_assert_no_error (error);
  cr_assert_float_eq (c1.latency_s, c0.latency_s, 1e-15);
  cr_assert_float_eq (c1.bus_bandwidth_bytes_per_s, c0.bus_bandwidth_bytes_per_s / 2, 1);
  double term = coll.bytes / c0.bus_bandwidth_bytes_per_s;
  cr_assert_float_eq (t1 - t0, term, 1e-12, "delta %g s, S/B %g s", t1 - t0, term);
}

/* Links on AFD, both fidelities: iteration 1 (no fault yet) is healthy; halving both NICs can at most
 * double each transfer and leaves compute alone, so T₀ < T' ≤ 2·T₀ (the A→F and F→A
 * hand-offs all cross the network); failing node 1's only NIC disconnects the FFN node:
 * "failed", no time. */
Test (fault_matrix, afd_links_degrade_and_disconnect)
{
  static const char *const networks[] = { "analytic", "flow" };
  const char *f[] = { "link:n0.nic0:0.5@iter2",
                      "link:n1.nic0:0.5@iter2", "link:n1.nic0@iter3", NULL };
  for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
    {
      g_autoptr (cJSON) s = run_tiny ("h200-2x2-loopback", "afd", "{}", networks[k], 4, f);
      double t0 = iter_time (s, 0);
      cr_assert (iter_time (s, 1) == t0, "%s: a healthy iteration changed", networks[k]);
      cr_assert_str_eq (iter_state (s, 2), "degraded");
      double t2 = iter_time (s, 2);
      cr_assert (t2 > t0 && t2 <= 2 * t0 + ROUNDING_S, "%s: T0 %g s, T' %g s",
                 networks[k], t0, t2);
      cr_assert_str_eq (iter_state (s, 3), "failed");
      cr_assert (cJSON_IsNull (cJSON_GetObjectItem (iteration (s, 3), "iteration_time_s")));
    }
}

/* A failed GPU without redundancy on AFD (either role) and on TP×PP with data parallelism
 * (the other DP replica holds the same weights but not the failed replica's KV cache, and no
 * re-sharding is modelled) makes the run failed from the fault on, with the role's lost
 * capacity worked out by hand: AFD on 2 nodes of 2 GPUs has 2 attention and 2 FFN GPUs
 * (1 of 2 = 50.0%); TP2×DP2 has 2 GPUs per TP rank role (1 of 2 = 50.0%). */
Test (fault_matrix, failure_without_replica_afd_and_dp)
{
  static const char *const cases[][5] = {
    { "afd", "h200-2x2-loopback", "{}", "gpu:1@iter1", "GPU 1 (attention) failed and no "
      "replica holds its work: lost 1 of 2 attention GPUs (50.0% of that role's capacity)" },
    { "afd", "h200-2x2-loopback", "{}", "gpu:3@iter1", "GPU 3 (ffn) failed and no replica "
      "holds its work: lost 1 of 2 ffn GPUs (50.0% of that role's capacity)" },
    { "tppp", "h200-1x4", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}", "gpu:3@iter1",
      "GPU 3 (tp1-pp0) failed and no replica holds its work: lost 1 of 2 tp1-pp0 GPUs (50.0%" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *f[] = { cases[i][3], NULL };
      g_autoptr (cJSON) s = run_tiny (cases[i][1], cases[i][0], cases[i][2], "analytic", 3, f);
      cr_assert_str_eq (iter_state (s, 0), "healthy");
      for (int k = 1; k < 3; k++)
        {
          cr_assert_str_eq (iter_state (s, k), "failed", "%s iteration %d", cases[i][0], k);
          cr_assert (cJSON_IsNull (cJSON_GetObjectItem (iteration (s, k), "iteration_time_s")));
          cr_assert (cJSON_GetObjectItem (iteration (s, k), "tokens_per_s")->valuedouble == 0);
        }
      cr_assert (strstr (iter_note (s, 1), cases[i][4]) != NULL, "note: %s", iter_note (s, 1));
    }
}

/* Failover on an idle GPU (EP with ep 2 on 4 GPUs, GPU 3 unused): nothing is lost, so the
 * fault iteration is exactly T₀ + fault_detection_s and later ones T₀ (1e-12 s: doubles). */
Test (fault_matrix, failure_of_idle_gpu_costs_detection_only)
{
  const char *f[] = { "gpu:3@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "ep", "{\"ep\": 2}", "analytic", 3, f);
  cr_assert_str_eq (iter_state (s, 1), "fault");
  cr_assert_str_eq (iter_state (s, 2), "recovered");
  cr_assert_float_eq (iter_time (s, 1), iter_time (s, 0) + 1e-3, 1e-12);
  cr_assert_float_eq (iter_time (s, 2), iter_time (s, 0), 1e-12);
}

/* ------------------------------------------------------------------------------------------
 * Exact cells (docs/models/faults.md "Fault × strategy test matrix"): for every strategy and
 * fault kind, the faulted iteration of the fault loop equals a hand-derived max-plus formula
 * over the iteration's parts. The parts (each op's cost-model time, each collective's
 * analytic time on the healthy or the fault-derived cluster, with the default collective
 * parameters the run uses) are computed here through the public APIs from the healthy graph;
 * the formulas (which parts are on the critical path, how they add up) are the independent
 * part, written next to each assertion. Every op and collective duration is rounded to 1 ns
 * by the replay, so the parts are rounded the same way and the assertions are exact in ns.
 * The healthy iteration is asserted against the same formula first, which checks the
 * derivation of the schedule itself.
 * ---------------------------------------------------------------------------------------- */

#define NIC1X4 TEST_DATA "/fault-1x4-nic.json"
#define SPARE2X2 TEST_DATA "/fault-2x2-spare-nic.json"

/* The healthy graph of one run_tiny() configuration and what prices its parts. */
typedef struct
{
  AfdExperiment *e;
  AfdCluster *cluster;
  AfdLlm *llm;
  AfdCostModel *costs;
  AfdStrategy *strategy;
  AfdStrategyInput in;
  AfdOpGraph *graph;
} Parts;

/* Builds the healthy graph of the tiny model (batch 64, as run_tiny()) under @strategy. */
static void
parts_open (Parts *p, const char *cluster, const char *strategy, const char *options)
{
  g_autoptr (GError) error = NULL;
  memset (p, 0, sizeof *p);
  p->e = afd_experiment_new ();
  g_free (p->e->model);
  p->e->model = g_strdup (TINY);
  p->e->batch = 64;
  AfdExperimentRun *run = afd_experiment_add_run (p->e, NULL, strategy, cJSON_Parse (options));
  p->cluster = afd_cluster_load (cluster, &error);
  afd_assert_no_error (error);
  p->llm = afd_llm_load (TINY, &error);
  afd_assert_no_error (error);
  p->costs = costs_new (p->e->costs, &error);
  afd_assert_no_error (error);
  p->strategy = afd_experiment_run_strategy (p->e, run, &plugins, p->cluster, p->llm, p->costs,
                                         &p->in, &error);
  afd_assert_no_error (error);
  p->graph = afd_strategy_build (p->strategy, &p->in, &error);
  afd_assert_no_error (error);
}

static void
parts_close (Parts *p)
{
  afd_opgraph_free (p->graph);
  afd_strategy_free (p->strategy);
  afd_cost_model_free (p->costs);
  afd_llm_free (p->llm);
  afd_cluster_free (p->cluster);
  afd_experiment_free (p->e);
}

/* The tiny model's op names (one layer, MHA, MoE): the attention block, the router, the
 * grouped expert GEMM and the LM head. */
static const char *const ATTN[] = { "layer0.attention_norm", "layer0.qkv_proj",
                                    "layer0.attention_decode", "layer0.out_proj", NULL };
static const char *const ATTN_ROUTER[] = { "layer0.attention_norm", "layer0.qkv_proj",
                                           "layer0.attention_decode", "layer0.out_proj",
                                           "layer0.router", NULL };
static const char *const ROUTER_EXPERTS[] = { "layer0.router", "layer0.experts", NULL };
static const char *const EXPERTS[] = { "layer0.experts", NULL };
static const char *const LM[] = { "lm_head", NULL };

/* Sum (ns) of the durations of @gpu's compute ops of micro-batch @mb named in @names (each
 * must exist exactly once), each priced by the cost model, multiplied by @x as a straggler
 * ×@x does, and rounded to 1 ns as the replay rounds every op. */
static AfdTime
ops_ns (const Parts *p, guint gpu, guint mb, double x, const char *const *names)
{
  AfdTime sum = 0;
  for (guint k = 0; names[k] != NULL; k++)
    {
      guint found = 0;
      for (guint i = 0; i < afd_opgraph_n_ops (p->graph); i++)
        {
          const AfdOpGraphOp *op = afd_opgraph_op (p->graph, i);
          AfdOp view;
          if (op->gpu != gpu || op->micro_batch != mb || strcmp (op->name, names[k]) != 0
              || !afd_opgraph_compute_op (p->graph, i, &view))
            continue;
          g_autoptr (GError) error = NULL;
          AfdPlacement where = { p->in.gpu, gpu };
          double s = 0;
          cr_assert (afd_cost_model_op_time (p->costs, &view, &where, &s, &error));
          afd_assert_no_error (error);
          sum += afd_time_from_seconds (s * x);
          found++;
        }
      cr_assert_eq (found, 1, "GPU %u micro-batch %u: %u ops named %s", gpu, mb, found,
                    names[k]);
    }
  return sum;
}

/* Duration (ns) of the collective @name of micro-batch @mb of @p's graph whose group holds
 * @gpu, under the analytic model with the default parameters (what the run uses) on @cluster,
 * rounded to 1 ns; a barrier is priced as the run prices it, a 4-byte all-reduce. */
static AfdTime
comm_ns (const Parts *p, const AfdCluster *cluster, const char *name, guint mb, guint gpu)
{
  g_autoptr (AfdNetwork) net = afd_network_new (cluster);
  for (guint c = 0; c < afd_opgraph_n_comms (p->graph); c++)
    {
      const AfdOpGraphComm *k = afd_opgraph_comm (p->graph, c);
      guint first = afd_opgraph_comm_ops (p->graph, c)[0];
      gboolean has = FALSE;
      for (guint m = 0; m < k->n_members; m++)
        has = has || afd_opgraph_comm_gpus (p->graph, c)[m] == gpu;
      if (strcmp (k->name, name) != 0 || afd_opgraph_op (p->graph, first)->micro_batch != mb
          || !has)
        continue;
      static const AfdCollectiveOp ops[] = {
        [AFD_COMM_ALL_REDUCE] = AFD_COLL_ALL_REDUCE, [AFD_COMM_ALL_GATHER] = AFD_COLL_ALL_GATHER,
        [AFD_COMM_REDUCE_SCATTER] = AFD_COLL_REDUCE_SCATTER,
        [AFD_COMM_BROADCAST] = AFD_COLL_BROADCAST, [AFD_COMM_ALL_TO_ALL] = AFD_COLL_ALL_TO_ALL_V,
        [AFD_COMM_SEND_RECV] = AFD_COLL_SEND_RECV, [AFD_COMM_BARRIER] = AFD_COLL_ALL_REDUCE,
      };
      AfdCollective coll = { .op = ops[k->pattern], .algo = AFD_ALGO_AUTO,
                             .proto = AFD_PROTO_AUTO, .group = afd_opgraph_comm_gpus (p->graph, c),
                             .group_size = k->n_members, .bytes = k->bytes };
      if (k->pattern == AFD_COMM_BARRIER)
        coll.bytes = 4;
      if (k->pattern == AFD_COMM_ALL_TO_ALL)
        {
          cr_assert (k->has_pairs, "%s: all-to-all without pairs", name);
          coll.matrix_bytes = afd_opgraph_comm_pairs (p->graph, c);
        }
      g_autoptr (GError) error = NULL;
      double s = 0;
      cr_assert (afd_collective_time_analytic (net, &coll, NULL, NULL, &s, &error), "%s: %s",
                 name, error ? error->message : "");
      return afd_time_from_seconds (s);
    }
  cr_assert_fail ("no collective %s of micro-batch %u with GPU %u", name, mb, gpu);
  return 0;
}

/* @cluster with the link fault @spec applied (afd_fault_derive_cluster). */
static AfdCluster *
derive (const AfdCluster *cluster, const char *spec)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdFault) f = afd_fault_parse (spec, AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  AfdCluster *d = afd_fault_derive_cluster (cluster, &f, 1, &error);
  afd_assert_no_error (error);
  return d;
}

/* Iteration @i's time in ns (the summary's seconds; exact to far below 0.5 ns). */
static AfdTime
iter_ns (const cJSON *summary, int i)
{
  return (AfdTime) llround (iter_time (summary, i) * 1e9);
}

#define DETECT_NS 1000000 /* run_tiny()'s fault_detection_s = 1 ms */

/* Asserts iteration @i of @s took @want ns, in state @state. */
#define assert_iter(s, i, state, want)                                                     \
  do                                                                                       \
    {                                                                                      \
      cr_assert_str_eq (iter_state ((s), (i)), (state), "iteration %d", (i));               \
      cr_assert_eq (iter_ns ((s), (i)), (want), "iteration %d: %" G_GINT64_FORMAT          \
                    " ns, hand formula %" G_GINT64_FORMAT " ns", (i), iter_ns ((s), (i)), \
                    (AfdTime) (want));                                                     \
      /* --verbose prints the numbers of docs/models/faults.md's matrix */                 \
      cr_log_info ("%s: iteration %d %s %.3f us", __func__, (i), (state),                  \
                   (double) (want) / 1e3);                                                 \
    }                                                                                      \
  while (0)

/* TP2×PP1×DP2 of the tiny model on 4 GPUs (pp 1: one micro-batch). Per TP pair {2d, 2d+1}
 * every rank runs the attention block A, tp_allreduce_attn (a rendezvous: it starts when the
 * slower rank is done), router + experts F, tp_allreduce_ffn, and the LM head L, each on the
 * one compute stream; the two pairs share nothing, so
 *   T = max over d of [ max_t A + AR_attn(d) + max_t F + AR_ffn(d) + max_t L ]
 * with every compute part × the GPU's straggler factor x[g] and the all-reduces priced on
 * cluster @c. */
static AfdTime
tppp_formula (const Parts *p, const AfdCluster *c, const double *x)
{
  AfdTime t = 0;
  for (guint d = 0; d < 2; d++)
    {
      guint g0 = 2 * d, g1 = 2 * d + 1;
      AfdTime a = MAX (ops_ns (p, g0, 0, x[g0], ATTN), ops_ns (p, g1, 0, x[g1], ATTN));
      AfdTime f = MAX (ops_ns (p, g0, 0, x[g0], ROUTER_EXPERTS),
                       ops_ns (p, g1, 0, x[g1], ROUTER_EXPERTS));
      AfdTime l = MAX (ops_ns (p, g0, 0, x[g0], LM), ops_ns (p, g1, 0, x[g1], LM));
      t = MAX (t, a + comm_ns (p, c, "tp_allreduce_attn", 0, g0) + f
                      + comm_ns (p, c, "tp_allreduce_ffn", 0, g0) + l);
    }
  return t;
}

/* EP4 of the tiny model with one micro-batch (micro_batches 1: no two-micro-batch overlap).
 * Every GPU runs the attention block + router of its 16 sequences, the dispatch (one
 * all-to-all-v of all 4 GPUs: starts when the slowest is done), its expert (every token goes
 * to every expert: 64 pairs each), the combine, its LM head:
 *   T = max_g (A + R) + D + max_g E + C + max_g L. */
static AfdTime
ep_formula (const Parts *p, const AfdCluster *c, const double *x)
{
  AfdTime a = 0, e = 0, l = 0;
  for (guint g = 0; g < 4; g++)
    {
      a = MAX (a, ops_ns (p, g, 0, x[g], ATTN_ROUTER));
      e = MAX (e, ops_ns (p, g, 0, x[g], EXPERTS));
      l = MAX (l, ops_ns (p, g, 0, x[g], LM));
    }
  return a + comm_ns (p, c, "dispatch", 0, 0) + e + comm_ns (p, c, "combine", 0, 0) + l;
}

/* MA Separation 3:1 of the tiny model on 4 GPUs: attention GPUs 0, 1, 2 (8 heads: 3, 3, 2)
 * each run the attention block over the whole batch, attn_allreduce among them,
 * handoff_broadcast from GPU 0 to the MoE GPU 3, router + the 4 experts on GPU 3 (one MoE GPU:
 * no moe_alltoall), return_to_attention (GPU 3 to the attention GPUs), layer_barrier (all 4),
 * then the LM head (vocabulary split 3 ways) on the attention GPUs. Each collective waits for
 * the previous one, so
 *   T = max_a A_a + AR + BC + (R + E)_3 + RET + BAR + max_a L_a. */
static AfdTime
masep_formula (const Parts *p, const AfdCluster *c, const double *x)
{
  AfdTime a = 0, l = 0;
  for (guint g = 0; g < 3; g++)
    {
      a = MAX (a, ops_ns (p, g, 0, x[g], ATTN));
      l = MAX (l, ops_ns (p, g, 0, x[g], LM));
    }
  return a + comm_ns (p, c, "attn_allreduce", 0, 0) + comm_ns (p, c, "handoff_broadcast", 0, 3)
         + ops_ns (p, 3, 0, x[3], ROUTER_EXPERTS) + comm_ns (p, c, "return_to_attention", 0, 3)
         + comm_ns (p, c, "layer_barrier", 0, 3) + l;
}

/* AFD of the tiny model on 2 nodes × 2 GPUs: attention GPUs 0, 1 (node 0), FFN GPUs 2, 3
 * (node 1), micro_batches 2 (the minimum): the ping-pong. Per attention GPU a and
 * micro-batch m: A(m, a) = attention block + router of its 16 sequences; X(m) = a2f and
 * Y(m) = f2a (all-to-all-v of all 4 GPUs, rendezvous); E(m) = max over FFN GPUs of the grouped
 * expert GEMM; L(m, a) = LM head. Each attention GPU's compute stream runs A(0), A(1), L(0),
 * L(1); every GPU's comm stream runs X(0), Y(0), X(1), Y(1) in that order (the ping-pong
 * slots). Hence
 *   s0 = max_a A(0, a)                          X(0) starts
 *   t1 = s0 + X(0) + E(0) + Y(0)                Y(0) ends
 *   s1 = max (t1, max_a [A(0, a) + A(1, a)])    X(1) starts (comm stream and A(1) done)
 *   t3 = s1 + X(1) + E(1) + Y(1)                Y(1) ends
 *   T  = max_a [ max (max (A(0, a) + A(1, a), t1) + L(0, a), t3) + L(1, a) ].
 * @out_hidden (nullable): set when micro-batch 1's attention is hidden under micro-batch 0's
 * transfers (t1 >= max_a [A(0) + A(1)]). */
static AfdTime
afd_formula (const Parts *p, const AfdCluster *c, const double *x, gboolean *out_hidden)
{
  AfdTime s0 = 0, a01 = 0, e[2] = { 0, 0 };
  for (guint a = 0; a < 2; a++)
    {
      s0 = MAX (s0, ops_ns (p, a, 0, x[a], ATTN_ROUTER));
      a01 = MAX (a01, ops_ns (p, a, 0, x[a], ATTN_ROUTER) + ops_ns (p, a, 1, x[a], ATTN_ROUTER));
    }
  for (guint m = 0; m < 2; m++)
    for (guint f = 2; f < 4; f++)
      e[m] = MAX (e[m], ops_ns (p, f, m, x[f], EXPERTS));
  AfdTime t1 = s0 + comm_ns (p, c, "a2f", 0, 0) + e[0] + comm_ns (p, c, "f2a", 0, 0);
  AfdTime s1 = MAX (t1, a01);
  AfdTime t3 = s1 + comm_ns (p, c, "a2f", 1, 0) + e[1] + comm_ns (p, c, "f2a", 1, 0);
  AfdTime t = 0;
  for (guint a = 0; a < 2; a++)
    {
      AfdTime own = ops_ns (p, a, 0, x[a], ATTN_ROUTER) + ops_ns (p, a, 1, x[a], ATTN_ROUTER);
      AfdTime l0 = MAX (own, t1) + ops_ns (p, a, 0, x[a], LM);
      t = MAX (t, MAX (l0, t3) + ops_ns (p, a, 1, x[a], LM));
    }
  if (out_hidden != NULL)
    *out_hidden = t1 >= a01;
  return t;
}

static const double ONES[4] = { 1, 1, 1, 1 };

/* Straggler, TP×PP (TP2×DP2, h200-1x4): GPU 1's every compute op takes X times as long; its
 * rank pair {0, 1} is tied with {2, 3} and its two ranks are tied (4 heads each, the same
 * expert shard), so every op of GPU 1 is on the critical path:
 *   T' = T0 + Σ over GPU 1's ops of (⌊X·d⌉ − d)   (X = 2, then 2 × 1.5 = 3). */
Test (fault_matrix, tppp_straggler_exact)
{
  const char *f[] = { "straggler:1:2@iter1", "straggler:1:1.5@iter2", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}",
                                  "analytic", 3, f);
  Parts p;
  parts_open (&p, "h200-1x4", "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}");
  static const char *const all[] = { "layer0.attention_norm", "layer0.qkv_proj",
                                     "layer0.attention_decode", "layer0.out_proj",
                                     "layer0.router", "layer0.experts", "lm_head", NULL };
  AfdTime t0 = tppp_formula (&p, p.cluster, ONES);
  assert_iter (s, 0, "healthy", t0);
  const double x2[4] = { 1, 2, 1, 1 }, x3[4] = { 1, 3, 1, 1 };
  assert_iter (s, 1, "degraded", tppp_formula (&p, p.cluster, x2));
  assert_iter (s, 2, "degraded", tppp_formula (&p, p.cluster, x3));
  AfdTime d1 = ops_ns (&p, 1, 0, 1, all);
  cr_assert_eq (iter_ns (s, 1), t0 + ops_ns (&p, 1, 0, 2, all) - d1);
  cr_assert_eq (iter_ns (s, 2), t0 + ops_ns (&p, 1, 0, 3, all) - d1);
  parts_close (&p);
}

/* Straggler, EP (EP4, micro_batches 1, h200-1x4): all four GPUs are identical (16 sequences,
 * 64 pairs of their one expert each) and meet at the dispatch and the combine, so GPU 1 ×2
 * puts all of its compute on the critical path: T' = T0 + Σ over GPU 1's ops of (⌊2d⌉ − d).
 * An idle GPU's straggler is free (fault_matrix::straggler_on_idle_gpu_is_free). */
Test (fault_matrix, ep_straggler_exact)
{
  const char *f[] = { "straggler:1:2@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "ep", "{\"micro_batches\": 1}", "analytic", 2, f);
  Parts p;
  parts_open (&p, "h200-1x4", "ep", "{\"micro_batches\": 1}");
  static const char *const all[] = { "layer0.attention_norm", "layer0.qkv_proj",
                                     "layer0.attention_decode", "layer0.out_proj",
                                     "layer0.router", "layer0.experts", "lm_head", NULL };
  AfdTime t0 = ep_formula (&p, p.cluster, ONES);
  assert_iter (s, 0, "healthy", t0);
  const double x[4] = { 1, 2, 1, 1 };
  assert_iter (s, 1, "degraded", ep_formula (&p, p.cluster, x));
  cr_assert_eq (iter_ns (s, 1), t0 + ops_ns (&p, 1, 0, 2, all) - ops_ns (&p, 1, 0, 1, all));
  parts_close (&p);
}

/* Straggler, MA Separation (3:1, h200-1x4), three GPUs:
 * - GPU 0 ×2 (3 heads, the slowest attention GPU together with GPU 1): its attention block
 *   and its LM head are on the critical path: T' = T0 + Σ (⌊2d⌉ − d) over them;
 * - GPU 2 ×1.25 (2 heads): its attention block stays shorter than GPU 0's even slowed (the
 *   all-reduce waits for GPU 0 anyway: off the critical path, it costs nothing), only its LM
 *   head (after the barrier, tied with the others) counts: T' = T0 + ⌊1.25·L⌉ − L;
 * - GPU 3 ×2 (the MoE GPU): router and experts are on the path: T' = T0 + Σ (⌊2d⌉ − d). */
Test (fault_matrix, masep_straggler_exact)
{
  Parts p;
  parts_open (&p, "h200-1x4", "masep", "{}");
  AfdTime t0 = masep_formula (&p, p.cluster, ONES);
  static const char *const attn_lm[] = { "layer0.attention_norm", "layer0.qkv_proj",
                                         "layer0.attention_decode", "layer0.out_proj",
                                         "lm_head", NULL };
  /* The slack that absorbs GPU 2's attention: 1.25 × its 2-head block < GPU 0's 3-head one. */
  cr_assert (ops_ns (&p, 2, 0, 1.25, ATTN) < ops_ns (&p, 0, 0, 1, ATTN));
  const AfdTime want[3] = {
    t0 + ops_ns (&p, 0, 0, 2, attn_lm) - ops_ns (&p, 0, 0, 1, attn_lm),
    t0 + ops_ns (&p, 2, 0, 1.25, LM) - ops_ns (&p, 2, 0, 1, LM),
    t0 + ops_ns (&p, 3, 0, 2, ROUTER_EXPERTS) - ops_ns (&p, 3, 0, 1, ROUTER_EXPERTS),
  };
  static const char *const specs[3] = { "straggler:0:2@iter1", "straggler:2:1.25@iter1",
                                        "straggler:3:2@iter1" };
  const guint gpu[3] = { 0, 2, 3 };
  const double factor[3] = { 2, 1.25, 2 };
  for (guint i = 0; i < 3; i++)
    {
      const char *f[] = { specs[i], NULL };
      g_autoptr (cJSON) s = run_tiny ("h200-1x4", "masep", "{}", "analytic", 2, f);
      double x[4] = { 1, 1, 1, 1 };
      x[gpu[i]] = factor[i];
      assert_iter (s, 0, "healthy", t0);
      assert_iter (s, 1, "degraded", masep_formula (&p, p.cluster, x));
      cr_assert_eq (iter_ns (s, 1), want[i], "%s", specs[i]);
      cr_assert (want[i] > t0, "%s", specs[i]);
    }
  parts_close (&p);
}

/* Straggler, AFD (h200-2x2-loopback, 2 micro-batches): the transfers cross the 2.73 GB/s
 * loopback NIC, so micro-batch 1's attention is hidden under micro-batch 0's
 * A→F, experts and F→A (t1 >= A(0) + A(1), checked, also slowed). Hence
 * - attention GPU 0 ×2: only A(0, 0) and L(1, 0) are on the critical path:
 *   T' = T0 + (⌊2·A(0)⌉ − A(0)) + (⌊2·L(1)⌉ − L(1));
 * - FFN GPU 3 ×2: both expert GEMMs are: T' = T0 + Σ_m (⌊2·E(m)⌉ − E(m)). */
Test (fault_matrix, afd_straggler_exact)
{
  Parts p;
  parts_open (&p, "h200-2x2-loopback", "afd", "{\"micro_batches\": 2}");
  gboolean hidden;
  AfdTime t0 = afd_formula (&p, p.cluster, ONES, &hidden);
  cr_assert (hidden);
  const double xa[4] = { 2, 1, 1, 1 }, xf[4] = { 1, 1, 1, 2 };
  AfdTime ta = afd_formula (&p, p.cluster, xa, &hidden);
  cr_assert (hidden, "micro-batch 1's slowed attention is still hidden");
  AfdTime tf = afd_formula (&p, p.cluster, xf, NULL);
  cr_assert_eq (ta, t0 + ops_ns (&p, 0, 0, 2, ATTN_ROUTER) - ops_ns (&p, 0, 0, 1, ATTN_ROUTER)
                        + ops_ns (&p, 0, 1, 2, LM) - ops_ns (&p, 0, 1, 1, LM));
  cr_assert_eq (tf, t0 + ops_ns (&p, 3, 0, 2, EXPERTS) - ops_ns (&p, 3, 0, 1, EXPERTS)
                        + ops_ns (&p, 3, 1, 2, EXPERTS) - ops_ns (&p, 3, 1, 1, EXPERTS));
  const char *fa[] = { "straggler:0:2@iter1", NULL }, *ff[] = { "straggler:3:2@iter1", NULL };
  g_autoptr (cJSON) sa = run_tiny ("h200-2x2-loopback", "afd", "{\"micro_batches\": 2}",
                                   "analytic", 2, fa);
  g_autoptr (cJSON) sf = run_tiny ("h200-2x2-loopback", "afd", "{\"micro_batches\": 2}",
                                   "analytic", 2, ff);
  assert_iter (sa, 0, "healthy", t0);
  assert_iter (sa, 1, "degraded", ta);
  assert_iter (sf, 1, "degraded", tf);
  parts_close (&p);
}

/* Which collectives a link fault changes, for the closed forms below: the sum over @names of
 * (time on @faulted − time on @healthy), each collective the one of micro-batch @mb[i] whose
 * group holds @gpu[i]; asserts each grew. */
static AfdTime
comm_growth (const Parts *p, const AfdCluster *faulted, const char *const *names,
             const guint *mb, const guint *gpu)
{
  AfdTime sum = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      AfdTime h = comm_ns (p, p->cluster, names[i], mb[i], gpu[i]);
      AfdTime f = comm_ns (p, faulted, names[i], mb[i], gpu[i]);
      cr_assert (f > h, "%s (GPU %u): %" G_GINT64_FORMAT " ns healthy, %" G_GINT64_FORMAT
                 " ns faulted", names[i], gpu[i], h, f);
      cr_log_info ("%s (GPU %u): %.3f -> %.3f us", names[i], gpu[i], h / 1e3, f / 1e3);
      sum += f - h;
    }
  return sum;
}

/* Asserts that collective @name (micro-batch 0, group holding @gpu) takes as long on
 * @faulted as on the healthy cluster. */
static void
assert_comm_same (const Parts *p, const AfdCluster *faulted, const char *name, guint gpu)
{
  AfdTime h = comm_ns (p, p->cluster, name, 0, gpu), f = comm_ns (p, faulted, name, 0, gpu);
  cr_assert_eq (f, h, "%s: %" G_GINT64_FORMAT " ns healthy, %" G_GINT64_FORMAT " ns faulted",
                name, h, f);
}

/* Degraded link, TP×PP (TP2×DP2, h200-1x4): GPU 1's NVSwitch link at 10 % of 450 GB/s
 * (both directions). Only the pair {0, 1}'s all-reduces cross it; the pair {2, 3} is
 * untouched and was tied with {0, 1}, so
 *   T' = T0 + ΔAR_attn{0,1} + ΔAR_ffn{0,1},
 * Δ = the all-reduce's analytic time on the derived cluster − on the healthy one. */
Test (fault_matrix, tppp_degraded_link_exact)
{
  const char *spec = "link:n0.gpu1/n0.nvswitch:0.1";
  const char *f[] = { "link:n0.gpu1/n0.nvswitch:0.1@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}",
                                  "analytic", 2, f);
  Parts p;
  parts_open (&p, "h200-1x4", "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}");
  g_autoptr (AfdCluster) d = derive (p.cluster, spec);
  AfdTime t0 = tppp_formula (&p, p.cluster, ONES);
  assert_iter (s, 0, "healthy", t0);
  assert_iter (s, 1, "degraded", tppp_formula (&p, d, ONES));
  static const char *const ars[] = { "tp_allreduce_attn", "tp_allreduce_ffn", NULL };
  const guint mb[2] = { 0, 0 }, on0[2] = { 0, 0 };
  assert_comm_same (&p, d, "tp_allreduce_attn", 2);
  assert_comm_same (&p, d, "tp_allreduce_ffn", 2);
  cr_assert_eq (iter_ns (s, 1), t0 + comm_growth (&p, d, ars, mb, on0));
  parts_close (&p);
}

/* Degraded link, EP (EP4, micro_batches 1, h200-1x4): GPU 1's NVSwitch link at 10 %. Compute
 * is unchanged; the dispatch and the combine (all 4 GPUs, GPU 1 sends and receives 3/4 of
 * its pairs' bytes over that link) are the only parts that cross it:
 *   T' = T0 + ΔD + ΔC. */
Test (fault_matrix, ep_degraded_link_exact)
{
  const char *f[] = { "link:n0.gpu1/n0.nvswitch:0.1@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "ep", "{\"micro_batches\": 1}", "analytic", 2, f);
  Parts p;
  parts_open (&p, "h200-1x4", "ep", "{\"micro_batches\": 1}");
  g_autoptr (AfdCluster) d = derive (p.cluster, "link:n0.gpu1/n0.nvswitch:0.1");
  AfdTime t0 = ep_formula (&p, p.cluster, ONES);
  assert_iter (s, 0, "healthy", t0);
  assert_iter (s, 1, "degraded", ep_formula (&p, d, ONES));
  static const char *const a2a[] = { "dispatch", "combine", NULL };
  const guint mb[2] = { 0, 0 }, on0[2] = { 0, 0 };
  cr_assert_eq (iter_ns (s, 1), t0 + comm_growth (&p, d, a2a, mb, on0));
  parts_close (&p);
}

/* Degraded link, MA Separation (3:1, h200-1x4): the MoE GPU 3's NVSwitch link at 10 %. The
 * hand-off broadcast (GPU 0 → 3) and the return (GPU 3 → 0, 1, 2) cross it (on a fault's
 * cluster the analytic model reads every pair of a one-node group, so the slowest member's
 * route prices it); the attention all-reduce (GPUs 0-2) does not, and the 4-byte barrier of
 * all four GPUs, which crosses it too, runs on one channel whose rate (7.2 GB/s LL on Hopper,
 * collectives.md) is below even the degraded link's 45 GB/s: T' = T0 + ΔBC + ΔRET. */
Test (fault_matrix, masep_degraded_link_exact)
{
  const char *f[] = { "link:n0.gpu3/n0.nvswitch:0.1@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "masep", "{}", "analytic", 2, f);
  Parts p;
  parts_open (&p, "h200-1x4", "masep", "{}");
  g_autoptr (AfdCluster) d = derive (p.cluster, "link:n0.gpu3/n0.nvswitch:0.1");
  AfdTime t0 = masep_formula (&p, p.cluster, ONES);
  assert_iter (s, 0, "healthy", t0);
  assert_iter (s, 1, "degraded", masep_formula (&p, d, ONES));
  assert_comm_same (&p, d, "attn_allreduce", 0);
  assert_comm_same (&p, d, "layer_barrier", 3);
  static const char *const moe[] = { "handoff_broadcast", "return_to_attention", NULL };
  const guint mb[2] = { 0, 0 }, on3[2] = { 3, 3 };
  cr_assert_eq (iter_ns (s, 1), t0 + comm_growth (&p, d, moe, mb, on3));
  parts_close (&p);
}

/* Degraded link, AFD (h200-2x2-loopback, 2 micro-batches): node 0's only NIC at 50 %. All
 * four transfers (A→F and F→A of both micro-batches) cross it; compute is unchanged and
 * micro-batch 1's attention stays hidden (checked), so the transfers add up:
 *   T' = T0 + Σ_m (ΔX(m) + ΔY(m)). */
Test (fault_matrix, afd_degraded_link_exact)
{
  const char *f[] = { "link:n0.nic0:0.5@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-2x2-loopback", "afd", "{\"micro_batches\": 2}",
                                  "analytic", 2, f);
  Parts p;
  parts_open (&p, "h200-2x2-loopback", "afd", "{\"micro_batches\": 2}");
  g_autoptr (AfdCluster) d = derive (p.cluster, "link:n0.nic0:0.5");
  gboolean hidden;
  AfdTime t0 = afd_formula (&p, p.cluster, ONES, &hidden);
  cr_assert (hidden);
  AfdTime t1 = afd_formula (&p, d, ONES, &hidden);
  cr_assert (hidden);
  assert_iter (s, 0, "healthy", t0);
  assert_iter (s, 1, "degraded", t1);
  static const char *const xf[] = { "a2f", "f2a", "a2f", "f2a", NULL };
  const guint mb[4] = { 0, 0, 1, 1 }, on0[4] = { 0, 0, 0, 0 };
  cr_assert_eq (t1, t0 + comm_growth (&p, d, xf, mb, on0));
  parts_close (&p);
}

/* A failed link that cuts GPUs off (docs/models/faults.md: a cut-off GPU counts as failed)
 * on a strategy without a replica for them makes the run failed from the fault on; the note
 * is exactly the spec, the GPUs cut off, then the failed GPU's lost capacity: h200-1x4 has no
 * NICs, so GPU 1 (or 3) without its NVSwitch link has no link at all; on h200-2x2-loopback
 * node 0's only NIC is its only way to node 1, which leaves two halves of 2 GPUs each, and
 * the half holding GPU 0 stays (ties go to the lowest GPU): GPUs 2 and 3 are cut off. (Until
 * the cut-off rule, these runs failed with "the failed links disconnect the cluster".) */
static void
assert_disconnected (const char *cluster, const char *strategy, const char *options,
                     const char *spec, const char *cut, const char *lost)
{
  const char *f[] = { spec, NULL };
  g_autoptr (cJSON) s = run_tiny (cluster, strategy, options, "analytic", 3, f);
  cr_assert_str_eq (iter_state (s, 0), "healthy");
  for (int k = 1; k < 3; k++)
    {
      cr_assert_str_eq (iter_state (s, k), "failed", "%s iteration %d", strategy, k);
      cr_assert (cJSON_IsNull (cJSON_GetObjectItem (iteration (s, k), "iteration_time_s")));
    }
  g_autofree char *want = g_strdup_printf ("%s; %s cut off from the other GPUs by the failed "
                                           "links and %s; %s; the iteration cannot complete",
                                           spec, cut, strchr (cut, ',') ? "count as failed"
                                                                        : "counts as failed",
                                           lost);
  cr_assert_str_eq (iter_note (s, 1), want, "%s", strategy);
  cr_assert_str_eq (iter_note (s, 2), "failed since iteration 1", "%s", strategy);
}

/* A failed link that is routed around: the fault iteration costs detection + T_c and later
 * ones T_c, with T_c = @formula on the derived cluster; returns T_c − T0 (the formula's
 * healthy value is checked against iteration 0 first). */
static AfdTime
assert_rerouted (const Parts *p, const char *cluster, const char *strategy, const char *options,
                 const char *spec, const AfdCluster *derived,
                 AfdTime (*formula) (const Parts *, const AfdCluster *, const double *))
{
  g_autofree char *at = g_strdup_printf ("%s@iter1", spec);
  const char *f[] = { at, NULL };
  g_autoptr (cJSON) s = run_tiny (cluster, strategy, options, "analytic", 3, f);
  AfdTime t0 = formula (p, p->cluster, ONES), tc = formula (p, derived, ONES);
  assert_iter (s, 0, "healthy", t0);
  assert_iter (s, 1, "fault", tc + DETECT_NS);
  assert_iter (s, 2, "recovered", tc);
  cr_assert (tc > t0, "%s: the detour is slower", strategy);
  return tc - t0;
}

/* Failed link, TP×PP (TP2×DP2): on tests/data/fault-1x4-nic.json (h200-1x4 plus a 50 GB/s NIC
 * per GPU) GPU 1's traffic to GPU 0 is routed around its failed NVSwitch link through
 * n0.nic1 → net.switch → n0.nic0 (4 links, 50 GB/s, 1 µs); the pair {0, 1}'s all-reduces
 * take the detour, the pair {2, 3}'s do not:
 *   fault = 1 ms + T_c, recovered = T_c = T0 + ΔAR_attn{0,1} + ΔAR_ffn{0,1};
 * on h200-1x4 (no NICs) the same failure leaves GPU 1 without a link: failed. */
Test (fault_matrix, tppp_failed_link_exact)
{
  const char *spec = "link:n0.gpu1/n0.nvswitch";
  Parts p;
  parts_open (&p, NIC1X4, "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}");
  g_autoptr (AfdCluster) d = derive (p.cluster, spec);
  double bw, lat;
  g_autoptr (AfdNetwork) n = afd_network_new (d);
  afd_network_path (n, 1, 0, &bw, &lat);
  cr_assert (bw == 5e10 && fabs (lat - 1e-6) < 1e-15, "detour %g B/s, %g s", bw, lat);
  AfdTime grow = assert_rerouted (&p, NIC1X4, "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}",
                                  spec, d, tppp_formula);
  static const char *const ars[] = { "tp_allreduce_attn", "tp_allreduce_ffn", NULL };
  const guint mb[2] = { 0, 0 }, on0[2] = { 0, 0 };
  assert_comm_same (&p, d, "tp_allreduce_attn", 2);
  cr_assert_eq (grow, comm_growth (&p, d, ars, mb, on0));
  parts_close (&p);
  assert_disconnected ("h200-1x4", "tppp", "{\"tp\": 2, \"pp\": 1, \"dp\": 2}",
                       "link:n0.gpu1/n0.nvswitch@iter1", "GPU 1 ('n0.gpu1') is",
                       "GPU 1 (tp1-pp0) failed and no replica holds its work: lost 1 of 2 "
                       "tp1-pp0 GPUs (50.0% of that role's capacity)");
}

/* Failed link, EP (EP4, micro_batches 1): on fault-1x4-nic GPU 1's dispatch and combine
 * bytes take the NIC detour: T_c = T0 + ΔD + ΔC; on h200-1x4: failed. */
Test (fault_matrix, ep_failed_link_exact)
{
  const char *spec = "link:n0.gpu1/n0.nvswitch";
  Parts p;
  parts_open (&p, NIC1X4, "ep", "{\"micro_batches\": 1}");
  g_autoptr (AfdCluster) d = derive (p.cluster, spec);
  AfdTime grow = assert_rerouted (&p, NIC1X4, "ep", "{\"micro_batches\": 1}", spec, d,
                                  ep_formula);
  static const char *const a2a[] = { "dispatch", "combine", NULL };
  const guint mb[2] = { 0, 0 }, on0[2] = { 0, 0 };
  cr_assert_eq (grow, comm_growth (&p, d, a2a, mb, on0));
  parts_close (&p);
  assert_disconnected ("h200-1x4", "ep", "{\"micro_batches\": 1}",
                       "link:n0.gpu1/n0.nvswitch@iter1", "GPU 1 ('n0.gpu1') is",
                       "GPU 1 (attention+experts) failed and the survivors cannot take its work "
                       "over (strategy ep: expert 1 of layer 0 has no copy on a surviving GPU "
                       "(its copies: GPU 1); add redundant_experts): lost 1 of 4 "
                       "attention+experts GPUs (25.0% of that role's capacity)");
}

/* Failed link, MA Separation (3:1): on fault-1x4-nic the MoE GPU 3's hand-off, return and
 * the barrier of all four GPUs take the NIC detour (the all-reduce of GPUs 0-2 does not):
 * T_c = T0 + ΔBC + ΔRET + ΔBAR; on h200-1x4: failed. */
Test (fault_matrix, masep_failed_link_exact)
{
  const char *spec = "link:n0.gpu3/n0.nvswitch";
  Parts p;
  parts_open (&p, NIC1X4, "masep", "{}");
  g_autoptr (AfdCluster) d = derive (p.cluster, spec);
  AfdTime grow = assert_rerouted (&p, NIC1X4, "masep", "{}", spec, d, masep_formula);
  assert_comm_same (&p, d, "attn_allreduce", 0);
  static const char *const moe[] = { "handoff_broadcast", "return_to_attention",
                                     "layer_barrier", NULL };
  const guint mb[3] = { 0, 0, 0 }, on3[3] = { 3, 3, 3 };
  cr_assert_eq (grow, comm_growth (&p, d, moe, mb, on3));
  parts_close (&p);
  assert_disconnected ("h200-1x4", "masep", "{}", "link:n0.gpu3/n0.nvswitch@iter1",
                       "GPU 3 ('n0.gpu3') is",
                       "GPU 3 (moe) failed and its shard exists nowhere else: lost 1 of 4 "
                       "working GPUs (25.0% of the capacity)");
}

/* AFD's formula with its hidden-attention flag dropped (for assert_rerouted). */
static AfdTime
afd_formula3 (const Parts *p, const AfdCluster *c, const double *x)
{
  gboolean hidden;
  AfdTime t = afd_formula (p, c, x, &hidden);
  cr_assert (hidden, "micro-batch 1's attention is hidden");
  return t;
}

/* Failed link, AFD (2 micro-batches): on tests/data/fault-2x2-spare-nic.json (2 nodes ×
 * 2 H200, a 2.5 GB/s NIC per GPU with 25 µs hops, and a spare 1.25 GB/s NIC on n0.g0) GPU 0's
 * transfers move from the failed n0.nic0 to the spare, at half the bandwidth; all four
 * transfers slow down and the attention of micro-batch 1 stays hidden:
 * T_c = T0 + Σ_m (ΔX(m) + ΔY(m)). On h200-2x2-loopback node 0's only NIC fails: node 1 is
 * cut off, failed. */
Test (fault_matrix, afd_failed_link_exact)
{
  const char *spec = "link:n0.nic0";
  Parts p;
  parts_open (&p, SPARE2X2, "afd", "{\"micro_batches\": 2}");
  g_autoptr (AfdCluster) d = derive (p.cluster, spec);
  double before, after;
  {
    /* (the networks must go before parts_close() frees the cluster) */
    g_autoptr (AfdNetwork) n0 = afd_network_new (p.cluster);
    g_autoptr (AfdNetwork) n1 = afd_network_new (d);
    afd_network_path (n0, 0, 2, &before, NULL);
    afd_network_path (n1, 0, 2, &after, NULL);
  }
  cr_assert (before == 2.5e9 && after == 1.25e9, "route 0 -> 2: %g then %g B/s", before,
             after);
  AfdTime grow = assert_rerouted (&p, SPARE2X2, "afd", "{\"micro_batches\": 2}", spec, d,
                                  afd_formula3);
  static const char *const xf[] = { "a2f", "f2a", "a2f", "f2a", NULL };
  const guint mb[4] = { 0, 0, 1, 1 }, on0[4] = { 0, 0, 0, 0 };
  cr_assert_eq (grow, comm_growth (&p, d, xf, mb, on0));
  parts_close (&p);
  assert_disconnected ("h200-2x2-loopback", "afd", "{\"micro_batches\": 2}",
                       "link:n0.nic0@iter1", "GPUs 2, 3 ('n1.gpu0', 'n1.gpu1') are",
                       "GPU 2 (ffn) failed and no replica holds its work: lost 2 of 2 ffn GPUs "
                       "(100.0% of that role's capacity)");
}

/* ------------------------------------------------------------------------------------------
 * GPUs cut off by failed links (docs/models/faults.md): with the failed links removed, the
 * connected component with the most GPUs (ties: the one holding the lowest GPU index) stays;
 * every GPU outside it is lost to the job exactly like a failed GPU (gpu:G). So each cell
 * below runs the link fault and the gpu:G failure of the same GPU and expects the same
 * iterations: the same states and times (exact: the same graph on routes of the same
 * links), and the same lost sequences; the notes differ only by the cut-off sentence.
 * ---------------------------------------------------------------------------------------- */

/* The note's sentence for one cut-off GPU (index and vertex id as strings). */
#define CUT_NOTE(gpu, id)                                                                  \
  "GPU " gpu " ('" id "') is cut off from the other GPUs by the failed links and counts as " \
  "failed"

/* Runs @link_spec and @gpu_spec (both @iter1, 3 iterations) on the same configuration and
 * asserts identical iterations: states, times (exact), tokens/s and lost sequences. */
static void
assert_cut_like_failure (const char *cluster, const char *strategy, const char *options,
                         const char *network, const char *link_spec, const char *gpu_spec,
                         cJSON **out_link)
{
  const char *fl[] = { link_spec, NULL }, *fg[] = { gpu_spec, NULL };
  cJSON *l = run_tiny (cluster, strategy, options, network, 3, fl);
  g_autoptr (cJSON) g = run_tiny (cluster, strategy, options, network, 3, fg);
  for (int i = 0; i < 3; i++)
    {
      cr_assert_str_eq (iter_state (l, i), iter_state (g, i), "%s %s iteration %d", strategy,
                        network, i);
      const cJSON *li = iteration (l, i), *gi = iteration (g, i);
      static const char *const keys[] = { "iteration_time_s", "tokens_per_s",
                                          "lost_sequences" };
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          const cJSON *a = cJSON_GetObjectItem (li, keys[k]);
          const cJSON *b = cJSON_GetObjectItem (gi, keys[k]);
          cr_assert ((a == NULL) == (b == NULL), "%s %s iteration %d: %s", strategy, network,
                     i, keys[k]);
          if (a != NULL && cJSON_IsNumber (a))
            cr_assert (cJSON_IsNumber (b) && a->valuedouble == b->valuedouble,
                       "%s %s iteration %d: %s %.17g (link) vs %.17g (gpu)", strategy, network,
                       i, keys[k], a->valuedouble, b->valuedouble);
        }
    }
  *out_link = l;
}

/* (1) An idle GPU cut off: EP with ep 2 on h200-1x4 uses GPUs 0 and 1; GPU 3 has no op (and
 * is in no collective group). Failing its only link (h200-1x4 has no NICs) cuts it off, which
 * is as harmless as gpu:3 (fault_matrix::failure_of_idle_gpu_costs_detection_only): the fault
 * iteration is T0 + 1 ms detection, later ones T0, on both network fidelities. */
Test (fault_matrix, cut_off_idle_gpu_is_harmless)
{
  static const char *const networks[] = { "analytic", "flow" };
  for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
    {
      g_autoptr (cJSON) s = NULL;
      assert_cut_like_failure ("h200-1x4", "ep", "{\"ep\": 2}", networks[k],
                               "link:n0.gpu3/n0.nvswitch@iter1", "gpu:3@iter1", &s);
      AfdTime t0 = iter_ns (s, 0);
      assert_iter (s, 0, "healthy", t0);
      assert_iter (s, 1, "fault", t0 + DETECT_NS);
      assert_iter (s, 2, "recovered", t0);
      cr_assert_str_eq (iter_note (s, 1), "link:n0.gpu3/n0.nvswitch@iter1: detection 0.001 s "
                        "+ the iteration on the recovered configuration; "
                        CUT_NOTE ("3", "n0.gpu3"));
      cr_assert_str_eq (iter_note (s, 2), "");
    }
}

/* (2) An attention GPU with a replica cut off: MA Separation 2:2 with attention_redundancy 2 on
 * h200-1x4 (attention GPUs 0 and 1 compute the same heads, each the replica of the other;
 * MoE GPUs 2, 3). Cutting GPU 1 off fails over to GPU 0 exactly as gpu:1 does
 * (fault::masep_redundancy_fails_over): fault = T0 + 1 ms, recovered = T0, because the
 * recovered iteration is the healthy graph with GPU 1's ops standing for GPU 0's takeover
 * at the same cost, priced on the links GPU 1 had. Both network fidelities. */
Test (fault_matrix, cut_off_attention_gpu_fails_over_to_replica)
{
  static const char *const networks[] = { "analytic", "flow" };
  const char *opts = "{\"attn_gpus\": 2, \"moe_gpus\": 2, \"attention_redundancy\": 2}";
  for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
    {
      g_autoptr (cJSON) s = NULL;
      assert_cut_like_failure ("h200-1x4", "masep", opts, networks[k],
                               "link:n0.gpu1/n0.nvswitch@iter1", "gpu:1@iter1", &s);
      AfdTime t0 = iter_ns (s, 0);
      assert_iter (s, 1, "fault", t0 + DETECT_NS);
      assert_iter (s, 2, "recovered", t0);
      cr_assert (strstr (iter_note (s, 1), CUT_NOTE ("1", "n0.gpu1")) != NULL, "note: %s",
                 iter_note (s, 1));
    }
  /* The same on fault-1x4-nic with every link of GPU 1 (NVSwitch and NIC) failed. */
  g_autoptr (cJSON) n = NULL;
  assert_cut_like_failure (NIC1X4, "masep", opts, "analytic", "link:n0.gpu1@iter1",
                           "gpu:1@iter1", &n);
  assert_iter (n, 2, "recovered", iter_ns (n, 0));
}

/* (3) An expert GPU with redundant experts cut off: EP with micro_batches 1 and 2 redundant
 * experts (tests/test-fault-ep.c's placement: GPU 0 = {0, 1'}, GPU 1 = {1, 0'}) on h200-1x4.
 * Cutting GPU 1 off rebuilds EP on the survivors {0, 2, 3} exactly as gpu:1 does: experts 0
 * and 1 served by GPU 0 only, GPU 1's 16 of 64 sequences (share(64, 4, 1)) lost, so 48 tokens
 * per iteration: fault = T_c + 1 ms, recovered = T_c, tokens/s = 48 / T_c. Both network
 * fidelities. */
Test (fault_matrix, cut_off_expert_gpu_like_its_failure)
{
  static const char *const networks[] = { "analytic", "flow" };
  for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
    {
      g_autoptr (cJSON) s = NULL;
      assert_cut_like_failure ("h200-1x4", "ep",
                               "{\"micro_batches\": 1, \"redundant_experts\": 2}", networks[k],
                               "link:n0.gpu1/n0.nvswitch@iter1", "gpu:1@iter1", &s);
      AfdTime tc = iter_ns (s, 2);
      assert_iter (s, 1, "fault", tc + DETECT_NS);
      assert_iter (s, 2, "recovered", tc);
      const cJSON *r = iteration (s, 2);
      cr_assert_eq (cJSON_GetObjectItem (r, "lost_sequences")->valuedouble, 16);
      double tps = cJSON_GetObjectItem (r, "tokens_per_s")->valuedouble;
      cr_assert_float_eq (tps, 48 / iter_time (s, 2), 1e-9 * tps);
      cr_assert (strstr (iter_note (s, 1), CUT_NOTE ("1", "n0.gpu1")) != NULL, "note: %s",
                 iter_note (s, 1));
      cr_assert (strstr (iter_note (s, 1), "lost 16 of 64 sequences (25.0%)") != NULL,
                 "note: %s", iter_note (s, 1));
    }
}

/* (4) TP×PP has no replica (TP2×DP2 on h200-1x4, pairs {0, 1} and {2, 3}): GPU 3 cut off is
 * failed like gpu:3, with the same lost capacity (1 of the 2 tp1-pp0 GPUs, 50.0%); the note
 * is the spec, the cut-off sentence, then exactly gpu:3's reason. */
Test (fault_matrix, cut_off_tppp_gpu_fails_with_lost_capacity)
{
  const char *opts = "{\"tp\": 2, \"pp\": 1, \"dp\": 2}";
  g_autoptr (cJSON) s = NULL;
  assert_cut_like_failure ("h200-1x4", "tppp", opts, "analytic",
                           "link:n0.gpu3/n0.nvswitch@iter1", "gpu:3@iter1", &s);
  const char *reason = "GPU 3 (tp1-pp0) failed and no replica holds its work: lost 1 of 2 "
                       "tp1-pp0 GPUs (50.0% of that role's capacity); the iteration cannot "
                       "complete";
  cr_assert_str_eq (iter_state (s, 1), "failed");
  cr_assert_str_eq (iter_state (s, 2), "failed");
  g_autofree char *want = g_strdup_printf ("link:n0.gpu3/n0.nvswitch@iter1; %s; %s",
                                           CUT_NOTE ("3", "n0.gpu3"), reason);
  cr_assert_str_eq (iter_note (s, 1), want);
  const char *fg[] = { "gpu:3@iter1", NULL };
  g_autoptr (cJSON) g = run_tiny ("h200-1x4", "tppp", opts, "analytic", 2, fg);
  g_autofree char *gpu_note = g_strdup_printf ("gpu:3@iter1; %s", reason);
  cr_assert_str_eq (iter_note (g, 1), gpu_note);
}

/* (5) Two halves of equal GPUs: on h200-2x2-loopback, failing either node's only NIC leaves
 * {GPU 0, 1} and {GPU 2, 3}; the half holding GPU 0 stays, so GPUs 2 and 3 are cut off. EP
 * with ep 2 works on GPUs 0 and 1 only: nothing is lost, fault = T0 + 1 ms, recovered = T0
 * (had the other half stayed, GPUs 0 and 1 would be lost and the run failed). Failing node
 * 1's NIC keeps node 0's, so the all-to-alls of {0, 1} (NVSwitch) are unchanged too. */
Test (fault_matrix, cut_in_halves_keeps_gpu_0_half)
{
  static const char *const specs[] = { "link:n0.nic0@iter1", "link:n1.nic0@iter1" };
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      const char *f[] = { specs[i], NULL };
      g_autoptr (cJSON) s = run_tiny ("h200-2x2-loopback", "ep", "{\"ep\": 2}", "analytic", 3,
                                      f);
      AfdTime t0 = iter_ns (s, 0);
      assert_iter (s, 1, "fault", t0 + DETECT_NS);
      assert_iter (s, 2, "recovered", t0);
      cr_assert (strstr (iter_note (s, 1), "GPUs 2, 3 ('n1.gpu0', 'n1.gpu1') are cut off from "
                         "the other GPUs by the failed links and count as failed") != NULL,
                 "%s: %s", specs[i], iter_note (s, 1));
    }
}

/* The one case a failed link still fails the run as such: the main component's GPUs cannot
 * route among themselves. On tests/data/fault-1x4-mesh.json (NVLink mesh, no switch) the
 * failed link GPU 0 ↔ 1 cuts nothing off (the GPUs stay connected through GPUs 2 and 3), but
 * routes never pass through a GPU: EP4 has no route from GPU 0 to GPU 1. */
Test (fault_matrix, main_component_without_route_fails)
{
  const char *f[] = { "link:n0.gpu0/n0.gpu1@iter1", NULL };
  g_autoptr (cJSON) s = run_tiny (TEST_DATA "/fault-1x4-mesh.json", "ep",
                                  "{\"micro_batches\": 1}", "analytic", 3, f);
  cr_assert_str_eq (iter_state (s, 0), "healthy");
  cr_assert_str_eq (iter_state (s, 1), "failed");
  cr_assert_str_eq (iter_note (s, 1),
                    "link:n0.gpu0/n0.gpu1@iter1; the failed links disconnect the cluster "
                    "(fault-1x4-mesh: links: no route from GPU 'n0.gpu0' to GPU 'n0.gpu1' "
                    "(routes never pass through a GPU)); the iteration cannot complete");
}

/* A cut at a simulated time (@t): GPU 3 of EP ep 2 cut off at t = ⌊T0/2⌋ ns into iteration 0
 * loses the work done so far, as a failure at t does (docs/models/faults.md "Faults at a
 * simulated time"): iteration 0 = t + 1 ms + T0, iteration 1 = T0 (recovered); the note names
 * the cut-off GPU after the timing. */
Test (fault_matrix, cut_off_at_time)
{
  /* A straggler on GPU 3, which EP ep 2 leaves idle, changes nothing
   * (fault_matrix/straggler_on_idle_gpu_is_free): the healthy time in a fault run's form. */
  const char *h[] = { "straggler:3:2", NULL };
  g_autoptr (cJSON) healthy = run_tiny ("h200-1x4", "ep", "{\"ep\": 2}", "analytic", 1, h);
  AfdTime t0 = iter_ns (healthy, 0), t = t0 / 2;
  g_autofree char *spec = g_strdup_printf ("link:n0.gpu3/n0.nvswitch@t=%" G_GINT64_FORMAT "ns",
                                           t);
  const char *f[] = { spec, NULL };
  g_autoptr (cJSON) s = run_tiny ("h200-1x4", "ep", "{\"ep\": 2}", "analytic", 2, f);
  assert_iter (s, 0, "fault", t + DETECT_NS + t0);
  assert_iter (s, 1, "recovered", t0);
  const char *note = iter_note (s, 0);
  cr_assert (g_str_has_suffix (note, "; " CUT_NOTE ("3", "n0.gpu3")), "note: %s", note);
}
