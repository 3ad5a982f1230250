/* SPDX-License-Identifier: MIT */
/* Tests for sim/network.c and sim/netsim.c: routes, max-min sharing, conservation, link stats.
 * The worked example of docs/models/network.md is network/worked_example_maxmin. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "sim/engine.h"
#include "sim/network.h"
#include "tests/cluster-test-helpers.h"
#include "tests/test-helpers.h"

/* Records the delivery and send times of tagged transfers. */
typedef struct {
  AfdTime delivered_ns[16];
  AfdTime sent_ns[16];
  guint delivered;
} Times;

static void
on_transfer (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data, guint64 tag)
{
  Times *t = user_data;
  AfdTime now = afd_engine_now (afd_netsim_engine (sim));
  if (stage == AFD_TRANSFER_DELIVERED)
    {
      t->delivered_ns[tag] = now;
      t->delivered++;
    }
  else
    t->sent_ns[tag] = now;
}

/* A fixture: cluster + network + engine + simulator. */
typedef struct {
  AfdCluster *cluster;
  AfdNetwork *network;
  AfdEngine *engine;
  AfdNetsim *sim;
} Rig;

static void
rig_init (Rig *r, const char *cluster)
{
  g_autoptr (GError) error = NULL;
  r->cluster = afd_cluster_load (cluster, &error);
  afd_assert_no_error (error);
  r->network = afd_network_new (r->cluster);
  r->engine = afd_engine_new (1);
  r->sim = afd_netsim_new (r->network, r->engine);
}

static void
rig_clear (Rig *r)
{
  afd_netsim_free (r->sim);
  afd_engine_free (r->engine);
  afd_network_free (r->network);
  afd_cluster_free (r->cluster);
}

/* Two flows through one 1 GB/s link get half each: 1 GB each finishes at 2 s together. */
Test (network, two_flows_share_a_link_equally)
{
  Rig r;
  Times t = { 0 };
  rig_init (&r, TEST_DATA "/network-maxmin.json");
  /* a -> c and d -> c share the switch -> c link (1e9 B/s); latency is 0 in this file. */
  afd_netsim_start_transfer (r.sim, 0, 2, 1e9, 0, FALSE, on_transfer, &t, 0);
  afd_netsim_start_transfer (r.sim, 3, 2, 1e9, 0, FALSE, on_transfer, &t, 1);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered, 2);
  cr_assert_eq (t.delivered_ns[0], 2 * AFD_TIME_NS_PER_S);
  cr_assert_eq (t.delivered_ns[1], 2 * AFD_TIME_NS_PER_S);
  rig_clear (&r);
}

/* Worked example (docs/models/network.md): b is held to 0.25 GB/s by its own link, so a gets
 * the remaining 0.75 GB/s of the link into c; 1.5 GB and 0.5 GB both finish at 2 s. After
 * that, a third flow alone on an idle path runs at the full 1 GB/s. */
Test (network, worked_example_maxmin)
{
  Rig r;
  Times t = { 0 };
  rig_init (&r, TEST_DATA "/network-maxmin.json");
  afd_netsim_start_transfer (r.sim, 0, 2, 1.5e9, 0, TRUE, on_transfer, &t, 0);
  afd_netsim_start_transfer (r.sim, 1, 2, 0.5e9, 0, TRUE, on_transfer, &t, 1);
  afd_netsim_start_transfer (r.sim, 3, 0, 1e9, 0, TRUE, on_transfer, &t, 2);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered_ns[0], 2 * AFD_TIME_NS_PER_S, "got %" G_GINT64_FORMAT,
                t.delivered_ns[0]);
  cr_assert_eq (t.delivered_ns[1], 2 * AFD_TIME_NS_PER_S);
  /* d -> a shares no link with the others: 1 GB at 1 GB/s = 1 s. */
  cr_assert_eq (t.delivered_ns[2], 1 * AFD_TIME_NS_PER_S);
  cr_assert_eq (t.sent_ns[2], t.delivered_ns[2], "zero latency: sent == delivered");
  rig_clear (&r);
}

/* When a flow finishes, the survivors speed up: 1 GB and 3 GB on one 1 GB/s link end at 2 s
 * (both at 0.5 GB/s until the first is done) and 4 s (alone at 1 GB/s for the last 2 GB). */
Test (network, survivors_take_freed_bandwidth)
{
  Rig r;
  Times t = { 0 };
  rig_init (&r, TEST_DATA "/network-maxmin.json");
  afd_netsim_start_transfer (r.sim, 0, 2, 1e9, 0, FALSE, on_transfer, &t, 0);
  afd_netsim_start_transfer (r.sim, 3, 2, 3e9, 0, FALSE, on_transfer, &t, 1);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered_ns[0], 2 * AFD_TIME_NS_PER_S);
  cr_assert_eq (t.delivered_ns[1], 4 * AFD_TIME_NS_PER_S);
  /* The link into c was busy for the whole 4 s and carried 4 GB. */
  guint links[AFD_NETWORK_MAX_HOPS];
  guint n = afd_network_route (r.network, 0, 2, links);
  AfdLinkStats st;
  afd_netsim_link_stats (r.sim, links[n - 1], &st);
  cr_assert_eq (st.bytes, 4e9);
  cr_assert_float_eq (st.busy_s, 4.0, 1e-9, "busy time is exact to the ns");
  rig_clear (&r);
}

/* An uncontended transfer takes route latency + extra latency + S/B (B = bottleneck). */
Test (network, uncontended_transfer_is_alpha_beta)
{
  Rig r;
  Times t = { 0 };
  rig_init (&r, "dgx-a100-x2");
  /* GPU 0 -> GPU 9 crosses nodes: bottleneck the 25 GB/s NIC; latency 2 network hops of
   * 0.5 us = 1 us, + 3 us extra. 25 MB / 25 GB/s = 1 ms. */
  double bw, lat;
  cr_assert (afd_network_path (r.network, 0, 9, &bw, &lat));
  cr_assert_eq (bw, 25e9);
  cr_assert_float_eq (lat, 1e-6, 1e-15);
  afd_netsim_start_transfer (r.sim, 0, 9, 25e6, 3e-6, FALSE, on_transfer, &t, 0);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered_ns[0], 1000000 + 4000);
  rig_clear (&r);
}

/* Conservation: every byte sent is delivered, and each link's bytes are the bytes of the
 * flows routed over it (random flows from a seeded stream). */
Test (network, bytes_delivered_equal_bytes_sent)
{
  Rig r;
  rig_init (&r, "dgx-a100-x2");
  GRand *rng = afd_engine_rng (r.engine, "test");
  guint nl = afd_cluster_link_count (r.cluster);
  g_autofree double *expect = g_new0 (double, nl);
  double total = 0;
  for (guint i = 0; i < 500; i++)
    {
      guint s = g_rand_int_range (rng, 0, 16), d = g_rand_int_range (rng, 0, 15);
      d = d >= s ? d + 1 : d;
      double bytes = g_rand_int_range (rng, 1, 1 << 24);
      guint links[AFD_NETWORK_MAX_HOPS];
      guint n = afd_network_route (r.network, s, d, links);
      for (guint k = 0; k < n; k++)
        expect[links[k]] += bytes;
      total += bytes;
      afd_netsim_start_transfer (r.sim, s, d, bytes, 0, FALSE, NULL, NULL, i);
    }
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  AfdNetsimStats st;
  afd_netsim_stats (r.sim, &st);
  cr_assert_eq (st.flows_started, 500);
  cr_assert_eq (st.flows_finished, 500);
  cr_assert_eq (st.bytes_delivered, total);
  cr_assert_eq (afd_netsim_active_flows (r.sim), 0);
  for (guint l = 0; l < nl; l++)
    {
      AfdLinkStats ls;
      afd_netsim_link_stats (r.sim, l, &ls);
      cr_assert_eq (ls.bytes, expect[l], "link %u", l);
      /* No link can carry more than capacity x busy time (1 ppm slack for ns rounding). */
      cr_assert (ls.bytes <= afd_cluster_link (r.cluster, l)->bandwidth_bytes_per_s * ls.busy_s
                                 * (1 + 1e-6) + 1);
    }
  rig_clear (&r);
}

/* Every GPU pair of every shipped cluster has a route; same-node routes stay on NVLink,
 * cross-node routes leave through a NIC. */
Test (network, routes_on_every_shipped_cluster)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = afd_data_list ("topologies/clusters", &error);
  afd_assert_no_error (error);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (AfdCluster) c = afd_cluster_load (names->pdata[i], &error);
      afd_assert_no_error (error);
      g_autoptr (AfdNetwork) net = afd_network_new (c);
      guint n = afd_cluster_gpu_count (c);
      double nvlink = afd_cluster_gpu_spec (c)->nvlink_bandwidth_bytes_per_s;
      for (guint s = 0; s < n; s++)
        for (guint d = 0; d < n; d++)
          {
            if (s == d)
              continue;
            guint links[AFD_NETWORK_MAX_HOPS];
            guint hops = afd_network_route (net, s, d, links);
            cr_assert (hops >= 1);
            cr_assert_eq (afd_cluster_link (c, links[0])->src, s);
            cr_assert_eq (afd_cluster_link (c, links[hops - 1])->dst, d);
            double bw;
            gboolean out = afd_network_path (net, s, d, &bw, NULL);
            gboolean same = afd_cluster_gpu_node (c, s) == afd_cluster_gpu_node (c, d);
            cr_assert_eq (out, !same, "%s: %u -> %u", (char *) names->pdata[i], s, d);
            if (same)
              cr_assert_eq (bw, nvlink, "%s: NVLink route %u -> %u", (char *) names->pdata[i], s,
                            d);
            else
              cr_assert_eq (afd_cluster_vertex_kind (c, afd_cluster_link (c, links[0])->dst),
                            AFD_VERTEX_NIC);
          }
    }
}

/* With two spines, ECMP spreads leaf-to-leaf routes over both, and routes are stable. */
Test (network, ecmp_spreads_and_is_stable)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 8, 8, 450e9, 8, 50e9);
  g.scale_out_topology = AFD_SCALE_OUT_FAT_TREE;
  g.leaf_ports = 16;
  g.spines = 2;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  guint used[2] = { 0, 0 };
  for (guint s = 0; s < 16; s++)
    for (guint d = 48; d < 64; d++)
      {
        guint a[AFD_NETWORK_MAX_HOPS], b[AFD_NETWORK_MAX_HOPS];
        guint n = afd_network_route (net, s, d, a);
        cr_assert_eq (afd_network_route (net, s, d, b), n);
        cr_assert (memcmp (a, b, n * sizeof (guint)) == 0, "routes are deterministic");
        cr_assert_eq (n, 6, "gpu-nic-leaf-spine-leaf-nic-gpu");
        const char *spine = afd_cluster_vertex_name (c, afd_cluster_link (c, a[2])->dst);
        cr_assert (g_str_has_prefix (spine, "net.spine"));
        used[spine[9] - '0']++;
      }
  cr_assert (used[0] > 64 && used[1] > 64, "ECMP uses both spines (%u, %u)", used[0], used[1]);
}

/* Asserts that @a and @b route the pairs src in [0, n_src) x @dsts identically. */
static void
assert_same_routes (AfdNetwork *a, AfdNetwork *b, guint n_src, const guint *dsts, guint n_dst)
{
  for (guint i = 0; i < n_dst; i++)
    for (guint s = 0; s < n_src; s++)
      {
        if (s == dsts[i])
          continue;
        guint x[AFD_NETWORK_MAX_HOPS], y[AFD_NETWORK_MAX_HOPS];
        guint nx = afd_network_route (a, s, dsts[i], x);
        guint ny = afd_network_route (b, s, dsts[i], y);
        cr_assert_eq (nx, ny, "route %u -> %u: %u vs %u links", s, dsts[i], nx, ny);
        cr_assert (memcmp (x, y, nx * sizeof (guint)) == 0, "route %u -> %u differs", s,
                   dsts[i]);
      }
}

/* The compressed route rows (large clusters) give the dense matrix's routes: every pair of a
 * two-spine fat-tree (ECMP ties on every leaf uplink), forced either way. */
Test (network, compressed_routes_match_dense)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 16, 8, 450e9, 8, 50e9);
  g.scale_out_topology = AFD_SCALE_OUT_FAT_TREE;
  g.leaf_ports = 16;
  g.spines = 2;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) dense = afd_network_new_with_mode (c, AFD_NETWORK_ROUTES_DENSE);
  g_autoptr (AfdNetwork) comp = afd_network_new_with_mode (c, AFD_NETWORK_ROUTES_COMPRESSED);
  cr_assert_eq (afd_network_route_mode (dense), AFD_NETWORK_ROUTES_DENSE);
  cr_assert_eq (afd_network_route_mode (comp), AFD_NETWORK_ROUTES_COMPRESSED);
  guint n = afd_cluster_gpu_count (c);
  g_autofree guint *all = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    all[i] = i;
  assert_same_routes (comp, dense, n, all, n);
}

/* A cluster past the dense bound (vertices x GPUs > 4 M: 2048 GPUs, 4 418 vertices) takes
 * the compressed path by default; its routes are the dense path's (all sources toward
 * destinations in the first 128 nodes and the last GPU; the dense side builds only their
 * columns). */
Test (network, large_cluster_takes_compressed_routes, .timeout = 120)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 256, 8, 450e9, 8, 50e9);
  g.scale_out_topology = AFD_SCALE_OUT_FAT_TREE;
  g.leaf_ports = 32;
  g.spines = 2;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  guint n = afd_cluster_gpu_count (c);
  cr_assert_eq (n, 2048);
  cr_assert_gt ((guint64) afd_cluster_vertex_count (c) * n, 4ull << 20);
  g_autoptr (AfdNetwork) big = afd_network_new (c);
  cr_assert_eq (afd_network_route_mode (big), AFD_NETWORK_ROUTES_COMPRESSED);
  g_autoptr (AfdNetwork) dense = afd_network_new_with_mode (c, AFD_NETWORK_ROUTES_DENSE);
  guint dsts[30], nd = 0;
  for (guint d = 0; d < 1024; d += 37)
    dsts[nd++] = d;
  dsts[nd++] = n - 1;
  assert_same_routes (big, dense, n, dsts, nd);
  /* And across the spines: a route between leaves has 6 links. */
  guint r[AFD_NETWORK_MAX_HOPS];
  cr_assert_eq (afd_network_route (big, 0, n - 1, r), 6);
}

/* Two GPUs that share a NIC reach each other over NVLink (the widest of the equal-length
 * routes), never through the NIC. */
Test (network, shared_nic_does_not_carry_intra_node_traffic)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "A100-SXM4-80GB", 2, 8, 300e9, 4, 25e9);
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdNetwork) net = afd_network_new (c);
  double bw;
  cr_assert_not (afd_network_path (net, 0, 1, &bw, NULL), "GPUs 0 and 1 share NIC 0");
  cr_assert_eq (bw, 300e9);
}

/* Starts d -> c when the timer transfer (tag 9) is delivered. */
static void
start_late_flow (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data, guint64 tag)
{
  Times *t = user_data;
  if (tag == 9)
    afd_netsim_start_transfer (sim, 3, 2, 1e9, 0, FALSE, on_transfer, t, 2);
  else
    on_transfer (sim, stage, user_data, tag);
}

/* A flow joining later slows only its own component: a -> c (1 GB) runs alone at 1 GB/s for
 * 0.5 s, then shares switch->c with d -> c (from 0.5 s): a finishes at 0.5 + 0.5/0.5 = 1.5 s,
 * d at 1.5 + 0.5/1 = 2 s; b -> d (0.25 GB over b's 0.25 GB/s link) is in another component
 * and finishes at 1 s regardless. */
Test (network, late_flow_changes_only_its_component)
{
  Rig r;
  Times t = { 0 };
  rig_init (&r, TEST_DATA "/network-maxmin.json");
  afd_netsim_start_transfer (r.sim, 0, 2, 1e9, 0, FALSE, start_late_flow, &t, 0);
  afd_netsim_start_transfer (r.sim, 1, 3, 0.25e9, 0, FALSE, start_late_flow, &t, 1);
  afd_netsim_start_transfer (r.sim, 0, 0, 0, 0.5, FALSE, start_late_flow, &t, 9);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered_ns[0], 1500000000);
  cr_assert_eq (t.delivered_ns[1], 1000000000);
  cr_assert_eq (t.delivered_ns[2], 2000000000);
  rig_clear (&r);
}

/* Delivery times of up to 64 tagged transfers. */
typedef struct {
  AfdTime delivered_ns[64];
  guint delivered;
} ManyTimes;

static void
on_many (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data, guint64 tag)
{
  ManyTimes *t = user_data;
  if (stage == AFD_TRANSFER_DELIVERED)
    {
      t->delivered_ns[tag] = afd_engine_now (afd_netsim_engine (sim));
      t->delivered++;
    }
}

/* Switch hops whose capacity covers every NIC feeding them never limit a flow, even when
 * exactly full (h800-x40: the rail-0 uplink is 40 x 50 GB/s = 2 TB/s): 40 cross-rail flows
 * of 5 GB, one per node from local GPU 0 to local GPU 1 of the next node, each run at their
 * NIC's 50 GB/s and are sent at 5e9 / 50e9 = 0.1 s; a 41st flow from GPU 0 to local GPU 2
 * of node 2 shares GPU 0's NIC, so both get 25 GB/s and are sent at 0.2 s. Delivery = sent
 * + route latency. */
Test (network, full_spine_uplink_leaves_flows_at_nic_rate)
{
  Rig r;
  ManyTimes t = { 0 };
  rig_init (&r, "h800-x40");
  guint src[41], dst[41];
  for (guint n = 0; n < 40; n++)
    {
      src[n] = n * 8;
      dst[n] = ((n + 1) % 40) * 8 + 1;
    }
  src[40] = 0;
  dst[40] = 2 * 8 + 2;
  for (guint i = 0; i < 41; i++)
    afd_netsim_start_transfer (r.sim, src[i], dst[i], 5e9, 0, FALSE, on_many, &t, i);
  afd_engine_run (r.engine, AFD_TIME_MAX, 0);
  cr_assert_eq (t.delivered, 41);
  for (guint i = 0; i < 41; i++)
    {
      double lat_s;
      cr_assert (afd_network_path (r.network, src[i], dst[i], NULL, &lat_s));
      double sent_s = (i == 0 || i == 40) ? 5e9 / 25e9 : 5e9 / 50e9;
      cr_assert_eq (t.delivered_ns[i], afd_time_from_seconds (sent_s + lat_s),
                    "flow %u: %" G_GINT64_FORMAT, i, t.delivered_ns[i]);
    }
  rig_clear (&r);
}
