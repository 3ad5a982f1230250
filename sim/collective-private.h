/* SPDX-License-Identifier: MIT */
/*
 * collective-private.h - what sim/collective.c (analytic model, tuner) shares with
 * sim/collective-flow.c (flow decomposition): the analysis of a GPU group.
 */
#ifndef AFD_SIM_COLLECTIVE_PRIVATE_H
#define AFD_SIM_COLLECTIVE_PRIVATE_H

#include "sim/collective.h"

G_BEGIN_DECLS

/* The shape of a group on the cluster. Bandwidths are line rates (bytes/s per direction). */
typedef struct {
  guint n;             /* group size */
  guint nodes;         /* distinct nodes */
  guint ppn;           /* most members on one node */
  guint ppn_min;       /* fewest members on one node */
  guint nics_min;      /* fewest distinct NICs of members on one node (0: none) */
  double intra_bw;     /* bottleneck of an intra-node member pair (0 when ppn == 1) */
  double intra_lat_s;  /* route latency of that pair */
  double nic_bw;       /* smallest member NIC uplink */
  double node_out_bw;  /* smallest per-node sum of distinct member NIC uplinks */
  double inter_lat_s;  /* route latency of an inter-node member pair (0 when one node) */
  guint *node_of;      /* per member: compact node index, in order of first appearance */
  guint *order;        /* members (positions) sorted by (node, position): ring order */
  guint *node_start;   /* per compact node: first index into order; [nodes] = n */
} AfdGroupInfo;

/* Validates @coll against the cluster and fills @info; AFD_ERROR_CONFIG on bad input. */
G_GNUC_INTERNAL gboolean afd_group_info_init (AfdGroupInfo *info, AfdNetwork *network,
                                              const AfdCollective *coll, GError **error);
G_GNUC_INTERNAL void afd_group_info_clear (AfdGroupInfo *info);

/* Sets @p's scale_up_efficiency for @g's members per node from the GPU file's
 * nvlink_efficiency_by_gpus when @user did not set it (afd_gpu_spec_nvlink_efficiency()). */
G_GNUC_INTERNAL void afd_collective_params_for_group (AfdCollectiveParams *p,
                                                      const AfdCollectiveParams *user,
                                                      const AfdCluster *cluster,
                                                      const AfdGroupInfo *g);

/* Copies @params (defaults when %NULL) into @out, filling efficiencies left at 0 from the
 * cluster's GPU spec. */
G_GNUC_INTERNAL void afd_collective_params_resolve (const AfdCollectiveParams *params,
                                                   const AfdCluster *cluster,
                                                   AfdCollectiveParams *out);

/* Picks (or checks the forced) algorithm and protocol; fills @out_choice and the time. */
G_GNUC_INTERNAL gboolean afd_collective_tune (AfdNetwork *network, const AfdGroupInfo *info,
                                              const AfdCollective *coll,
                                              const AfdCollectiveParams *params,
                                              AfdCollectiveChoice *out_choice,
                                              double *out_seconds, GError **error);

G_END_DECLS

#endif /* AFD_SIM_COLLECTIVE_PRIVATE_H */
