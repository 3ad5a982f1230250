/* SPDX-License-Identifier: MIT */
/* Tests for sim/collective.c and sim/collective-flow.c: closed forms in both fidelities,
 * all-to-all-v volumes, contention, the tuner, bad inputs. The worked example of
 * docs/models/collectives.md is collective/worked_example_a100_allreduce. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/engine.h"
#include "sim/network.h"
#include "tests/cluster-test-helpers.h"
#include "tests/test-helpers.h"

/* A generated cluster with zero link latency: @nodes x @gpus, NVSwitch of @up_bw, one NIC of
 * @nic_bw per GPU on one switch. */
static AfdCluster *
make_cluster (guint nodes, guint gpus, double up_bw, double nic_bw)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "A100-SXM4-80GB", nodes, gpus, up_bw, nodes > 1 ? gpus : 0,
                          nic_bw);
  AfdCluster *c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  return c;
}

/* Ideal parameters with one per-step latency α for every tier and protocol. */
static void
params_alpha (AfdCollectiveParams *p, double alpha_s)
{
  afd_collective_params_ideal (p);
  for (int a = 0; a < AFD_ALGO_COUNT; a++)
    for (int k = 0; k < AFD_PROTO_COUNT; k++)
      p->intra_latency_s[a][k] = p->inter_latency_s[a][k] = alpha_s;
}

/* Ideal parameters, no latency, one flow-mode ring, and NCCL's channel reduction for @proto on
 * two nodes: @channels channels of 512 threads, @threshold bytes per thread. */
static void
params_channels (AfdCollectiveParams *p, guint channels, AfdProtocol proto, double threshold)
{
  params_alpha (p, 0);
  p->channels = 1;
  p->nccl_channels[1] = channels;
  p->max_threads[proto] = 512;
  p->thread_threshold_bytes[proto] = threshold;
}

static void
on_done (AfdNetsim *sim, gpointer user_data)
{
  AfdTime *t = user_data;
  *t = afd_engine_now (afd_netsim_engine (sim));
}

/* Runs @coll alone in flow mode and returns its duration in ns; @out_stats (nullable) gets
 * the flow simulator's counters. */
static AfdTime
flow_run (AfdNetwork *net, const AfdCollective *coll, const AfdCollectiveParams *p,
          AfdNetsimStats *out_stats)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdNetsim) sim = afd_netsim_new (net, engine);
  AfdTime done = -1;
  cr_assert (afd_netsim_start_collective (sim, coll, p, on_done, &done, &error));
  afd_assert_no_error (error);
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert (done >= 0, "the collective never finished");
  if (out_stats != NULL)
    afd_netsim_stats (sim, out_stats);
  return done;
}

static AfdTime
flow_time (AfdNetwork *net, const AfdCollective *coll, const AfdCollectiveParams *p)
{
  return flow_run (net, coll, p, NULL);
}

/* Uncontended ring all-reduce equals 2(n-1)α + 2(n-1)/n·S/B in both fidelities, to the ns.
 * n = 8, B = 100 GB/s, S = 8 MB: each step moves S/n = 1 MB in 10 us; α = 2 us;
 * 14 × 2 + 14 × 10 = 168 us. */
Test (collective, ring_allreduce_closed_form_one_node)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 8, 100e9, 0);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 8, 8e6,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 168e-6, 1e-12, "analytic %.12g", t);
  AfdTime ft = flow_time (net, &coll, &p);
  cr_assert (llabs (ft - 168000) <= 1, "flow %" G_GINT64_FORMAT " ns", ft);
}

/* On a fault's cluster every member's route counts: GPU 7's links to the NVSwitch at half
 * speed (50 GB/s) make the analytic one-node ring 2·7·2 µs + 2·7/8 · 8 MB / 50 GB/s = 28 +
 * 280 = 308 µs, whichever member it is; GPU 1's (on the first pair's route) the same; a copy
 * that scales nothing keeps 168 µs. Flow mode's ring is asynchronous (a rank's next step
 * waits only for its own neighbours), so one slow member costs less there than the
 * synchronous-step formula; by the ring's rotational symmetry GPU 7 and GPU 1 give the same
 * flow time, above the healthy 168 µs and at most the analytic 308 µs. */
Test (collective, fault_cluster_every_member_counts)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 8, 100e9, 0);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 8, 8e6,
                         NULL };
  g_autoptr (GError) error = NULL;
  guint nl = afd_cluster_link_count (c);
  g_autofree double *scale = g_new (double, nl);
  const guint slow[3] = { 7, 1, G_MAXUINT };
  const double want[3] = { 308e-6, 308e-6, 168e-6 };
  AfdTime ft[3];
  for (guint k = 0; k < 3; k++)
    {
      for (guint l = 0; l < nl; l++)
        {
          const AfdLink *link = afd_cluster_link (c, l);
          scale[l] = link->src == slow[k] || link->dst == slow[k] ? 0.5 : 1.0;
        }
      g_autoptr (AfdCluster) d = afd_cluster_copy_with_link_scale (c, scale, &error);
      afd_assert_no_error (error);
      cr_assert_eq (afd_cluster_links_scaled (d), slow[k] != G_MAXUINT);
      g_autoptr (AfdNetwork) net = afd_network_new (d);
      double t;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
      cr_assert_float_eq (t, want[k], 1e-12, "GPU %u slow: analytic %.12g", slow[k], t);
      ft[k] = flow_time (net, &coll, &p);
    }
  cr_assert (llabs (ft[2] - 168000) <= 1, "healthy copy: flow %" G_GINT64_FORMAT " ns", ft[2]);
  cr_assert (llabs (ft[0] - ft[1]) <= 1, "flow: GPU 7 %" G_GINT64_FORMAT " ns, GPU 1 %"
             G_GINT64_FORMAT " ns", ft[0], ft[1]);
  cr_assert (ft[0] > 168001 && ft[0] <= 308001, "flow %" G_GINT64_FORMAT " ns", ft[0]);
}

/* The same closed form holds across 2 nodes with one ring (channels = 1) when the NICs run
 * at the NVLink rate: every step, intra or inter, moves 1 MB in 10 us; n = 8 gives 168 us.
 * (With several channels, flow mode overlaps one channel's latency with another's transfer
 * and beats the synchronous-step formula.) */
Test (collective, ring_allreduce_closed_form_two_nodes)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 100e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  p.channels = 1;
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 8, 8e6,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  AfdCollectiveChoice ch;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, &ch, &t, &error));
  cr_assert_float_eq (t, 168e-6, 1e-12, "analytic %.12g", t);
  cr_assert_float_eq (ch.bus_bandwidth_bytes_per_s, 100e9, 1.0);
  AfdTime ft = flow_time (net, &coll, &p);
  cr_assert (llabs (ft - 168000) <= 1, "flow %" G_GINT64_FORMAT " ns", ft);
}

/* Ring all-gather is (n-1)α + (n-1)/n·S/B in both fidelities: 7 × (2 + 10) us = 84 us. */
Test (collective, ring_allgather_closed_form)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 8, 100e9, 0);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  guint group[8] = { 7, 6, 5, 4, 3, 2, 1, 0 };
  AfdCollective coll = { AFD_COLL_ALL_GATHER, AFD_ALGO_AUTO, AFD_PROTO_AUTO, group, 8, 8e6,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 84e-6, 1e-12);
  cr_assert (llabs (flow_time (net, &coll, &p) - 84000) <= 1);
}

/* Hierarchical all-reduce on 2 nodes x 4: intra RS 3 × 20 us + inter AR 2 × 40 us + intra AG
 * 3 × 20 us = 200 us (S = 8 MB, NVLink 100 GB/s, NIC 25 GB/s, no latency). */
Test (collective, hierarchical_allreduce_closed_form)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 25e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_HIERARCHICAL, AFD_PROTO_SIMPLE, group, 8,
                         8e6, NULL };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 200e-6, 1e-12, "analytic %.12g", t);
  cr_assert (llabs (flow_time (net, &coll, &p) - 200000) <= 2);
}

/* Two identical all-reduces at once on the same GPUs share every link: each takes twice as
 * long as alone (α = 0, so time is all bandwidth). */
Test (collective, concurrent_collectives_share_links)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 8, 100e9, 0);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 8, 8e6,
                         NULL };
  AfdTime alone = flow_time (net, &coll, &p);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdNetsim) sim = afd_netsim_new (net, engine);
  AfdTime a = -1, b = -1;
  cr_assert (afd_netsim_start_collective (sim, &coll, &p, on_done, &a, &error));
  cr_assert (afd_netsim_start_collective (sim, &coll, &p, on_done, &b, &error));
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (alone, 140000, "14 steps of 10 us");
  cr_assert (llabs (a - 2 * alone) <= 14 && llabs (b - 2 * alone) <= 14, "a %" G_GINT64_FORMAT,
             a);
}

/* All-to-all-v: the analytic time follows the busiest rank, the flow fidelity delivers every
 * byte of the matrix and cannot beat the busiest uplink. 4 GPUs, 1 GB/s each; rank 0 sends
 * 3 GB to rank 1 and 1 GB to every other peer: rank 0 sends 5 GB, rank 1 receives 5 GB: 5 s. */
Test (collective, all_to_all_v_volumes)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 4, 1e9, 0);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  double m[16];
  double total = 0;
  for (guint i = 0; i < 16; i++)
    {
      m[i] = (i / 4 == i % 4) ? 0 : 1e9;
      total += m[i];
    }
  m[0 * 4 + 1] = 3e9;
  total += 2e9;
  guint group[4] = { 0, 1, 2, 3 };
  AfdCollective coll = { AFD_COLL_ALL_TO_ALL_V, AFD_ALGO_AUTO, AFD_PROTO_SIMPLE, group, 4, 0, m };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  afd_assert_no_error (error);
  cr_assert_float_eq (t, 5.0, 1e-12);
  AfdNetsimStats st;
  AfdTime done = flow_run (net, &coll, &p, &st);
  /* 12 flows of the matrix + the start timer (0 bytes). */
  cr_assert_eq (st.bytes_delivered, total);
  cr_assert_eq (st.flows_finished, 13);
  cr_assert (done >= 5 * AFD_TIME_NS_PER_S, "flow %" G_GINT64_FORMAT, done);
}

/* Uniform all-to-all equals all-to-all-v with S/n everywhere, and its volumes match
 * nccl-tests: 2 nodes x 4, per rank (n-ppn)/n·S crosses the NIC. */
Test (collective, all_to_all_uniform_matches_v)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 25e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  double S = 8e6, m[64];
  for (guint i = 0; i < 64; i++)
    m[i] = (i / 8 == i % 8) ? 0 : S / 8;
  AfdCollective a2a = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, group, 8, S, NULL };
  AfdCollective a2av = { AFD_COLL_ALL_TO_ALL_V, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, group, 8, 0, m };
  g_autoptr (GError) error = NULL;
  double t1, t2;
  cr_assert (afd_collective_time_analytic (net, &a2a, &p, NULL, &t1, &error));
  cr_assert (afd_collective_time_analytic (net, &a2av, &p, NULL, &t2, &error));
  cr_assert_float_eq (t1, t2, 1e-15);
  /* Inter-node: 4 × 1 MB per rank over a 25 GB/s NIC = 160 us (NVLink part: 30 us). */
  cr_assert_float_eq (t1, 160e-6, 1e-12);
  AfdTime f1 = flow_time (net, &a2a, &p);
  cr_assert (llabs (f1 - 160000) <= 4, "flow %" G_GINT64_FORMAT, f1);
}

/* Two-stage all-to-all sends one message per peer node and forwards over NVLink; it moves the
 * same bytes across the network as direct, so on this cluster it takes the same 160 us. */
Test (collective, two_stage_all_to_all)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 25e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective a2a = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_TWO_STAGE, AFD_PROTO_SIMPLE, group, 8, 8e6,
                        NULL };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &a2a, &p, NULL, &t, &error));
  afd_assert_no_error (error);
  cr_assert_float_eq (t, 160e-6, 1e-12);
  AfdNetsimStats st;
  AfdTime done = flow_run (net, &a2a, &p, &st);
  /* Per rank: 3 NVLink sends of 1 MB, 1 network send of 4 MB, 3 forwards of 1 MB. */
  cr_assert_eq (st.bytes_delivered, 8 * (3e6 + 4e6 + 3e6));
  cr_assert (done >= 160000, "flow %" G_GINT64_FORMAT, done);
}

/* Broadcast, reduce, reduce-scatter and send/recv finish in flow mode and deliver bytes. */
Test (collective, other_ops_run_in_flow_mode)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 25e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 1e-6);
  guint group[8] = { 5, 0, 1, 2, 3, 4, 6, 7 };
  static const AfdCollectiveOp ops[] = { AFD_COLL_BROADCAST, AFD_COLL_REDUCE,
                                         AFD_COLL_REDUCE_SCATTER, AFD_COLL_SEND_RECV };
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      AfdCollective coll = { ops[i], AFD_ALGO_AUTO, AFD_PROTO_AUTO, group,
                             ops[i] == AFD_COLL_SEND_RECV ? 2 : 8, 64e6, NULL };
      g_autoptr (GError) error = NULL;
      double t;
      AfdCollectiveChoice ch;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, &ch, &t, &error));
      afd_assert_no_error (error);
      AfdTime ft = flow_time (net, &coll, &p);
      /* Flow mode adds pipeline fill for chains and may hide per-step latency behind other
       * channels' transfers, but never beats the bandwidth term. */
      cr_assert (ft >= afd_time_from_seconds (t - ch.latency_s) - 8,
                 "%s: flow %" G_GINT64_FORMAT " < %g", afd_collective_op_name (ops[i]), ft, t);
      cr_assert (ft <= afd_time_from_seconds (t) * 1.1, "%s: flow %" G_GINT64_FORMAT " vs %g",
                 afd_collective_op_name (ops[i]), ft, t);
    }
}

/* Worked example (docs/models/collectives.md): 1 GiB all-reduce on one DGX A100 with the
 * defaults. Tuner: ring/Simple. Latency 8.4 + 14 × (3.4 + 0.2) = 58.8 us (NCCL base, 14
 * steps of NCCL's NVLink Simple latency + the 2 × 0.1 us route); bandwidth 300 GB/s × 0.77 =
 * 231 GB/s; 2·7/8 · 2^30 / 231e9 = 8134.41 us; total 8193.21 us; busbw = 1.75 × 2^30 / t =
 * 229.34 GB/s. */
Test (collective, worked_example_a100_allreduce)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("dgx-a100-x2", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_AUTO, AFD_PROTO_AUTO, group, 8,
                         1073741824.0, NULL };
  double t;
  AfdCollectiveChoice ch;
  cr_assert (afd_collective_time_analytic (net, &coll, NULL, &ch, &t, &error));
  cr_assert_eq (ch.algo, AFD_ALGO_RING);
  cr_assert_eq (ch.proto, AFD_PROTO_SIMPLE);
  cr_assert_float_eq (ch.latency_s, 58.8e-6, 1e-12);
  double expect = 58.8e-6 + 1.75 * 1073741824.0 / 231e9;
  cr_assert_float_eq (t, expect, 1e-12, "got %.9g", t);
  double busbw = 1073741824.0 / t * afd_collective_bus_factor (AFD_COLL_ALL_REDUCE, 8);
  cr_assert_float_eq (busbw / 1e9, 229.34, 0.005);
}

/* The tuner picks LL for tiny messages and NVLS for large all-reduces on H100 NVSwitch. */
Test (collective, tuner_choices)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("dgx-h100-x4", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_AUTO, AFD_PROTO_AUTO, group, 8, 1024,
                         NULL };
  double t;
  AfdCollectiveChoice ch;
  cr_assert (afd_collective_time_analytic (net, &coll, NULL, &ch, &t, &error));
  cr_assert_eq (ch.proto, AFD_PROTO_LL);
  coll.bytes = 1073741824.0;
  cr_assert (afd_collective_time_analytic (net, &coll, NULL, &ch, &t, &error));
  cr_assert_eq (ch.algo, AFD_ALGO_NVLS);
  cr_assert_eq (afd_collective_bus_factor (AFD_COLL_ALL_REDUCE, 8), 1.75);
  cr_assert_eq (afd_collective_bus_factor (AFD_COLL_ALL_TO_ALL, 8), 0.875);
  cr_assert_eq (afd_collective_bus_factor (AFD_COLL_BROADCAST, 8), 1.0);
}

/* Inapplicable algorithms and bad groups are AFD_ERROR_CONFIG with a clear message. */
Test (collective, rejects_bad_requests)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("dgx-h100-x4", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint group[16];
  for (guint i = 0; i < 16; i++)
    group[i] = i;
  double t;
  AfdCollective nvls = { AFD_COLL_ALL_REDUCE, AFD_ALGO_NVLS, AFD_PROTO_AUTO, group, 16, 1e6,
                         NULL };
  cr_assert_not (afd_collective_time_analytic (net, &nvls, NULL, NULL, &t, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "'nvls'");
  g_clear_error (&error);
  AfdCollective two = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_TWO_STAGE, AFD_PROTO_AUTO, group, 8, 1e6,
                        NULL };
  cr_assert_not (afd_collective_time_analytic (net, &two, NULL, NULL, &t, &error));
  g_clear_error (&error);
  guint dup[3] = { 1, 2, 1 };
  AfdCollective d = { AFD_COLL_ALL_GATHER, AFD_ALGO_AUTO, AFD_PROTO_AUTO, dup, 3, 1e6, NULL };
  cr_assert_not (afd_collective_time_analytic (net, &d, NULL, NULL, &t, &error));
  afd_assert_error_contains (error, "appears twice");
  g_clear_error (&error);
  guint far[2] = { 0, 999 };
  AfdCollective f = { AFD_COLL_SEND_RECV, AFD_ALGO_AUTO, AFD_PROTO_AUTO, far, 2, 1e6, NULL };
  cr_assert_not (afd_collective_time_analytic (net, &f, NULL, NULL, &t, &error));
  afd_assert_error_contains (error, "out of range");
  g_clear_error (&error);
  AfdCollective neg = { AFD_COLL_BROADCAST, AFD_ALGO_AUTO, AFD_PROTO_AUTO, group, 4, -1, NULL };
  cr_assert_not (afd_collective_time_analytic (net, &neg, NULL, NULL, &t, &error));
  afd_assert_error_contains (error, "bytes must be");
}

/* Names round-trip, and nccl-tests spellings are accepted. */
Test (collective, names)
{
  AfdCollectiveOp op;
  cr_assert (afd_collective_op_from_name ("allreduce", &op));
  cr_assert_eq (op, AFD_COLL_ALL_REDUCE);
  cr_assert (afd_collective_op_from_name ("all-to-all-v", &op));
  cr_assert_eq (op, AFD_COLL_ALL_TO_ALL_V);
  AfdCollectiveAlgo algo;
  cr_assert (afd_collective_algo_from_name ("two-stage", &algo));
  cr_assert_str_eq (afd_collective_algo_name (algo), "two-stage");
  AfdProtocol proto;
  cr_assert (afd_protocol_from_name ("ll128", &proto));
  cr_assert_not (afd_protocol_from_name ("ll64", &proto));
}

/* With 4 NICs for 8 GPUs per node, the 4 ring channels still cross nodes through 4 distinct
 * NICs: 2 nodes x 8 GPUs, NVLink 100 GB/s, 4 x 25 GB/s NICs, S = 16 MB, no latency:
 * 30 steps of 250 kB per channel at 25 GB/s = 30 x 10 us = 300 us in both fidelities. */
Test (collective, ring_channels_use_distinct_shared_nics)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "A100-SXM4-80GB", 2, 8, 100e9, 4, 25e9);
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[16];
  for (guint i = 0; i < 16; i++)
    group[i] = i;
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 16, 16e6,
                         NULL };
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 300e-6, 1e-12);
  AfdTime ft = flow_time (net, &coll, &p);
  cr_assert (llabs (ft - 300000) <= 30, "flow %" G_GINT64_FORMAT, ft);
}

/* The tree all-reduce in flow mode (one node x 8, NVLink 100 GB/s, no latency, S = 64 MB):
 * two trees of S/2, each a chain through the node, reduced up and broadcast down in chunks of
 * 128 KiB (245 per tree). Every byte crosses 2(n-1) edges once: 14 x 64 MB delivered. A
 * middle GPU sends S/2 up and S/2 down per tree, 2S in all, so t >= 2S/B = 1280 us; the
 * pipeline adds at most 2(n-1) chunk hops at the shared rate B/4 (4 flows per uplink):
 * 14 x 130.6 kB / 25 GB/s = 73.1 us. */
Test (collective, tree_allreduce_in_flow_mode)
{
  g_autoptr (AfdCluster) c = make_cluster (1, 8, 100e9, 0);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_TREE, AFD_PROTO_SIMPLE, group, 8, 64e6,
                         NULL };
  AfdNetsimStats st;
  AfdTime done = flow_run (net, &coll, &p, &st);
  cr_assert_float_eq (st.bytes_delivered, 14 * 64e6, 1e-3, "got %.17g", st.bytes_delivered);
  double chunk = 32e6 / 245;
  cr_assert (done >= 1280000, "flow %" G_GINT64_FORMAT, done);
  cr_assert (done <= 1280000 + afd_time_from_seconds (14 * chunk / 25e9) + 14,
             "flow %" G_GINT64_FORMAT, done);
}

/* NCCL's LL bandwidth cap and channel reduction, in both fidelities (2 nodes x 4 GPUs,
 * NVLink and NICs 100 GB/s, no latency): ring LL bus bandwidth = min(llMaxBw, f·B) × channels
 * run / channels, channels run = clamp(⌊S / (512 threads × 8 B × 8 ranks)⌋, 1, 4).
 * S = 8 MiB: 4 channels, min(20, 0.5 × 100) = 20 GB/s, t = 1.75 × 8 MiB / 20 GB/s = 734.0032 us;
 * S = 32 KiB: 1 channel of 4, min(20, 50 / 4) = 12.5 GB/s, t = 1.75 × 32768 / 12.5 GB/s =
 * 4.58752 us. */
Test (collective, ll_cap_and_channel_reduction)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 100e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_channels (&p, 4, AFD_PROTO_LL, 8);
  p.protocol_factor[AFD_PROTO_LL] = 0.5;
  p.ll_max_bandwidth_bytes_per_s[1] = 20e9;
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_LL, group, 8, 8388608,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  AfdCollectiveChoice ch;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, &ch, &t, &error));
  cr_assert_float_eq (t, 734.0032e-6, 1e-12, "analytic %.12g", t);
  cr_assert_float_eq (ch.bandwidth_fraction, 0.4, 1e-12);
  AfdTime ft = flow_time (net, &coll, &p);
  /* each of the 14 steps (52428.8 ns) rounds to the ns */
  cr_assert (llabs (ft - 734003) <= 14, "flow %" G_GINT64_FORMAT " ns", ft);
  coll.bytes = 32768;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 4.58752e-6, 1e-15, "analytic %.12g", t);
}

/* The measured per-channel rate (collectives.md, "channels run"): the c channels NCCL runs of
 * C carry min(B, c·rate) instead of B·c/C. 2 nodes × 4 GPUs, NVLink and NICs 100 GB/s, no
 * latency, Simple, C = 8, c = clamp(⌊S / (512 threads × 64 B)⌋, 1, 8):
 *   S = 64 KiB, ring:  c = 2; linear split 100 × 2/8 = 25 GB/s, t = 1.75 × 65536 / 25 GB/s =
 *                      4.58752 us; rate 20 GB/s: min(100, 40) = 40 GB/s, t = 2.8672 us;
 *   S = 64 KiB, tree:  2S / 25 GB/s = 5.24288 us; with the rate 2S / 40 GB/s = 3.2768 us;
 *   S = 64 MiB, ring:  c = 8 = C, the rate does not bind (8 × 20 > 100): 1.75 × 64 MiB /
 *                      100 GB/s = 1174.40512 us either way. */
Test (collective, channel_rate_caps_reduced_channels)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 100e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_channels (&p, 8, AFD_PROTO_SIMPLE, 64);
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_SIMPLE, group, 8, 65536,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  static const double want[2][3] = { { 4.58752e-6, 5.24288e-6, 1174.40512e-6 },
                                     { 2.8672e-6, 3.2768e-6, 1174.40512e-6 } };
  for (int with_rate = 0; with_rate < 2; with_rate++)
    {
      p.channel_rate_bytes_per_s[AFD_PROTO_SIMPLE] = with_rate ? 20e9 : 0;
      coll.algo = AFD_ALGO_RING;
      coll.bytes = 65536;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
      cr_assert_float_eq (t, want[with_rate][0], 1e-15, "ring, rate %d: %.12g", with_rate, t);
      coll.algo = AFD_ALGO_TREE;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
      cr_assert_float_eq (t, want[with_rate][1], 1e-15, "tree, rate %d: %.12g", with_rate, t);
      coll.algo = AFD_ALGO_RING;
      coll.bytes = 67108864;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
      cr_assert_float_eq (t, want[with_rate][2], 1e-12, "64 MiB, rate %d: %.12g", with_rate, t);
    }
}

/* The per-channel rates by GPU generation (afd_collective_params_init defaults): Hopper gets
 * the measured 7.2 / 17.6 / 21.6 GB/s (LL / LL128 / Simple), so its default time equals the
 * time with those rates set and differs from a rate of 1 % more; Ampere keeps NCCL's c/C split,
 * which equals a per-channel rate of exactly B/C = 300 GB/s × 0.77 / 24 = 9.625 GB/s (Simple)
 * and differs from 1 % more. One node of 8, ring, sizes that run fewer channels than C. */
Test (collective, channel_rates_by_generation)
{
  static const struct {
    const char *cluster;
    AfdProtocol proto;
    double bytes, rate;
  } cases[] = {
    { "dgx-h100-x4", AFD_PROTO_LL, 131072, 7.2e9 },
    { "dgx-h100-x4", AFD_PROTO_LL128, 65536, 17.6e9 },
    { "dgx-h100-x4", AFD_PROTO_SIMPLE, 65536, 21.6e9 },
    { "dgx-a100-x2", AFD_PROTO_SIMPLE, 65536, 300e9 * 0.77 / 24 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdCluster) c = afd_cluster_load (cases[i].cluster, &error);
      afd_assert_no_error (error);
      g_autoptr (AfdNetwork) net = afd_network_new (c);
      guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
      AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, cases[i].proto, group, 8,
                             cases[i].bytes, NULL };
      double t_default, t_rate, t_more;
      cr_assert (afd_collective_time_analytic (net, &coll, NULL, NULL, &t_default, &error));
      AfdCollectiveParams p;
      afd_collective_params_init (&p);
      p.channel_rate_bytes_per_s[cases[i].proto] = cases[i].rate;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t_rate, &error));
      p.channel_rate_bytes_per_s[cases[i].proto] = cases[i].rate * 1.01;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t_more, &error));
      cr_assert_float_eq (t_default, t_rate, 1e-12 * t_rate, "case %zu: %.12g vs %.12g", i,
                          t_default, t_rate);
      cr_assert (t_more < t_rate - 1e-10, "case %zu: a faster channel is faster", i);
    }
}

/* NCCL's treeCorrectionFactor scales tree bandwidth by message size: 2 MiB is 2^15 × 64 B,
 * LL column 0.6, so a 2-node tree LL all-reduce at 100 GB/s (no latency) takes
 * 2 × 2 MiB / 60 GB/s = 69.9050667 us; 1 GiB is past the table (factor 1): 21.474836 ms. */
Test (collective, tree_correction_factor)
{
  g_autoptr (AfdCluster) c = make_cluster (2, 4, 100e9, 100e9);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  p.tree_correction = TRUE;
  guint group[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_TREE, AFD_PROTO_LL, group, 8, 2097152,
                         NULL };
  g_autoptr (GError) error = NULL;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 2 * 2097152.0 / 60e9, 1e-15, "analytic %.12g", t);
  coll.bytes = 1073741824;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 2 * 1073741824.0 / 100e9, 1e-12, "analytic %.12g", t);
}

/* Tree pipeline fill across nodes (enqueue.cc calcCollChunking, tree LL128): the chunk starts
 * at 576000 B and halves while ⌊S / (c·chunk)⌋ < s·64/ppn (chunk > 128 KiB), then while
 * < s·16/ppn (chunk > 32 KiB), s = 1 + ⌊log2 N⌋ + ppn/10; t = 2S/B + (k − 1)·2·min(S, c·chunk)/B
 * with k = 2⌈log2 N⌉ store-and-forward network hops. c = 2 channels, B = 100 GB/s (4 GPUs at
 * 100 GB/s NVLink, 4 NICs of 25 GB/s per node), α = 0, no protocol factor:
 *   4 × 4, S = 16 MiB: s = 3.4, thresholds 54.4 and 13.6; ⌊S/(2·576000)⌋ = 14 → 288000 (29)
 *     → 144000 (58, stop); round 288000 B; k = 4: 335.54432 + 3·2·288000/1e11 s = +17.28 µs;
 *   2 × 4, S = 16 MiB: s = 2.4, thresholds 38.4 and 9.6 → 144000 again; k = 2: +5.76 µs;
 *   4 × 4, S = 200000 B: 0 chunks per round → 288000, 144000, 72000, then 36000, 18000;
 *     round 36000 B < S: 4 µs + 3·2·36000/1e11 s = 4 + 2.16 µs;
 *   LL (tree_chunk_bytes 0): no fill. */
Test (collective, tree_pipeline_fill)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c4 = make_cluster (4, 4, 100e9, 25e9);
  g_autoptr (AfdCluster) c2 = make_cluster (2, 4, 100e9, 25e9);
  g_autoptr (AfdNetwork) net4 = afd_network_new (c4);
  g_autoptr (AfdNetwork) net2 = afd_network_new (c2);
  AfdCollectiveParams p;
  params_alpha (&p, 0);
  for (int k = 0; k < 3; k++)
    p.nccl_channels[k] = 2;
  p.tree_stages_per_level = 2;
  p.tree_chunk_bytes[AFD_PROTO_LL128] = 576000;
  p.ll128_across_nodes = TRUE;
  guint group[16];
  for (guint i = 0; i < 16; i++)
    group[i] = i;
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_TREE, AFD_PROTO_LL128, group, 16,
                         16777216, NULL };
  double t;
  cr_assert (afd_collective_time_analytic (net4, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 335.54432e-6 + 17.28e-6, 1e-12, "4 nodes %.12g", t);
  coll.group_size = 8;
  cr_assert (afd_collective_time_analytic (net2, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 335.54432e-6 + 5.76e-6, 1e-12, "2 nodes %.12g", t);
  coll.group_size = 16;
  coll.bytes = 200000;
  cr_assert (afd_collective_time_analytic (net4, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 4e-6 + 2.16e-6, 1e-12, "small %.12g", t);
  coll.bytes = 16777216;
  coll.proto = AFD_PROTO_LL;
  cr_assert (afd_collective_time_analytic (net4, &coll, &p, NULL, &t, &error), "%s",
             error ? error->message : "");
  cr_assert_float_eq (t, 335.54432e-6, 1e-12, "LL %.12g", t);
  afd_assert_no_error (error);
}

/* NVLS-Tree (NVLS in each node, a tree of nodes): t = α_nvl + 2⌈log2 N⌉·α_net + S / min(B_nvls,
 * B_node_out × (1 if N <= 2 else 1/2)). 4 GPUs per node at 100 GB/s, 4 NICs of 25 GB/s,
 * α = 2 us, S = 8 MB: 2 nodes 2 + 4 + 80 = 86 us; 4 nodes 2 + 8 + 160 = 170 us; flow mode
 * takes the analytic time; the tuner picks it only when nvls_tree_auto is set. */
Test (collective, nvls_tree_closed_form)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 4, 4, 100e9, 4, 25e9);
  g.scale_up_nvls = TRUE;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  guint group[16];
  for (guint i = 0; i < 16; i++)
    group[i] = i;
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_NVLS_TREE, AFD_PROTO_AUTO, group, 8, 8e6,
                         NULL };
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 86e-6, 1e-12, "analytic %.12g", t);
  AfdTime ft = flow_time (net, &coll, &p);
  cr_assert (llabs (ft - 86000) <= 1, "flow %" G_GINT64_FORMAT " ns", ft);
  coll.group_size = 16;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 170e-6, 1e-12, "analytic %.12g", t);
  AfdCollectiveChoice ch;
  coll.algo = AFD_ALGO_AUTO;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, &ch, &t, &error));
  cr_assert_neq (ch.algo, AFD_ALGO_NVLS_TREE);
  p.nvls_tree_auto = TRUE;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, &ch, &t, &error));
  cr_assert_eq (ch.algo, AFD_ALGO_NVLS_TREE);
}

/* NCCL's NVLS chunk pipeline fills once per loop of nvls channels × ranks × chunk (enqueue.cc
 * chunk rules): one node of 8 GPUs at 100 GB/s, α = 2 us, 2 NVLS channels, 3 stages, S = 8 MiB:
 * chunk 64 KiB (S < 64·16·128 KiB, not < 8·16·64 KiB), loop 1 MiB, t = 2 + (8 + 2·1) MiB / 100 GB/s
 * = 106.8576 us; NVLS-Tree adds (2 + 2⌈log2 N⌉ − 1) loops: 4 GPUs per node, 1 channel, S = 8 MB,
 * 2 nodes loop 512 KiB at 100 GB/s: 86 + 15.72864 us; 4 nodes loop 256 KiB (64 KiB chunks) at
 * 50 GB/s: 170 + 26.2144 us; all three match in flow mode. */
Test (collective, nvls_pipeline_fill)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 1, 8, 100e9, 8, 25e9);
  g.scale_up_nvls = TRUE;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  AfdCollectiveParams p;
  params_alpha (&p, 2e-6);
  p.nvls_channels = 2;
  p.nvls_pipeline_stages = 3;
  p.nvls_chunk_bytes = 131072;
  guint group[16];
  for (guint i = 0; i < 16; i++)
    group[i] = i;
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_NVLS, AFD_PROTO_AUTO, group, 8, 8388608,
                         NULL };
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 106.8576e-6, 1e-12, "analytic %.12g", t);
  AfdTime ft = flow_time (net, &coll, &p);
  cr_assert (llabs (ft - 106858) <= 1, "flow %" G_GINT64_FORMAT " ns", ft);

  g.nodes = 4;
  g.gpus_per_node = 4;
  g.nics_per_node = 4;
  g_autoptr (AfdCluster) c4 = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net4 = afd_network_new (c4);
  params_alpha (&p, 2e-6);
  p.nvls_channels = 1;
  p.nvls_tree_pipeline_stages = 2;
  p.nvls_tree_stages_per_level = 2;
  coll.algo = AFD_ALGO_NVLS_TREE;
  coll.bytes = 8e6;
  cr_assert (afd_collective_time_analytic (net4, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 86e-6 + 15.72864e-6, 1e-12, "analytic %.12g", t);
  ft = flow_time (net4, &coll, &p);
  cr_assert (llabs (ft - 101729) <= 1, "flow %" G_GINT64_FORMAT " ns", ft);
  coll.group_size = 16;
  cr_assert (afd_collective_time_analytic (net4, &coll, &p, NULL, &t, &error));
  cr_assert_float_eq (t, 170e-6 + 26.2144e-6, 1e-12, "analytic %.12g", t);
}

/* Cluster files say whether NVLS is available (issue #17): h200-1x4 describes the machines
 * measured, which ran NCCL with NVLS off, so a 4-GPU all-reduce of 256 MiB runs ring there
 * (the tuner picked NVLS before), and asking for NVLS is refused. */
Test (collective, h200_1x4_has_no_nvls)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("h200-1x4", &error);
  afd_assert_no_error (error);
  cr_assert_not (afd_cluster_nvls (c));
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint group[4] = { 0, 1, 2, 3 };
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_AUTO, AFD_PROTO_AUTO, group, 4,
                         268435456.0, NULL };
  AfdCollectiveChoice choice;
  double t;
  cr_assert (afd_collective_time_analytic (net, &coll, NULL, &choice, &t, &error));
  afd_assert_no_error (error);
  cr_assert_eq (choice.algo, AFD_ALGO_RING);
  coll.algo = AFD_ALGO_NVLS;
  cr_assert_not (afd_collective_time_analytic (net, &coll, NULL, &choice, &t, &error));
}

/* The NVLink ring efficiency per GPU count (issue #17 point 7; H200's nvlink_efficiency_by_gpus,
 * fitted by tools/fit-nccl-efficiency.py): on h200-1x4 the bandwidth term of a ring all-reduce,
 * t(1 GiB) - t(512 MiB) = 2(n-1)/n · 512 MiB / (450 GB/s · e(n)), uses e(2) = 0.7261,
 * e(3) = (0.7261 + 0.7874)/2 and e(4) = 0.7874 (Simple at all channels on both sizes), in
 * analytic and flow alike; an explicit scale_up_efficiency still wins. */
Test (collective, nvlink_efficiency_per_gpu_count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("h200-1x4", &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint group[4] = { 0, 1, 2, 3 };
  const double e[5] = { 0, 0, 0.7261, (0.7261 + 0.7874) / 2, 0.7874 };
  for (guint n = 2; n <= 4; n++)
    {
      double t[2];
      for (int i = 0; i < 2; i++)
        {
          AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_AUTO, group, n,
                                 i == 0 ? 536870912.0 : 1073741824.0, NULL };
          AfdCollectiveChoice choice;
          cr_assert (afd_collective_time_analytic (net, &coll, NULL, &choice, &t[i], &error));
          cr_assert_eq (choice.proto, AFD_PROTO_SIMPLE);
        }
      double want = 2.0 * (n - 1) / n * 536870912.0 / (450e9 * e[n]);
      cr_assert_float_eq (t[1] - t[0], want, want * 1e-12, "n = %u: %g vs %g", n, t[1] - t[0],
                          want);
    }
  AfdCollectiveParams p;
  afd_collective_params_init (&p);
  p.scale_up_efficiency = 0.82;
  double t[2];
  for (int i = 0; i < 2; i++)
    {
      AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_RING, AFD_PROTO_AUTO, group, 2,
                             i == 0 ? 536870912.0 : 1073741824.0, NULL };
      AfdCollectiveChoice choice;
      cr_assert (afd_collective_time_analytic (net, &coll, &p, &choice, &t[i], &error));
    }
  cr_assert_float_eq (t[1] - t[0], 536870912.0 / (450e9 * 0.82), 1e-15);
}
