/* SPDX-License-Identifier: MIT */
/*
 * cluster.h - a GPU cluster as a graph: GPUs, switches and NICs joined by links.
 *
 * A cluster is loaded from topologies/clusters/NAME.json (a compact "generator" block, or
 * explicit nodes/switches/nics/links lists; docs/user/topology-format.md) or generated from
 * an AfdClusterGenerator. Vertices 0..gpu_count-1 are the GPUs in node-major order; switches
 * and NICs follow. Every physical link is stored as two directed links, one per direction,
 * each with its own bandwidth_bytes_per_s and latency_s. GPUs are endpoints only: routes never
 * pass through a GPU. All GPUs of a cluster share one GPU spec. The cluster is immutable
 * after loading; it knows nothing about flows or collectives (sim/network.h does).
 */
#ifndef AFD_SIM_CLUSTER_H
#define AFD_SIM_CLUSTER_H

#include <glib.h>

#include "sim/gpu-spec.h"

G_BEGIN_DECLS

/* Slowest link bandwidth a cluster may have, bytes/s (docs/reliability.md). */
#define AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S 1.0

typedef struct _AfdCluster AfdCluster;

/* The longest route between two GPUs that a cluster may need, in links (checked on loading). */
#define AFD_CLUSTER_MAX_ROUTE_HOPS 16

/* What a vertex of the cluster graph is. */
typedef enum {
  AFD_VERTEX_GPU = 0,
  AFD_VERTEX_SWITCH, /* an NVSwitch (scale-up) or a network switch (scale-out) */
  AFD_VERTEX_NIC,    /* a network adapter (scale-out endpoint of one or more GPUs) */
} AfdVertexKind;

/* One direction of a physical link. */
typedef struct {
  guint src;                    /* vertex index */
  guint dst;                    /* vertex index */
  double bandwidth_bytes_per_s; /* capacity in this direction, bytes/s, > 0 */
  double latency_s;             /* propagation + switching latency of this hop, seconds, >= 0 */
  gboolean scale_out;           /* TRUE for network (NIC, IB/Ethernet) hops, FALSE for NVLink */
} AfdLink;

/* Scale-up fabric inside a node. */
typedef enum {
  AFD_SCALE_UP_NVSWITCH = 0, /* every GPU has one link of the full bandwidth to a switch */
  AFD_SCALE_UP_MESH,         /* every GPU pair has a direct link of bandwidth / (G-1) */
} AfdScaleUpKind;

/* Scale-out fabric between nodes. */
typedef enum {
  AFD_SCALE_OUT_SINGLE_SWITCH = 0, /* every NIC on one switch */
  AFD_SCALE_OUT_FAT_TREE,          /* leaves of leaf_ports NICs, uplinks to spines */
  AFD_SCALE_OUT_RAIL,              /* NIC i of every node on rail switch i; rails joined by spines */
} AfdScaleOutTopology;

/* The parameters of the cluster generator (the "generator" block of a cluster file). */
typedef struct {
  const char *name;                       /* cluster name */
  const char *gpu;                        /* GPU spec name or file (topologies/gpus) */
  guint nodes;                            /* nodes (scale-up domains), >= 1 */
  guint gpus_per_node;                    /* GPUs per node, >= 1 */
  AfdScaleUpKind scale_up_kind;
  double scale_up_bandwidth_bytes_per_s;  /* per GPU per direction */
  double scale_up_latency_s;              /* per NVLink hop */
  gboolean scale_up_nvls;                 /* switch supports in-network reduction (NVLS) */
  guint nics_per_node;                    /* 0: no scale-out (only valid with one node) */
  double nic_bandwidth_bytes_per_s;       /* per NIC per direction */
  double scale_out_latency_s;             /* per network hop (NIC-switch, switch-switch) */
  AfdScaleOutTopology scale_out_topology;
  double oversubscription;                /* leaf down/up capacity ratio, >= 1 */
  guint leaf_ports;                       /* NICs per leaf switch (fat-tree), >= 1 */
  guint spines;                           /* spine switches (fat-tree, rail), >= 1 */
} AfdClusterGenerator;

/**
 * afd_cluster_generator_init:
 * @gen: (out caller-allocates): filled with defaults (NVSwitch, single switch,
 *   oversubscription 1, leaf_ports 32, spines 1, latencies 0); the caller sets the rest
 */
void afd_cluster_generator_init (AfdClusterGenerator *gen);

/* Largest generated cluster (issue #8, docs/reliability.md "Limits"): GPUs, and links (a
 * mesh has G·(G-1) per node). A larger generator is refused with AFD_ERROR_LIMIT and its
 * estimated memory (AFD_CLUSTER_GPU_BYTES a GPU, AFD_CLUSTER_LINK_BYTES a link). */
#define AFD_CLUSTER_MAX_GPUS 65536
#define AFD_CLUSTER_MAX_LINKS 4194304
#define AFD_CLUSTER_GPU_BYTES 1024.0
#define AFD_CLUSTER_LINK_BYTES 256.0

/**
 * afd_cluster_generate:
 * @gen: (transfer none): the parameters; invalid values are AFD_ERROR_TOPOLOGY, a cluster
 *   beyond AFD_CLUSTER_MAX_GPUS or AFD_CLUSTER_MAX_LINKS AFD_ERROR_LIMIT
 *
 * Returns: (transfer full) (nullable): the cluster, or %NULL with @error set
 */
AfdCluster *afd_cluster_generate (const AfdClusterGenerator *gen, GError **error);

/**
 * afd_cluster_load:
 * @name_or_file: a shipped cluster name (topologies/clusters/NAME.json) or a JSON file path
 *
 * Validates unknown and missing keys, non-positive bandwidths, negative latencies, duplicate
 * and unknown ids, unknown GPU models, disconnected graphs and GPU pairs without a route.
 *
 * Returns: (transfer full) (nullable): the cluster, or %NULL with AFD_ERROR_TOPOLOGY (or
 *   AFD_ERROR_IO / AFD_ERROR_CONFIG for a missing file or name) naming the file and key
 */
AfdCluster *afd_cluster_load (const char *name_or_file, GError **error);

void afd_cluster_free (AfdCluster *self);

/* Returns: (transfer none): the cluster's name. */
const char *afd_cluster_name (const AfdCluster *self);
/* Returns: (transfer none): the GPU spec shared by every GPU. */
const AfdGpuSpec *afd_cluster_gpu_spec (const AfdCluster *self);
/* Returns: the number of GPUs (vertices 0..n-1). */
guint afd_cluster_gpu_count (const AfdCluster *self);
/* Returns: the number of nodes (scale-up domains). */
guint afd_cluster_node_count (const AfdCluster *self);
/* Returns: the node index of @gpu. */
guint afd_cluster_gpu_node (const AfdCluster *self, guint gpu);
/* Returns: the index of @gpu among its node's GPUs (0-based). */
guint afd_cluster_gpu_local_rank (const AfdCluster *self, guint gpu);
/* Returns: the largest number of GPUs in one node. */
guint afd_cluster_gpus_per_node (const AfdCluster *self);
/* Returns: the number of GPUs in @node. */
guint afd_cluster_node_gpu_count (const AfdCluster *self, guint node);
/* Returns: the first GPU of @node (GPUs of a node are consecutive). */
guint afd_cluster_node_first_gpu (const AfdCluster *self, guint node);
/* Returns: TRUE when the node's scale-up switch supports in-network reduction (NVLS). */
gboolean afd_cluster_nvls (const AfdCluster *self);
/* Returns: TRUE for a copy made by afd_cluster_copy_with_link_scale() with some link scaled or
 * removed (a fault's cluster): its nodes need not be uniform any more. */
gboolean afd_cluster_links_scaled (const AfdCluster *self);

/* Returns: the number of vertices (GPUs, switches, NICs). */
guint afd_cluster_vertex_count (const AfdCluster *self);
AfdVertexKind afd_cluster_vertex_kind (const AfdCluster *self, guint vertex);
/* Returns: (transfer none): the vertex's id ("n0.gpu3", "leaf1", …). */
const char *afd_cluster_vertex_name (const AfdCluster *self, guint vertex);

/* Returns: the number of directed links. */
guint afd_cluster_link_count (const AfdCluster *self);
/* Returns: (transfer none): directed link @link; links are stored contiguously and never move,
 * so &afd_cluster_link (c, 0)[i] is link i for the cluster's lifetime. */
const AfdLink *afd_cluster_link (const AfdCluster *self, guint link);
/**
 * afd_cluster_out_links:
 * @out_count: (out): number of links leaving @vertex
 *
 * Returns: (transfer none): the indices of the links leaving @vertex, in declaration order
 */
const guint *afd_cluster_out_links (const AfdCluster *self, guint vertex, guint *out_count);

/**
 * afd_cluster_gpu_nic_bandwidth:
 * Returns: the scale-out bandwidth of @gpu's NIC uplink in bytes/s per direction (the NIC
 *   link toward the network), or 0 when the GPU has no NIC; *@out_nic (nullable) gets the
 *   NIC vertex (G_MAXUINT when none)
 */
double afd_cluster_gpu_nic_bandwidth (const AfdCluster *self, guint gpu, guint *out_nic);

/**
 * afd_cluster_copy_with_link_scale:
 * @scale: (array) (nullable): per directed link, a factor on its bandwidth; <= 0 removes the
 *   link (a failed link, sim/fault.h); %NULL copies unchanged
 *
 * Vertices keep their indices; the surviving links are renumbered in order. Vertices left
 * without any link are allowed (a failed NIC).
 *
 * Returns: (transfer full) (nullable): the copy, or %NULL with AFD_ERROR_TOPOLOGY ("NAME:
 *   links: no route from GPU … to GPU …") when removed links disconnect two GPUs
 */
AfdCluster *afd_cluster_copy_with_link_scale (const AfdCluster *self, const double *scale,
                                              GError **error);

/**
 * afd_cluster_copy_with_link_scale_full:
 * @scale: (array) (nullable): as for afd_cluster_copy_with_link_scale()
 * @exempt: (array length=gpu_count) (nullable): nonzero for GPUs exempt from the route checks
 *   (GPUs that failed links cut off, sim/fault.h afd_fault_cut_off_gpus()); %NULL: none, the
 *   checks of afd_cluster_copy_with_link_scale()
 *
 * The same copy; with @exempt, only the other GPUs must be connected (any other vertex may be
 * cut off with the exempt GPUs) and routes are checked only between pairs of them. The copy
 * may have no route to or from an exempt GPU: afd_network_route() must never be asked for
 * one (a cut-off GPU counts as failed and gets no op).
 *
 * Returns: (transfer full) (nullable): the copy, or %NULL with AFD_ERROR_TOPOLOGY when two
 *   GPUs that are not exempt have no route (or a route over AFD_CLUSTER_MAX_ROUTE_HOPS links)
 */
AfdCluster *afd_cluster_copy_with_link_scale_full (const AfdCluster *self, const double *scale,
                                                   const guint8 *exempt, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdCluster, afd_cluster_free)

G_END_DECLS

#endif /* AFD_SIM_CLUSTER_H */
