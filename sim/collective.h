/* SPDX-License-Identifier: MIT */
/*
 * collective.h - NCCL-like collectives over a cluster: the analytic cost (a pure function
 * returning seconds) and the flow-level execution (steps of flows on an AfdNetsim).
 *
 * Both fidelities share one tuner: for each applicable (algorithm, protocol) the NCCL-style
 * cost  base + Σ per-step latency + bytes / (bus bandwidth × protocol factor)  is computed
 * and the cheapest wins, unless the caller forces them (docs/models/collectives.md; NCCL's
 * src/graph/tuning.cc as summarised in hardware.md §5.2). In flow mode the chosen algorithm
 * is decomposed into flows (ring steps over channels, pairwise exchanges, pipelined chains)
 * whose wire bytes are the payload divided by the protocol factor and the tier efficiency;
 * contention with everything else in flight then decides the time.
 *
 * Byte counts follow nccl-tests: all-reduce, broadcast, reduce: the buffer; all-gather: the
 * gathered output (n × per-rank); reduce-scatter: the input (n × per-rank); all-to-all: one
 * rank's whole send buffer (S/n to each peer); send/recv: the message.
 */
#ifndef AFD_SIM_COLLECTIVE_H
#define AFD_SIM_COLLECTIVE_H

#include <glib.h>

#include "sim/network.h"

G_BEGIN_DECLS

typedef enum {
  AFD_COLL_ALL_REDUCE = 0,
  AFD_COLL_ALL_GATHER,
  AFD_COLL_REDUCE_SCATTER,
  AFD_COLL_BROADCAST,
  AFD_COLL_REDUCE,
  AFD_COLL_ALL_TO_ALL,
  AFD_COLL_ALL_TO_ALL_V,
  AFD_COLL_SEND_RECV,
  AFD_COLL_OP_COUNT
} AfdCollectiveOp;

typedef enum {
  AFD_ALGO_AUTO = 0,
  AFD_ALGO_RING,         /* ring (all-reduce, all-gather, reduce-scatter); chain (bcast, reduce) */
  AFD_ALGO_TREE,         /* NCCL double binary tree (all-reduce) */
  AFD_ALGO_HIERARCHICAL, /* intra-node RS + inter-node ring AR + intra-node AG (all-reduce) */
  AFD_ALGO_NVLS,         /* NVLink SHARP in-switch reduction (all-reduce, one node) */
  AFD_ALGO_DIRECT,       /* pairwise (all-to-all, all-to-all-v, send/recv) */
  AFD_ALGO_TWO_STAGE,    /* node-limited all-to-all: RDMA to the peer node, then NVLink */
  AFD_ALGO_NVLS_TREE,    /* NVLS inside each node + tree across nodes (all-reduce, 2+ nodes) */
  AFD_ALGO_COUNT
} AfdCollectiveAlgo;

typedef enum {
  AFD_PROTO_AUTO = 0,
  AFD_PROTO_LL,
  AFD_PROTO_LL128,
  AFD_PROTO_SIMPLE,
  AFD_PROTO_COUNT
} AfdProtocol;

/* Names ("all-reduce", "ring", "ll128"); NULL for invalid values. */
const char *afd_collective_op_name (AfdCollectiveOp op);
const char *afd_collective_algo_name (AfdCollectiveAlgo algo);
const char *afd_protocol_name (AfdProtocol proto);
/* Parsers; return FALSE (no error set) for unknown names. Ops also accept "allreduce" etc. */
gboolean afd_collective_op_from_name (const char *name, AfdCollectiveOp *out_op);
gboolean afd_collective_algo_from_name (const char *name, AfdCollectiveAlgo *out_algo);
gboolean afd_protocol_from_name (const char *name, AfdProtocol *out_proto);

/**
 * afd_collective_bus_factor:
 * @ranks: group size n
 *
 * Returns: nccl-tests' busbw/algbw factor: all-reduce 2(n-1)/n; all-gather, reduce-scatter,
 *   all-to-all(-v) (n-1)/n; broadcast, reduce, send/recv 1
 */
double afd_collective_bus_factor (AfdCollectiveOp op, guint ranks);

/* The model's parameters (docs/models/collectives.md lists defaults and sources). */
typedef struct {
  /* NCCL latencies, seconds, indexed [algo][proto] (only RING, TREE, NVLS rows are used). */
  double base_latency_s[AFD_ALGO_COUNT][AFD_PROTO_COUNT];  /* once per collective */
  double intra_latency_s[AFD_ALGO_COUNT][AFD_PROTO_COUNT]; /* per NVLink step */
  double inter_latency_s[AFD_ALGO_COUNT][AFD_PROTO_COUNT]; /* per network step */
  double protocol_factor[AFD_PROTO_COUNT]; /* fraction of bandwidth carrying payload */
  double scale_up_efficiency;   /* achievable fraction of NVLink line rate, (0,1]; 0: the GPU
                                 * spec's nvlink_efficiency, or 0.77 when it has none */
  double scale_out_efficiency;  /* achievable fraction of NIC line rate, (0,1] */
  double tree_efficiency;       /* tree bus bandwidth relative to ring, (0,1] */
  double nvls_efficiency;       /* NVLS algbw as a fraction of NVLink line rate, (0,1]; 0: the
                                 * GPU spec's nvls_efficiency, or 0.61 when it has none */
  double p2p_latency_s;         /* base latency of send/recv and all-to-all, seconds */
  double peer_latency_s;        /* added per peer of an all-to-all, seconds */
  double chain_chunk_bytes;     /* pipeline chunk of broadcast/reduce chains in flow mode */
  guint channels;               /* rings per collective in flow mode (0: one per NIC) */
  /* NCCL's channel and bandwidth-cap model (tuning.cc, enqueue.cc; hardware.md §5.2). Arrays
   * [3] are indexed by the group's node class: 0 one node, 1 two nodes, 2 three or more.
   * Every entry left at 0 disables its mechanism (afd_collective_params_ideal()). */
  gboolean nccl_tables;         /* TRUE: fill the zero entries below from NCCL's tables for the
                                 * cluster's GPU generation when the collective runs */
  guint nccl_channels[3];       /* comm->nChannels of ring/tree (bandwidth split over them) */
  guint nvls_channels;          /* comm->nvlsChannels (NVLS-Tree per-channel cap) */
  double ll_max_bandwidth_bytes_per_s[3];         /* llMaxBws: LL bus bandwidth cap */
  double ring_ll128_channel_bytes_per_s[3];       /* perChMaxRingLL128Bws, per channel */
  double tree_channel_bytes_per_s[3];             /* perChMaxTreeBws, per channel */
  double tree_ll128_channel_bytes_per_s[3];       /* perChMaxTreeLL128Bws, per channel */
  double nvls_tree_channel_bytes_per_s[3];        /* perChMaxNVLSTreeBws, per channel */
  double channel_rate_bytes_per_s[AFD_PROTO_COUNT]; /* measured bus bandwidth one channel
                                 * moves (ring all-reduce, one SM per GPU), B/s: the c channels
                                 * run carry min(B, c·rate) instead of B·c/C; 0: NCCL's c/C
                                 * split (Hopper: 7.2 / 17.6 / 21.6 GB/s LL / LL128 / Simple,
                                 * nccl-probe on 2 × H200, collectives.md) */
  double tree_protocol_factor[AFD_PROTO_COUNT];   /* tree's own protocol factors (LL 1/3.8,
                                                   * LL128 120/128); 0: protocol_factor */
  double tree_ll128_one_node_factor;              /* tree LL128 on one node (7/9); 0: the above */
  guint max_threads[AFD_PROTO_COUNT];             /* threads per channel (LL 512, LL128 640,
                                                   * Simple 512); 0: no channel reduction */
  double thread_threshold_bytes[AFD_PROTO_COUNT]; /* bytes per thread before one more channel
                                                   * (8, 8, 64; ring LL × ranks) */
  double net_overhead_s;        /* multi-node ring: per-step floor of the NVLink latency (Intel
                                 * 1 µs; × 3 for Simple) */
  double ring_plateau_factor;   /* multi-node ring Simple all-reduce latency factor once
                                 * bytes/(channels·ranks) >= 64 (1.4); 0: none */
  gboolean tree_correction;     /* apply NCCL's treeCorrectionFactor[proto][log2(bytes/64)] */
  gboolean ll128_across_nodes;  /* LL128 allowed across nodes (GPU and NIC under one PCIe
                                 * switch, PATH_PXB: DGX); FALSE: NVLink only */
  guint nvls_tree_pipeline_stages; /* NVLS-Tree chunk pipeline stages inside a node (2: into
                                    * and out of the NVLS buffers) [EST]; 0: no fill time */
  guint nvls_tree_stages_per_level; /* NVLS-Tree stages added per level of the tree of nodes
                                     * (2: one hop up, one hop down) */
  guint nvls_pipeline_stages;   /* one-node NVLS chunk pipeline depth: the 3 warp roles of NCCL's
                                 * NVLS all-reduce kernel (scatter, multimem reduce+multicast,
                                 * gather); 0 or 1: no fill time */
  double nvls_chunk_bytes;      /* comm->nvlsChunkSize, NCCL_NVLS_CHUNKSIZE (128 KiB), bytes */
  gboolean nvls_tree_auto;      /* the tuner may pick NVLS-Tree (default TRUE) */
  guint tree_stages_per_level;  /* multi-node tree: store-and-forward network hops per level of
                                 * the tree of nodes (2: a chunk goes up and comes back down;
                                 * the proxy sends a step once it is complete); 0: no fill */
  double tree_chunk_bytes[AFD_PROTO_COUNT]; /* tree chunk per channel, payload bytes, before
                                 * NCCL's LL128 halving rule (LL128 576000, Simple 524288:
                                 * buffSizes[proto] / NCCL_STEPS, enqueue.cc); 0: no fill for
                                 * that protocol (LL's default, see collectives.md) */
} AfdCollectiveParams;

/**
 * afd_collective_params_init:
 * @params: (out caller-allocates): filled with the defaults (NCCL 2.2x constants; the NVLink
 *   and NVLS efficiencies 0, i.e. taken from the cluster's GPU spec when the collective runs)
 */
void afd_collective_params_init (AfdCollectiveParams *params);

/**
 * afd_collective_params_ideal:
 * @params: (out caller-allocates): every latency 0, every factor and efficiency 1, so that
 *   the caller can set α itself (closed-form tests)
 */
void afd_collective_params_ideal (AfdCollectiveParams *params);

/* One collective call. */
typedef struct {
  AfdCollectiveOp op;
  AfdCollectiveAlgo algo; /* AFD_ALGO_AUTO: the tuner picks */
  AfdProtocol proto;      /* AFD_PROTO_AUTO: the tuner picks */
  const guint *group;     /* GPU indices; group[0] is the root (bcast, reduce) / sender */
  guint group_size;       /* >= 2 (send/recv: exactly 2) */
  double bytes;           /* nccl-tests byte count (see above); ignored for all-to-all-v */
  const double *matrix_bytes; /* all-to-all-v: group_size² bytes, [i*n+j] from i to j */
} AfdCollective;

/* What the tuner chose and the model's breakdown. */
typedef struct {
  AfdCollectiveAlgo algo;
  AfdProtocol proto;
  double latency_s;               /* the latency part of the time */
  double bus_bandwidth_bytes_per_s; /* the bandwidth the bytes term used */
  double bandwidth_fraction;      /* NCCL's caps and channel reduction as a fraction of the
                                   * protocol bandwidth, (0,1] (flow mode scales wire bytes) */
} AfdCollectiveChoice;

/**
 * afd_collective_time_analytic:
 * @network: (transfer none): routes of the cluster
 * @coll: (transfer none): the collective
 * @params: (transfer none) (nullable): %NULL for the defaults
 * @out_choice: (out) (optional): the algorithm and protocol used, and the cost breakdown
 * @out_seconds: (out): the modelled duration, seconds
 *
 * A pure function: no state changes. An algorithm that does not apply to the op or the group
 * (NVLS on several nodes, two-stage on one node, …) is AFD_ERROR_CONFIG, as are bad groups
 * (duplicates, out of range, fewer than 2 GPUs) and negative byte counts.
 *
 * Returns: %FALSE with @error set
 */
gboolean afd_collective_time_analytic (AfdNetwork *network, const AfdCollective *coll,
                                       const AfdCollectiveParams *params,
                                       AfdCollectiveChoice *out_choice, double *out_seconds,
                                       GError **error);

/**
 * AfdCollectiveDoneFunc:
 * @sim: the simulator; afd_engine_now() is the completion time
 * @user_data: the pointer given to afd_netsim_start_collective()
 */
typedef void (*AfdCollectiveDoneFunc) (AfdNetsim *sim, gpointer user_data);

/**
 * afd_netsim_start_collective:
 * @coll: (transfer none): copied; the group and matrix may be freed after the call
 * @params: (transfer none) (nullable): copied; %NULL for the defaults
 * @done: (nullable): called once, when the last byte of the collective is delivered
 *
 * Starts the collective now: its flows share links with everything else in flight. NVLS has
 * no flow decomposition yet (TODO(#3)): it takes its analytic time, without contention. The
 * collective frees itself after @done.
 *
 * Returns: %FALSE with @error (AFD_ERROR_CONFIG) for the same invalid inputs as
 *   afd_collective_time_analytic(); nothing is started then
 */
gboolean afd_netsim_start_collective (AfdNetsim *sim, const AfdCollective *coll,
                                      const AfdCollectiveParams *params,
                                      AfdCollectiveDoneFunc done, gpointer user_data,
                                      GError **error);

G_END_DECLS

#endif /* AFD_SIM_COLLECTIVE_H */
