/* SPDX-License-Identifier: MIT */
/*
 * network.h - routes over a cluster graph and the flow-level network simulator.
 *
 * AfdNetwork routes between GPUs: shortest paths by hop count that never pass through another
 * GPU; among those, only the widest (largest bottleneck bandwidth) are kept; among what is
 * left, the next hop is picked by a stable hash of (source, destination, vertex), so routes
 * are deterministic (ECMP). Routing tables are built per
 * destination on first use and cached; routes asked for twice are also cached per GPU pair
 * (bounded: 64 MiB of routes, clusters of up to 4096 GPUs).
 *
 * AfdNetsim is the flow-level fidelity (docs/models/network.md): every transfer is a flow on
 * its route; all flows in flight share every link max-min fairly (progressive filling),
 * recomputed when flows start or finish. A flow of S bytes whose bytes drain at rate r(t)
 * is "sent" when its last byte leaves the sender and "delivered" one route latency (plus the
 * caller's extra latency) later. Times are rounded to nanoseconds in one place, with
 * afd_time_from_seconds(). Per-link bytes and busy time are recorded for utilisation counters.
 * The analytic fidelity (pure α-β formulas) lives in sim/collective.h.
 */
#ifndef AFD_SIM_NETWORK_H
#define AFD_SIM_NETWORK_H

#include <glib.h>

#include "sim/cluster.h"
#include "sim/engine.h"
#include "sim/types.h"

G_BEGIN_DECLS

/* The two fidelities of the network model. */
typedef enum {
  AFD_NETWORK_ANALYTIC = 0, /* α-β formulas per collective; no contention */
  AFD_NETWORK_FLOW,         /* flows with max-min sharing on every link */
} AfdNetworkFidelity;

/* Returns: "analytic" or "flow". */
const char *afd_network_fidelity_name (AfdNetworkFidelity fidelity);
/* Parses "analytic"/"flow"; returns FALSE (no error set) for anything else. */
gboolean afd_network_fidelity_from_name (const char *name, AfdNetworkFidelity *out_fidelity);

typedef struct _AfdNetwork AfdNetwork;

/**
 * afd_network_new:
 * @cluster: (transfer none): must outlive the network
 *
 * Returns: (transfer full): a router over @cluster
 */
AfdNetwork *afd_network_new (const AfdCluster *cluster);

void afd_network_free (AfdNetwork *self);

/* How routes are stored (the same routes either way; sim/network.c). */
typedef enum {
  AFD_NETWORK_ROUTES_AUTO = 0,   /* dense up to 4 M vertices × GPUs, compressed past it */
  AFD_NETWORK_ROUTES_DENSE,      /* a vertex × GPU next-hop matrix, columns built on use */
  AFD_NETWORK_ROUTES_COMPRESSED, /* run-length rows, every column built on the first route */
} AfdNetworkRouteMode;

/* afd_network_new() with the route storage forced (tests and benchmarks; AUTO is the
 * default). Returns: (transfer full): a router over @cluster */
AfdNetwork *afd_network_new_with_mode (const AfdCluster *cluster, AfdNetworkRouteMode mode);

/* Returns: the route storage in use (DENSE or COMPRESSED). */
AfdNetworkRouteMode afd_network_route_mode (const AfdNetwork *self);

/* Returns: the bytes allocated for next hops and cached routes so far (a dense matrix
 * counts whole; compressed rows once built). */
gsize afd_network_route_bytes (const AfdNetwork *self);

/* Returns: (transfer none): the cluster. */
const AfdCluster *afd_network_cluster (const AfdNetwork *self);

/* The longest route the network stores, in links. */
#define AFD_NETWORK_MAX_HOPS AFD_CLUSTER_MAX_ROUTE_HOPS

/**
 * afd_network_route:
 * @src: source GPU
 * @dst: destination GPU, != @src
 * @out_links: (out caller-allocates) (array fixed-size=16): the directed links in order
 *
 * Every GPU pair of a loaded cluster has a route; a fault's cluster may have GPUs cut off
 * (afd_cluster_copy_with_link_scale_full()), which must never be asked for: that aborts with
 * a message naming the pair (a programming error: a cut-off GPU counts as failed, gets no op).
 *
 * Returns: the number of links on the route (>= 1)
 */
guint afd_network_route (AfdNetwork *self, guint src, guint dst, guint *out_links);

/**
 * afd_network_path:
 * @out_bandwidth_bytes_per_s: (out) (optional): the route's bottleneck bandwidth, bytes/s
 * @out_latency_s: (out) (optional): the sum of the route's link latencies, seconds
 *
 * Returns: %TRUE when the route crosses a scale-out (network) link
 */
gboolean afd_network_path (AfdNetwork *self, guint src, guint dst,
                           double *out_bandwidth_bytes_per_s, double *out_latency_s);

typedef struct _AfdNetsim AfdNetsim;

/* When a transfer's callback fires. */
typedef enum {
  AFD_TRANSFER_SENT = 0,  /* the last byte left the sender (only if asked for) */
  AFD_TRANSFER_DELIVERED, /* the last byte arrived (sent + latency) */
} AfdTransferStage;

/**
 * AfdTransferFunc:
 * @sim: the simulator; afd_engine_now() is the event time
 * @stage: which milestone this call reports
 * @user_data: the pointer given with the transfer
 * @tag: the caller's tag given with the transfer
 */
typedef void (*AfdTransferFunc) (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data,
                                 guint64 tag);

/**
 * afd_netsim_new:
 * @network: (transfer none): routes; must outlive the simulator
 * @engine: (transfer none): the event engine that drives the flows; must outlive it
 *
 * Returns: (transfer full): a simulator with no flows
 */
AfdNetsim *afd_netsim_new (AfdNetwork *network, AfdEngine *engine);

void afd_netsim_free (AfdNetsim *self);

/**
 * afd_netsim_check_horizon:
 *
 * A flow's transfer or a route's latency that would end past the simulated-time horizon
 * (AFD_TIME_HORIZON_NS, sim/types.h) is held at the horizon and remembered; call this after
 * the engine has run.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming the first such time when one occurred
 */
gboolean afd_netsim_check_horizon (const AfdNetsim *self, GError **error);

/* Returns: (transfer none): the engine / network given at creation. */
AfdEngine *afd_netsim_engine (const AfdNetsim *self);
AfdNetwork *afd_netsim_network (const AfdNetsim *self);

/**
 * afd_netsim_start_transfer:
 * @src: source GPU
 * @dst: destination GPU (== @src: delivered after @extra_latency_s, uses no link)
 * @bytes: bytes on the wire, >= 0
 * @extra_latency_s: latency added to the route's, seconds, >= 0 (software, protocol)
 * @want_sent: also call @func with AFD_TRANSFER_SENT when the bytes have drained
 * @func: (nullable): called at delivery (and at sending if @want_sent)
 *
 * Starts a flow now (afd_engine_now()). Rates are recomputed once per instant, after all
 * flows started or finished at that instant.
 */
void afd_netsim_start_transfer (AfdNetsim *self, guint src, guint dst, double bytes,
                                double extra_latency_s, gboolean want_sent, AfdTransferFunc func,
                                gpointer user_data, guint64 tag);

/* Statistics of one directed link. */
typedef struct {
  double bytes;  /* bytes of finished flows that crossed the link */
  double busy_s; /* time with at least one flow on the link, seconds */
} AfdLinkStats;

/* Copies link @link's statistics (busy time counted up to afd_engine_now()). */
void afd_netsim_link_stats (const AfdNetsim *self, guint link, AfdLinkStats *out_stats);

/* Counters of the whole simulator. */
typedef struct {
  guint64 flows_started;
  guint64 flows_finished;
  guint64 rate_updates;    /* progressive-filling passes */
  guint64 max_active;      /* largest number of flows in flight at once */
  double bytes_delivered;  /* sum of the bytes of delivered flows */
} AfdNetsimStats;

void afd_netsim_stats (const AfdNetsim *self, AfdNetsimStats *out_stats);

/* Returns: the number of flows whose bytes are still draining. */
guint afd_netsim_active_flows (const AfdNetsim *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdNetwork, afd_network_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdNetsim, afd_netsim_free)

G_END_DECLS

#endif /* AFD_SIM_NETWORK_H */
