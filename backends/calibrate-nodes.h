/* SPDX-License-Identifier: MIT */
/*
 * calibrate-nodes.h - `afdsim calibrate --two-nodes`: two NCCL "nodes" on one host.
 *
 * Forks one process per node group before any CUDA call (a CUDA context does not survive
 * fork); child g sees GPUs g·n/2 … (g+1)·n/2 − 1 through CUDA_VISIBLE_DEVICES and runs with
 * NCCL_HOSTID=afd-node<g>, so NCCL treats the groups as two hosts and connects them through
 * its net transport (NET/Socket over loopback without an InfiniBand HCA). Node group 0 makes
 * the ncclUniqueId and passes it to group 1 through a pipe; each group reports progress and its
 * result as lines on its own pipe. docs/validation.md ("Two nodes on one host") has the design.
 * Nothing here prints.
 */
#ifndef AFD_BACKENDS_CALIBRATE_NODES_H
#define AFD_BACKENDS_CALIBRATE_NODES_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "backends/cuda/cuda-calibrate.h"

G_BEGIN_DECLS

/**
 * afd_calibrate_two_nodes:
 * @options: options->gpus GPUs in all (even, >= 2), options->timeout_s bounds every wait
 *
 * Runs the two node groups and waits for both with deadlines: a group silent for longer than
 * 2·timeout_s + 30 s, or one that fails, ends both (SIGTERM, then SIGKILL, to those two pids
 * only) and the call fails with one message naming the group and its GPUs.
 *
 * Returns: (transfer full) (nullable): node group 0's profile (collective tables with tier
 *   "inter_node"; provenance "nccl_net_transport"), or %NULL with AFD_ERROR_USAGE (odd GPU
 *   count), AFD_ERROR_BACKEND_UNAVAILABLE or AFD_ERROR_BACKEND_FAILED
 */
cJSON *afd_calibrate_two_nodes (const AfdCudaCalibrateOptions *options, GError **error);

G_END_DECLS

#endif /* AFD_BACKENDS_CALIBRATE_NODES_H */
