/* SPDX-License-Identifier: MIT */
/*
 * replay.h - replays an operator graph (sim/opgraph.h) on simulated GPUs (sim/gpu-set.h).
 *
 * Every compute op is priced once, before the run, by a compute-time function (a cost model,
 * or the op's fixed duration). Every GPU gets a compute and a comm stream; ops run in graph
 * order on their stream and wait for their dependencies. A collective starts when all its
 * members reached it (rendezvous): with an analytic network its duration is a pure function
 * of the collective, priced before the run; with a flow network the replay calls a start
 * function at the rendezvous and the network calls afd_replay_comm_finished() when its flows
 * complete. The replay records every op's start and end, the time each collective really
 * started, and derives per-GPU busy/comm/idle time and the critical path. It can write a
 * Chrome trace. It decides nothing about placement and prints nothing.
 */
#ifndef AFD_SIM_REPLAY_H
#define AFD_SIM_REPLAY_H

#include <glib.h>

#include "sim/engine.h"
#include "sim/opgraph.h"
#include "sim/trace.h"
#include "sim/types.h"

G_BEGIN_DECLS

typedef struct _AfdReplay AfdReplay;

/**
 * AfdReplayOpTimeFunc:
 * @op: a compute op of @graph without a fixed duration
 * @out_seconds: (out): its duration, seconds, finite and >= 0
 *
 * Returns: %FALSE with @error set when the op cannot be priced
 */
typedef gboolean (*AfdReplayOpTimeFunc) (gpointer user_data, const AfdOpGraph *graph, guint op,
                                         double *out_seconds, GError **error);

/**
 * AfdReplayCommTimeFunc:
 * @comm: a collective of @graph
 *
 * Analytic network: the collective's duration from its rendezvous, seconds (pure).
 */
typedef gboolean (*AfdReplayCommTimeFunc) (gpointer user_data, const AfdOpGraph *graph,
                                           guint comm, double *out_seconds, GError **error);

/**
 * AfdReplayCommStartFunc:
 *
 * Flow network: called at the rendezvous of collective @comm (time afd_engine_now()); the
 * network must later call afd_replay_comm_finished (@replay, @comm) from an engine event.
 */
typedef void (*AfdReplayCommStartFunc) (gpointer user_data, AfdReplay *replay,
                                        const AfdOpGraph *graph, guint comm);

/* How a replay prices and times things. Exactly one of comm_time / comm_start is set. */
typedef struct {
  AfdReplayOpTimeFunc op_time;    /* required unless every compute op has a fixed duration */
  gpointer op_time_data;
  AfdReplayCommTimeFunc comm_time; /* analytic network */
  gpointer comm_time_data;
  AfdReplayCommStartFunc comm_start; /* flow network */
  gpointer comm_start_data;
} AfdReplayConfig;

/* Links of a simple two-level cluster, for afd_replay_links_comm_time(). */
typedef struct {
  guint gpus_per_node;                  /* GPU g is in node g / gpus_per_node */
  double intra_bandwidth_bytes_per_s;   /* per GPU per direction inside a node (NVLink) */
  double inter_bandwidth_bytes_per_s;   /* per GPU per direction across nodes (its NIC) */
  double intra_latency_s;               /* per message step inside a node, seconds */
  double inter_latency_s;               /* per message step across nodes, seconds */
} AfdReplayLinks;

/**
 * afd_replay_links_comm_time:
 * @user_data: a const AfdReplayLinks *
 *
 * An AfdReplayCommTimeFunc: α-β times of ring/hierarchical collectives on a two-level
 * cluster (docs/models/strategies.md "Network"): all-reduce inside a node
 * 2(n-1)(α + S/(n·B_intra)); across nodes hierarchical (reduce-scatter in node, all-reduce of
 * S/l across the N nodes on l NICs in parallel, all-gather in node); all-to-all-v: the
 * busiest GPU's max(intra out, intra in)/B_intra vs max(inter out, inter in)/B_inter, plus α.
 */
gboolean afd_replay_links_comm_time (gpointer user_data, const AfdOpGraph *graph, guint comm,
                                     double *out_seconds, GError **error);

/**
 * afd_replay_new:
 * @graph: (transfer none): a finished graph; must outlive the replay
 * @engine: (transfer none): the engine that drives the run (shared with a flow network)
 *
 * Prices every op (so pricing errors surface before anything runs).
 *
 * Returns: (transfer full) (nullable): the replay, or %NULL with the pricing error
 */
AfdReplay *afd_replay_new (const AfdOpGraph *graph, AfdEngine *engine,
                           const AfdReplayConfig *config, GError **error);

void afd_replay_free (AfdReplay *self);

/**
 * afd_replay_run:
 *
 * Runs the engine until every op finished.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when ops never finish (a dependency cycle through
 *   rendezvous, or a flow network that never called back), naming the first stuck op
 */
gboolean afd_replay_run (AfdReplay *self, GError **error);

/* Flow network: ends collective @comm now (all its member ops). */
void afd_replay_comm_finished (AfdReplay *self, guint comm);

/* Results, valid after a successful afd_replay_run(). Times in nanoseconds. */
AfdTime afd_replay_op_start (const AfdReplay *self, guint op);
AfdTime afd_replay_op_end (const AfdReplay *self, guint op);
/* Returns: when collective @comm's transfer started (its last member arrived). */
AfdTime afd_replay_comm_start (const AfdReplay *self, guint comm);
/* Returns: the end of the last op: the iteration time. */
AfdTime afd_replay_makespan (const AfdReplay *self);

/* Per-GPU time split, seconds. */
typedef struct {
  double compute_busy_s; /* sum of compute-op durations */
  double comm_busy_s;    /* sum of collective transfer time (rendezvous to end) */
  double comm_wait_s;    /* time comm ops waited for their peers at the rendezvous */
  double busy_s;         /* union of compute and transfer intervals */
  double idle_s;         /* makespan - busy_s */
  double flops;          /* FLOPs of the GPU's compute ops */
} AfdReplayGpuTimes;

void afd_replay_gpu_times (const AfdReplay *self, guint gpu, AfdReplayGpuTimes *out);

/**
 * afd_replay_critical_path:
 *
 * Walks back from the op that ends last: at a collective to the member that arrived last,
 * otherwise to the dependency or stream predecessor that ended last.
 *
 * Returns: (transfer full) (element-type guint): op ids from the first to the last
 */
GArray *afd_replay_critical_path (const AfdReplay *self);

/**
 * afd_replay_write_trace:
 * @trace: (transfer none): an open writer
 *
 * One process per GPU ("gpu3 node0 attention"), threads "compute" and "comm", a complete event
 * per op (comm ops from their rendezvous, with the wait in args), flow arrows for every
 * cross-GPU dependency.
 */
void afd_replay_write_trace (const AfdReplay *self, AfdTraceWriter *trace);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdReplay, afd_replay_free)

G_END_DECLS

#endif /* AFD_SIM_REPLAY_H */
