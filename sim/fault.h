/* SPDX-License-Identifier: MIT */
/*
 * fault.h - faults injected into a simulated run (issue #8; docs/models/faults.md): a failed
 * GPU, a failed or degraded link (or every link of a NIC/switch), a straggler GPU.
 *
 * A fault is written as a spec string, the same on the command line (`--fault`) and in an
 * experiment's "faults" array:
 *
 *   gpu:G[@WHEN]                 GPU G (cluster index) fails
 *   link:A/B[@WHEN]              both directions of the link between vertices A and B fail
 *   link:V[@WHEN]                every link of vertex V (a NIC or switch id) fails
 *   link:A/B:F[@WHEN], link:V:F  those links keep the fraction F in (0, 1] of their bandwidth
 *   straggler:G:X[@WHEN]         GPU G's compute ops take X >= 1 times as long
 *
 * WHEN is @iterN (at the start of iteration N; default @iter0) or @t=TIME (at simulated time
 * TIME since the run's start, a number with a unit s, ms, us or ns: @t=12.5ms; the iteration
 * it strikes in is found as the run goes, docs/models/faults.md "Faults at a simulated time").
 * A fault holds from when it strikes to the end of the run. Applying faults
 * derives modified inputs (a cluster copy with links scaled or removed, a per-GPU compute
 * scale, a failed-GPU mask); the simulator core is unchanged. Nothing here prints.
 */
#ifndef AFD_SIM_FAULT_H
#define AFD_SIM_FAULT_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cluster.h"
#include "sim/types.h"

G_BEGIN_DECLS

/* What fails. */
typedef enum {
  AFD_FAULT_GPU = 0,   /* the GPU stops: its work is lost unless a replica holds it */
  AFD_FAULT_LINK,      /* links fail (fraction 0) or keep a fraction of their bandwidth */
  AFD_FAULT_STRAGGLER, /* the GPU's compute ops are slowed by a factor */
} AfdFaultKind;

/* One parsed fault. */
typedef struct {
  AfdFaultKind kind;
  char *spec;        /* the spec as written, for messages, notes and trace markers */
  guint gpu;         /* gpu, straggler: the GPU's index in the cluster */
  char *vertex_a;    /* link: a vertex id ("n0.nic1") */
  char *vertex_b;    /* link: (nullable) the other end; NULL = every link of vertex_a */
  double fraction;   /* link: bandwidth kept, in (0, 1]; 0 = the links fail */
  double factor;     /* straggler: compute-time multiplier, >= 1 */
  guint iteration;   /* @iterN: first iteration (0-based) the fault holds in; 0 with @t= */
  gboolean at_time;  /* TRUE for @t=TIME: the fault strikes at time_ns, not at an iteration */
  AfdTime time_ns;   /* @t=TIME: simulated time since the run's start, ns (<= 1e6 s) */
} AfdFault;

/* The largest iteration a fault may name, and the most iterations a run may have. */
#define AFD_FAULT_MAX_ITERATIONS 10000

/* The latest simulated time a fault may name (@t=TIME, "time_s"), in seconds: 1e6 s. */
#define AFD_FAULT_MAX_TIME_S 1e6

/**
 * afd_fault_parse:
 * @spec: a fault spec (syntax above)
 * @code: the error code for a bad spec (AFD_ERROR_USAGE for flags, AFD_ERROR_CONFIG in files)
 *
 * Returns: (transfer full) (nullable): the fault, or %NULL with @error naming the spec and
 *   the problem (the caller prefixes the flag or file key)
 */
AfdFault *afd_fault_parse (const char *spec, int code, GError **error);

/**
 * afd_fault_from_json:
 * @item: a string spec, or an object {"kind": "gpu"|"link"|"straggler", "gpu", "link",
 *   "fraction", "factor", "iteration" or "time_s" (seconds; not both)} (unknown keys refused)
 * @file: the file for messages; @path: the item's key path ("faults[2]")
 *
 * Returns: (transfer full) (nullable): the fault, or %NULL with AFD_ERROR_CONFIG
 *   "FILE: PATH[.KEY]: problem"
 */
AfdFault *afd_fault_from_json (const cJSON *item, const char *file, const char *path,
                               GError **error);

void afd_fault_free (AfdFault *self);

/* Returns: TRUE for faults that stop work (a GPU, or links with fraction 0): the iteration
 * they hit pays detection and re-execution. */
gboolean afd_fault_is_failure (const AfdFault *self);

/**
 * afd_fault_check:
 * @cluster: (transfer none): the run's cluster
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the GPU index is out of range, a vertex id is
 *   unknown, or A and B share no link
 */
gboolean afd_fault_check (const AfdFault *self, const AfdCluster *cluster, GError **error);

/**
 * afd_fault_derive_cluster:
 * @faults: (array length=n) (element-type AfdFault): the active faults (others ignored)
 *
 * Applies every link fault: each affected directed link's bandwidth is multiplied by its
 * fraction (the smallest when several faults hit it), or the link is removed (fraction 0) and
 * routes are recomputed by the router over the copy.
 *
 * Returns: (transfer full) (nullable): the derived cluster, or %NULL with AFD_ERROR_TOPOLOGY
 *   when removing the links disconnects two GPUs (afd_fault_derive_cluster_full() with
 *   AFD_FAULT_CUT_FAIL)
 */
AfdCluster *afd_fault_derive_cluster (const AfdCluster *cluster, AfdFault *const *faults,
                                      guint n, GError **error);

/**
 * afd_fault_cut_off_gpus:
 * @faults: (array length=n) (element-type AfdFault): the active faults (faults that fail
 *   afd_fault_check() are ignored)
 * @out_cut: (array length=gpu_count) (out caller-allocates): nonzero for each GPU cut off
 *
 * With the failed links (fraction 0) removed, the main component is the connected component
 * (undirected, through any vertex, GPUs included) holding the most GPUs, ties to the one
 * holding the lowest GPU index; every GPU outside it is cut off. A cut-off GPU is lost to the
 * job like a failed GPU (docs/models/faults.md).
 *
 * Returns: the number of GPUs cut off
 */
guint afd_fault_cut_off_gpus (const AfdCluster *cluster, AfdFault *const *faults, guint n,
                              guint8 *out_cut);

/* What afd_fault_derive_cluster_full() does with GPUs that failed links cut off. */
typedef enum {
  AFD_FAULT_CUT_FAIL = 0, /* AFD_ERROR_TOPOLOGY: every GPU pair must keep a route */
  AFD_FAULT_CUT_EXEMPT,   /* the cut-off GPUs (afd_fault_cut_off_gpus) and whatever is cut off
                           * with them are exempt from the route checks: the copy may have no
                           * route to or from them, so they must get no op */
  AFD_FAULT_CUT_REJOIN,   /* the failed links with an end outside the main component are kept
                           * (with their other faults' fractions): the cut-off GPUs keep the
                           * routes they had, for the stand-in ops of a failed GPU whose work a
                           * replica serves (sim/experiment.c) */
} AfdFaultCutMode;

/**
 * afd_fault_derive_cluster_full:
 * @faults: (array length=n) (element-type AfdFault): the active faults (others ignored)
 * @mode: what to do with GPUs cut off by failed links
 *
 * afd_fault_derive_cluster() with a choice for the cut-off GPUs.
 *
 * Returns: (transfer full) (nullable): the derived cluster, or %NULL with AFD_ERROR_TOPOLOGY
 *   when two GPUs that must be routed (all of them, or with AFD_FAULT_CUT_EXEMPT those of the
 *   main component) have no route; AFD_ERROR_CONFIG for a fault that fails afd_fault_check()
 */
AfdCluster *afd_fault_derive_cluster_full (const AfdCluster *cluster, AfdFault *const *faults,
                                           guint n, AfdFaultCutMode mode, GError **error);

/**
 * afd_fault_compute_scale:
 * @out_scale: (array length=n_gpus) (out caller-allocates): per GPU, the product of the
 *   active stragglers' factors (1 for healthy GPUs)
 */
void afd_fault_compute_scale (AfdFault *const *faults, guint n, guint n_gpus, double *out_scale);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdFault, afd_fault_free)

G_END_DECLS

#endif /* AFD_SIM_FAULT_H */
