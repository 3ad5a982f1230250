/* SPDX-License-Identifier: MIT */
/* Tests for sim/cluster.c: generator expansion, explicit form, every bad-input case. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "tests/cluster-test-helpers.h"
#include "tests/test-helpers.h"

/* Counts the vertices of @kind. */
static guint
count_kind (const AfdCluster *c, AfdVertexKind kind)
{
  guint n = 0;
  for (guint v = 0; v < afd_cluster_vertex_count (c); v++)
    n += afd_cluster_vertex_kind (c, v) == kind;
  return n;
}

/* The seeds' cluster expands to 16 GPUs in 4 nodes, 4 NVSwitch abstractions, 16 NICs, 1 switch. */
Test (cluster, seeds_cluster_expands)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_gpu_count (c), 16);
  cr_assert_eq (afd_cluster_node_count (c), 4);
  cr_assert_eq (afd_cluster_gpus_per_node (c), 4);
  cr_assert_eq (afd_cluster_gpu_node (c, 5), 1);
  cr_assert_eq (afd_cluster_gpu_local_rank (c, 5), 1);
  cr_assert_eq (count_kind (c, AFD_VERTEX_NIC), 16);
  /* 4 NVSwitches + 1 IB switch. */
  cr_assert_eq (count_kind (c, AFD_VERTEX_SWITCH), 5);
  /* 16 GPU-NVSwitch + 16 GPU-NIC + 16 NIC-switch physical links, two directions each. */
  cr_assert_eq (afd_cluster_link_count (c), 2 * 48);
  cr_assert_str_eq (afd_cluster_gpu_spec (c)->name, "A100-SXM4-80GB");
  guint nic;
  cr_assert_eq (afd_cluster_gpu_nic_bandwidth (c, 3, &nic), 25e9);
  cr_assert_eq (afd_cluster_vertex_kind (c, nic), AFD_VERTEX_NIC);
}

/* Every link stores its bandwidth per direction; both directions exist with equal values. */
Test (cluster, links_come_in_direction_pairs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("dgx-a100-x16", &error);
  afd_assert_no_error (error);
  for (guint l = 0; l + 1 < afd_cluster_link_count (c); l += 2)
    {
      const AfdLink *a = afd_cluster_link (c, l), *b = afd_cluster_link (c, l + 1);
      cr_assert_eq (a->src, b->dst);
      cr_assert_eq (a->dst, b->src);
      cr_assert_eq (a->bandwidth_bytes_per_s, b->bandwidth_bytes_per_s);
      cr_assert (a->bandwidth_bytes_per_s > 0);
    }
}

/* A fat-tree leaf's uplink is its downlink capacity divided by the oversubscription. */
Test (cluster, fat_tree_oversubscription)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  test_cluster_generator (&g, "H100-SXM", 8, 8, 450e9, 8, 50e9);
  g.scale_out_topology = AFD_SCALE_OUT_FAT_TREE;
  g.leaf_ports = 16;
  g.oversubscription = 2.0;
  g.spines = 2;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  /* 64 NICs / 16 per leaf = 4 leaves; + 2 spines + 8 NVSwitches. */
  cr_assert_eq (count_kind (c, AFD_VERTEX_SWITCH), 4 + 2 + 8);
  gboolean found = FALSE;
  for (guint l = 0; l < afd_cluster_link_count (c); l++)
    {
      const AfdLink *k = afd_cluster_link (c, l);
      if (strncmp (afd_cluster_vertex_name (c, k->src), "net.leaf", 8) == 0
          && strncmp (afd_cluster_vertex_name (c, k->dst), "net.spine", 9) == 0)
        {
          /* 16 NICs x 50 GB/s / 2 (oversubscription) / 2 spines = 200 GB/s. */
          cr_assert_eq (k->bandwidth_bytes_per_s, 200e9);
          cr_assert (k->scale_out);
          found = TRUE;
        }
    }
  cr_assert (found);
}

/* A mesh node links every GPU pair directly with bandwidth / (G - 1). */
Test (cluster, mesh_splits_bandwidth)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  afd_cluster_generator_init (&g);
  g.gpu = "A100-SXM4-80GB";
  g.gpus_per_node = 4;
  g.scale_up_kind = AFD_SCALE_UP_MESH;
  g.scale_up_bandwidth_bytes_per_s = 300e9;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_link_count (c), 2 * 6);
  cr_assert_eq (afd_cluster_link (c, 0)->bandwidth_bytes_per_s, 100e9);
  cr_assert_not (afd_cluster_link (c, 0)->scale_out);
}

/* The explicit form loads, keeps declaration order and marks network links scale-out. */
Test (cluster, explicit_form_loads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load (TEST_DATA "/cluster-explicit-2node.json", &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_gpu_count (c), 4);
  cr_assert_eq (afd_cluster_node_count (c), 2);
  cr_assert_str_eq (afd_cluster_vertex_name (c, 2), "n1.g0");
  cr_assert_eq (afd_cluster_gpu_node (c, 2), 1);
  guint n_out;
  const guint *out = afd_cluster_out_links (c, 0, &n_out);
  cr_assert_eq (n_out, 2);
  cr_assert_not (afd_cluster_link (c, out[0])->scale_out, "GPU-NVSwitch is scale-up");
  cr_assert (afd_cluster_link (c, out[1])->scale_out, "GPU-NIC is scale-out");
}

/* Every shipped cluster loads. */
Test (cluster, every_shipped_cluster_loads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = afd_data_list ("topologies/clusters", &error);
  afd_assert_no_error (error);
  cr_assert (names->len >= 7);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (AfdCluster) c = afd_cluster_load (names->pdata[i], &error);
      afd_assert_no_error (error);
      cr_assert_str_eq (afd_cluster_name (c), names->pdata[i]);
      cr_assert (afd_cluster_gpu_count (c) >= 4);
    }
}

/* Each bad cluster file fails with AFD_ERROR_TOPOLOGY naming the file, the key and the problem. */
Test (cluster, rejects_bad_inputs)
{
  static const struct {
    const char *file;
    const char *needle;
  } cases[] = {
    { "cluster-unknown-key.json", "generator.nodez: unknown key" },
    { "cluster-missing-key.json", "generator.gpus_per_node: missing required key" },
    { "cluster-negative-bandwidth.json", "links[2].bandwidth_bytes_per_s: must be > 0" },
    { "cluster-zero-nic-bandwidth.json",
      "generator.scale_out.nic_bandwidth_bytes_per_s: must be > 0" },
    { "cluster-disconnected.json", "disconnected" },
    { "cluster-no-route.json", "GPU 'n1.g1' has no link" },
    { "cluster-duplicate-id.json", "nodes[1].gpus[1]: duplicate id 'n0.g0'" },
    { "cluster-unknown-gpu.json", "gpu: unknown GPU 'Z9000'" },
    { "cluster-generator-unknown-gpu.json", "generator.gpu: unknown GPU 'Z9000'" },
    { "cluster-unknown-link-id.json", "links[0].b: unknown id 'nope'" },
    { "cluster-bad-topology.json", "generator.scale_out.topology: unknown value 'torus'" },
    { "cluster-long-route.json", "has 21 links (at most 16)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_build_filename (TEST_DATA, cases[i].file, NULL);
      g_autoptr (AfdCluster) c = afd_cluster_load (path, &error);
      cr_assert_null (c, "%s should fail", cases[i].file);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
      afd_assert_error_contains (error, cases[i].file);
      afd_assert_error_contains (error, cases[i].needle);
    }
}

/* Generator parameters out of range are errors, not crashes. */
Test (cluster, generator_rejects_bad_parameters)
{
  g_autoptr (GError) error = NULL;
  AfdClusterGenerator g;
  afd_cluster_generator_init (&g);
  g.gpu = "A100-SXM4-80GB";
  g.nodes = 2;
  g.gpus_per_node = 1;
  g_autoptr (AfdCluster) c = afd_cluster_generate (&g, &error);
  cr_assert_null (c);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
  afd_assert_error_contains (error, "nics_per_node");
}
