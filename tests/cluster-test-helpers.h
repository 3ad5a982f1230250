/* SPDX-License-Identifier: MIT */
/* cluster-test-helpers.h - the generated clusters of the network, collective and cluster
 * tests: the fields they set every time, in one call. */
#ifndef AFD_TESTS_CLUSTER_TEST_HELPERS_H
#define AFD_TESTS_CLUSTER_TEST_HELPERS_H

#include <glib.h>

#include "sim/cluster.h"

/* Initialises @g (afd_cluster_generator_init()) with @nodes × @gpus_per_node @gpu, NVLink
 * @up_bw bytes/s per GPU and direction, @nics_per_node NICs of @nic_bw bytes/s; the caller
 * sets any other field before afd_cluster_generate(). */
static inline void
test_cluster_generator (AfdClusterGenerator *g, const char *gpu, guint nodes,
                        guint gpus_per_node, double up_bw, guint nics_per_node, double nic_bw)
{
  afd_cluster_generator_init (g);
  g->gpu = gpu;
  g->nodes = nodes;
  g->gpus_per_node = gpus_per_node;
  g->scale_up_bandwidth_bytes_per_s = up_bw;
  g->nics_per_node = nics_per_node;
  g->nic_bandwidth_bytes_per_s = nic_bw;
}

#endif /* AFD_TESTS_CLUSTER_TEST_HELPERS_H */
