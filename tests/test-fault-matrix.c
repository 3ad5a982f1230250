/* SPDX-License-Identifier: MIT */
/* test-fault-matrix.c - the strategy x fault-kind cells that tests/test-fault.c and
 * tests/test-fault-ep.c leave open (issue #8): stragglers on MA Separation, EP and AFD,
 * degraded and failed links on AFD, GPU failures on AFD and on data-parallel TP×PP, on tiny
 * configurations (tests/data/fault-ep-tiny.json: one MoE layer, H = 1024, 4 experts) with
 * expectations derived by hand from the healthy iteration (docs/models/faults.md). */
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
#include "tests/test-helpers.h"

#define TINY TEST_DATA "/fault-ep-tiny.json"

/* Every op's duration is rounded to 1 ns, so a scaled op can exceed X times its rounded
 * healthy duration by up to 1 ns: the slack for comparing a faulted time with X·T₀ is 1 ns
 * per op on the critical path, bounded here by 64 ns (the tiny graphs' paths are shorter). */
#define ROUNDING_S 64e-9

/* The composition root's cost-model lookup ("analytic" only here). */
static AfdCostModel *
costs_new (const char *spec, GError **error)
{
  const AfdCostModelClass *klass = afd_cost_model_lookup (spec, error);
  return klass != NULL ? afd_cost_model_new (klass, NULL, error) : NULL;
}

static const AfdPlugins plugins = {
  .strategy_lookup = afd_strategy_lookup,
  .strategy_list = afd_strategy_list,
  .cost_model_new = costs_new,
};

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
  g_free (e->network);
  e->network = g_strdup (network);
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

/* The summary's "iterations" entry @i of the only run. */
static const cJSON *
iteration (const cJSON *summary, int i)
{
  const cJSON *run = cJSON_GetArrayItem (cJSON_GetObjectItem (summary, "runs"), 0);
  const cJSON *it = cJSON_GetArrayItem (cJSON_GetObjectItem (run, "iterations"), i);
  cr_assert_not_null (it, "no iteration %d", i);
  return it;
}

static double
iter_time (const cJSON *summary, int i)
{
  const cJSON *t = cJSON_GetObjectItem (iteration (summary, i), "iteration_time_s");
  cr_assert (cJSON_IsNumber (t), "iteration %d has no time", i);
  return t->valuedouble;
}

static const char *
iter_state (const cJSON *summary, int i)
{
  return cJSON_GetObjectItem (iteration (summary, i), "state")->valuestring;
}

static const char *
iter_note (const cJSON *summary, int i)
{
  return cJSON_GetObjectItem (iteration (summary, i), "note")->valuestring;
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
 * the critical path of its own layer; X = 1 gives exactly T₀. */
Test (fault_matrix, straggler_bounds_each_strategy)
{
  for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
    {
      const Cell *c = &cells[i];
      g_autofree char *x2 = g_strdup_printf ("straggler:%u:2@iter1", c->gpu);
      g_autofree char *x3 = g_strdup_printf ("straggler:%u:1.5@iter2", c->gpu);
      g_autofree char *x1 = g_strdup_printf ("straggler:%u:1", c->gpu);
      const char *f2[] = { x2, x3, NULL }, *f1[] = { x1, NULL };
      g_autoptr (cJSON) s = run_tiny (c->cluster, c->strategy, c->options, "analytic", 3, f2);
      double t0 = iter_time (s, 0), t1 = iter_time (s, 1), t2 = iter_time (s, 2);
      cr_assert_str_eq (iter_state (s, 0), "healthy");
      cr_assert_str_eq (iter_state (s, 1), "degraded", "%s GPU %u", c->strategy, c->gpu);
      cr_assert (t1 > t0 && t1 <= 2 * t0 + ROUNDING_S, "%s GPU %u: T0 %g s, x2 %g s",
                 c->strategy, c->gpu, t0, t1);
      /* Stragglers multiply (2 × 1.5 = 3): at least the ×2 time, at most 1.5 × it. */
      cr_assert (t2 > t1 && t2 <= 1.5 * t1 + ROUNDING_S, "%s GPU %u: x2 %g s, x3 %g s",
                 c->strategy, c->gpu, t1, t2);
      g_autoptr (cJSON) one = run_tiny (c->cluster, c->strategy, c->options, "analytic", 2, f1);
      cr_assert (iter_time (one, 1) == iter_time (one, 0), "%s: factor 1 changed the time",
                 c->strategy);
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

/* Links on AFD, both fidelities: fraction 1 changes nothing; halving both NICs can at most
 * double each transfer and leaves compute alone, so T₀ < T' ≤ 2·T₀ (the A→F and F→A
 * hand-offs all cross the network); failing node 1's only NIC disconnects the FFN node:
 * "failed", no time. */
Test (fault_matrix, afd_links_degrade_and_disconnect)
{
  static const char *const networks[] = { "analytic", "flow" };
  const char *f[] = { "link:n0.nic0:1@iter1", "link:n0.nic0:0.5@iter2",
                      "link:n1.nic0:0.5@iter2", "link:n1.nic0@iter3", NULL };
  for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
    {
      g_autoptr (cJSON) s = run_tiny ("h200-2x2-loopback", "afd", "{}", networks[k], 4, f);
      double t0 = iter_time (s, 0);
      cr_assert (iter_time (s, 1) == t0, "%s: fraction 1 changed the time", networks[k]);
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
