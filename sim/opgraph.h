/* SPDX-License-Identifier: MIT */
/*
 * opgraph.h - the operator graph of one iteration: per GPU, ordered ops on streams, with
 * dependencies; what a deployment strategy builds and what the replay runs.
 *
 * Every GPU has two streams, compute (0) and comm (1). Ops on one stream run in the order they
 * were added (CUDA-stream semantics); an op may also depend on earlier ops of any GPU/stream.
 * A compute op carries an AfdOp (FLOPs, bytes, shapes; priced by a cost model), or a fixed
 * duration. A
 * collective is ONE logical comm (pattern, group of GPUs, bytes, optional per-pair bytes for
 * all-to-all-v) with one member op per GPU of the group, on that GPU's comm stream; it starts
 * when every member reached it (rendezvous). Dependencies always point to earlier ops, so the
 * graph is acyclic by construction. The graph only describes work: it prices and times nothing.
 * Per-GPU memory (bytes) is recorded by the strategy for the metrics.
 */
#ifndef AFD_SIM_OPGRAPH_H
#define AFD_SIM_OPGRAPH_H

#include <glib.h>

#include "sim/op.h"

G_BEGIN_DECLS

typedef struct _AfdOpGraph AfdOpGraph;

/* "No op": a dependency slot left empty. */
#define AFD_OPGRAPH_NONE G_MAXUINT

/* The two streams every GPU has. */
#define AFD_OPGRAPH_STREAM_COMPUTE 0u
#define AFD_OPGRAPH_STREAM_COMM 1u
#define AFD_OPGRAPH_N_STREAMS 2u

typedef enum {
  AFD_OPGRAPH_COMPUTE = 0,
  AFD_OPGRAPH_COMM,
} AfdOpGraphKind;

/* Communication patterns (NCCL names; bytes as nccl-tests counts them, see add_comm). */
typedef enum {
  AFD_COMM_ALL_REDUCE = 0,
  AFD_COMM_ALL_GATHER,
  AFD_COMM_REDUCE_SCATTER,
  AFD_COMM_BROADCAST,
  AFD_COMM_ALL_TO_ALL, /* all-to-all-v: per-pair bytes */
  AFD_COMM_SEND_RECV,  /* point to point: member 0 sends, member 1 receives */
  AFD_COMM_BARRIER,    /* no bytes; a rendezvous only */
  AFD_COMM_N_PATTERNS
} AfdCommPattern;

/* Returns: the pattern's name ("all-reduce", "all-to-all", …). */
const char *afd_comm_pattern_name (AfdCommPattern pattern);

/* One op as the graph stores it; read with afd_opgraph_op(). */
typedef struct {
  AfdOpGraphKind kind;
  guint gpu;
  guint stream;
  const char *name;  /* owned by the graph */
  guint layer;       /* layer index, or AFD_OPGRAPH_NONE */
  guint micro_batch; /* micro-batch index (0 when none) */
  AfdOpKind op_kind; /* compute: the AfdOp's kind; comm: AFD_OP_COMM_ALL_REDUCE etc. */
  double flops;      /* compute: FLOPs (0 for comm) */
  double hbm_bytes;  /* compute: HBM bytes read + written */
  double fixed_duration_s; /* >= 0: fixed duration, seconds; < 0: priced by the replay */
  guint payload;      /* compute: stored AfdOp (afd_opgraph_compute_op()), or AFD_OPGRAPH_NONE */
  guint comm;         /* comm ops: index of the collective */
  guint member;       /* comm ops: this op's index inside the collective's group */
  double send_bytes;  /* comm ops: bytes this GPU sends over links */
  double recv_bytes;  /* comm ops: bytes this GPU receives over links */
  guint dep_offset;   /* valid after afd_opgraph_finish(): deps in afd_opgraph_deps() */
  guint n_deps;
} AfdOpGraphOp;

/* One collective as the graph stores it; read with afd_opgraph_comm(). */
typedef struct {
  AfdCommPattern pattern;
  const char *name;    /* owned by the graph */
  guint n_members;
  guint member_offset; /* members' GPUs at afd_opgraph_comm_gpus(), ops at _comm_ops() */
  double bytes;        /* the collective's buffer size in bytes (nccl-tests "size") */
  gboolean has_pairs;  /* all-to-all-v: afd_opgraph_comm_pairs() has n_members^2 entries */
  gsize pair_offset;    /* internal: which stored matrix */
  gboolean pairs_even;  /* internal: stored as per-member counts (afd_opgraph_add_comm_even) */
} AfdOpGraphComm;

/**
 * afd_opgraph_new:
 * @n_gpus: number of GPUs (> 0); all start with role "idle" on node 0
 *
 * Returns: (transfer full): an empty graph; free with afd_opgraph_free()
 */
AfdOpGraph *afd_opgraph_new (guint n_gpus);

void afd_opgraph_free (AfdOpGraph *self);

/**
 * afd_opgraph_set_gpu:
 * @node: the node the GPU sits in (for trace names and for the network)
 * @role: (transfer none): "attention", "moe", "tp0-pp1", … copied
 * @memory_bytes: the strategy's estimate of the GPU's memory use, bytes
 */
void afd_opgraph_set_gpu (AfdOpGraph *self, guint gpu, guint node, const char *role,
                          double memory_bytes);

/**
 * afd_opgraph_add_compute:
 * @stream: AFD_OPGRAPH_STREAM_COMPUTE or _COMM (rarely: a copy engine op)
 * @op: (transfer none): the operator, deep-copied (its name becomes the op's name)
 * @deps: (array length=n_deps) (nullable): earlier op ids; AFD_OPGRAPH_NONE entries skipped
 *
 * Returns: the new op's id (dense, from 0, in add order)
 */
guint afd_opgraph_add_compute (AfdOpGraph *self, guint gpu, guint stream, guint layer,
                               guint micro_batch, const AfdOp *op, const guint *deps,
                               guint n_deps);

/**
 * afd_opgraph_add_fixed:
 * @name: (transfer none): copied
 * @duration_s: fixed duration, seconds (>= 0)
 * @flops: FLOPs credited to the op (for HFU), may be 0
 *
 * Adds a compute op with a known duration and no AfdOp (hand-made graphs, tests, delays).
 *
 * Returns: the new op's id
 */
guint afd_opgraph_add_fixed (AfdOpGraph *self, guint gpu, guint stream, const char *name,
                             guint layer, guint micro_batch, double duration_s, double flops,
                             const guint *deps, guint n_deps);

/**
 * afd_opgraph_compute_op:
 * @out_view: (out): filled with the stored op; its pointers are borrowed from the graph
 *   (never free them, never pass the view to afd_op_free())
 *
 * Returns: %FALSE when @op has no stored AfdOp (a comm op or a fixed op)
 */
gboolean afd_opgraph_compute_op (const AfdOpGraph *self, guint op, AfdOp *out_view);

/**
 * afd_opgraph_add_comm:
 * @gpus: (array length=n_members): the group, distinct GPUs (member order matters for
 *   @pair_bytes, send/recv and broadcast, whose root is member 0)
 * @bytes: buffer size in bytes: all-reduce/broadcast: the whole buffer; all-gather: the
 *   gathered output; reduce-scatter: the input; send/recv: the message; all-to-all without
 *   pairs: each member's send buffer, @bytes / n_members to every member (uniform); with
 *   @pair_bytes the stored size becomes the matrix total
 * @pair_bytes: (array) (nullable): all-to-all-v only: n_members x n_members, row = sender,
 *   column = receiver, bytes; the diagonal is local and never crosses a link
 * @member_deps: (array length=n_members) (nullable): for each member, one earlier op its
 *   member op depends on (AFD_OPGRAPH_NONE for none); more with afd_opgraph_add_dep()
 * @out_member_ops: (out) (array length=n_members) (nullable): the member op ids
 *
 * Adds one collective and one member op per GPU on that GPU's comm stream.
 *
 * Returns: the collective's index
 */
guint afd_opgraph_add_comm (AfdOpGraph *self, AfdCommPattern pattern, const char *name,
                            guint layer, guint micro_batch, const guint *gpus, guint n_members,
                            double bytes, const double *pair_bytes, const guint *member_deps,
                            guint *out_member_ops);

/**
 * afd_opgraph_add_comm_even:
 * @counts: (array length=n_members): per member, the items it receives (or, with
 *   @transpose, sends), each @unit_bytes long
 * @transpose: %FALSE: sender i sends member j share(counts[j], n, (i + j) mod n) items
 *   (every sender an even share of what j receives: an MoE dispatch); %TRUE: member i sends
 *   member j share(counts[i], n, (i + j) mod n) items (the matching combine)
 *
 * Adds an all-to-all-v whose pair matrix is that even split, stored in O(n) instead of
 * O(n^2) (wide expert parallelism has hundreds of such collectives of 320^2 pairs). It
 * behaves exactly like afd_opgraph_add_comm() with the materialised matrix.
 *
 * Returns: the collective's index
 */
guint afd_opgraph_add_comm_even (AfdOpGraph *self, const char *name, guint layer,
                                 guint micro_batch, const guint *gpus, guint n_members,
                                 const guint64 *counts, double unit_bytes, gboolean transpose,
                                 const guint *member_deps, guint *out_member_ops);

/* Adds a dependency of @op on the earlier op @dep (AFD_OPGRAPH_NONE: ignored). */
void afd_opgraph_add_dep (AfdOpGraph *self, guint op, guint dep);

/* Returns: the last op added on @gpu (any stream), or AFD_OPGRAPH_NONE. */
guint afd_opgraph_gpu_tail (const AfdOpGraph *self, guint gpu);

/* Returns: the last op added on (@gpu, @stream), or AFD_OPGRAPH_NONE. */
guint afd_opgraph_stream_tail (const AfdOpGraph *self, guint gpu, guint stream);

/**
 * afd_opgraph_finish:
 *
 * Freezes the graph: builds the dependency index. No op may be added afterwards. Idempotent.
 */
void afd_opgraph_finish (AfdOpGraph *self);

guint afd_opgraph_n_gpus (const AfdOpGraph *self);
guint afd_opgraph_n_ops (const AfdOpGraph *self);
guint afd_opgraph_n_comms (const AfdOpGraph *self);
/* Returns: (transfer none): op @op; valid while the graph lives and nothing is added. */
const AfdOpGraphOp *afd_opgraph_op (const AfdOpGraph *self, guint op);
const AfdOpGraphComm *afd_opgraph_comm (const AfdOpGraph *self, guint comm);
/* Returns: (transfer none): the dependency ids of all ops (index with op->dep_offset). */
const guint *afd_opgraph_deps (const AfdOpGraph *self);
const guint *afd_opgraph_comm_gpus (const AfdOpGraph *self, guint comm);
const guint *afd_opgraph_comm_ops (const AfdOpGraph *self, guint comm);
/* Returns: (transfer none) (nullable): the n^2 pair bytes, or %NULL when none. A collective
 * added with afd_opgraph_add_comm_even() is materialised into one buffer owned by the
 * graph, valid until the next call of this function. */
const double *afd_opgraph_comm_pairs (const AfdOpGraph *self, guint comm);
guint afd_opgraph_gpu_node (const AfdOpGraph *self, guint gpu);
const char *afd_opgraph_gpu_role (const AfdOpGraph *self, guint gpu);
double afd_opgraph_gpu_memory (const AfdOpGraph *self, guint gpu);

/**
 * afd_opgraph_gpus_used:
 * @out_n_used: (out) (optional): how many GPUs have at least one op
 *
 * The GPUs a placement uses are those with at least one op; every per-GPU figure (metrics,
 * cost, energy) is over these, not over every GPU of the cluster.
 *
 * Returns: (transfer full): afd_opgraph_n_gpus() flags (at least one element), TRUE where
 *   the GPU has an op; free with g_free()
 */
gboolean *afd_opgraph_gpus_used (const AfdOpGraph *self, guint *out_n_used);

/**
 * afd_opgraph_member_bytes:
 * Bytes member @member of collective @comm sends and receives over links under the ring
 * algorithms nccl-tests assumes (all-reduce 2(n-1)/n·S, all-gather and reduce-scatter
 * (n-1)/n·S, broadcast S for non-roots, all-to-all its off-diagonal row/column sums, send/recv
 * S). Summed over a collective, sent bytes equal received bytes.
 */
void afd_opgraph_member_bytes (const AfdOpGraph *self, guint comm, guint member,
                               double *out_send_bytes, double *out_recv_bytes);

/* Records the FLOPs one non-redundant execution of the model needs (the MFU numerator). */
void afd_opgraph_set_model_flops (AfdOpGraph *self, double flops);
double afd_opgraph_get_model_flops (const AfdOpGraph *self);

/* Returns: total FLOPs of compute ops of kind @kind (all GPUs); AFD_OP_KIND_COUNT: all. */
double afd_opgraph_total_flops (const AfdOpGraph *self, AfdOpKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdOpGraph, afd_opgraph_free)

G_END_DECLS

#endif /* AFD_SIM_OPGRAPH_H */
