/* SPDX-License-Identifier: MIT */
/*
 * gpu-set.h - simulated GPUs with named streams whose ops run in order (CUDA-stream semantics).
 *
 * A GPU owns streams ("compute", "comm", …). Ops enqueued on one stream run one at a time in
 * enqueue order. An op may wait on other ops (any GPU, any stream) — like cudaStreamWaitEvent
 * — and does not start before they all complete. An op's duration is either known when it is
 * enqueued, or decided when it starts by its start callback (communication ops whose time the
 * network decides); such an op ends when afd_gpu_set_finish() / afd_gpu_finish_op() is called.
 * Completion callbacks fire at the op's end time, in (time, sequence) order.
 * The module records per-stream busy time and can report each op to a trace writer.
 */
#ifndef AFD_SIM_GPU_SET_H
#define AFD_SIM_GPU_SET_H

#include <glib.h>

#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/types.h"

G_BEGIN_DECLS

typedef struct _AfdGpuSet AfdGpuSet;

/* Duration value meaning "decided later by afd_gpu_set_finish_op()". */
#define AFD_OP_DURATION_EXTERNAL G_GINT64_CONSTANT (-1)

/**
 * AfdOpStartFunc:
 * @op: the op id returned by afd_gpu_set_enqueue()
 * @start_ns: the time the op starts
 * @user_data: the op's user data
 *
 * Called when an external-duration op starts; it arranges for afd_gpu_set_finish_op()
 * to be called later.
 */
typedef void (*AfdOpStartFunc) (AfdGpuSet *set, guint op, AfdTime start_ns, gpointer user_data);

/**
 * AfdOpDoneFunc:
 * Called at an op's completion time, after its waiters have been released.
 */
typedef void (*AfdOpDoneFunc) (AfdGpuSet *set, guint op, AfdTime start_ns, AfdTime end_ns,
                               gpointer user_data);

/* What to enqueue: one op on one stream of one GPU. */
typedef struct {
  guint gpu;              /* GPU index in the set */
  guint stream;           /* stream index on that GPU (afd_gpu_set_add_stream) */
  AfdTime duration_ns;    /* >= 0, or AFD_OP_DURATION_EXTERNAL */
  const char *name;       /* borrowed for the call; copied if tracing ("qkv_proj") */
  const char *category;   /* borrowed; e.g. "compute", "comm" (trace "cat") */
  AfdOpStartFunc on_start; /* optional; required for external ops */
  AfdOpDoneFunc on_done;  /* optional */
  gpointer user_data;
  double flops;           /* for the trace args and utilisation; 0 if none */
  double bytes;           /* bytes moved (HBM or network); 0 if none */
} AfdOpSpec;

/**
 * afd_gpu_set_new:
 * @engine: (transfer none): the engine that drives the ops; must outlive the set
 * @trace: (transfer none) (nullable): where ops are reported, or %NULL
 *
 * Returns: (transfer full): an empty set of GPUs
 */
AfdGpuSet *afd_gpu_set_new (AfdEngine *engine, AfdTraceWriter *trace);

void afd_gpu_set_free (AfdGpuSet *self);

/* Adds a GPU named @name (e.g. "node0/gpu3"); returns its index. */
guint afd_gpu_set_add_gpu (AfdGpuSet *self, const char *name);

/* Adds a stream named @name ("compute", "comm") to GPU @gpu; returns its index on that GPU. */
guint afd_gpu_set_add_stream (AfdGpuSet *self, guint gpu, const char *name);

/**
 * afd_gpu_set_enqueue:
 * @spec: (transfer none): the op
 * @waits: (array length=n_waits) (nullable): op ids this op must wait for
 *
 * Returns: the op id (dense, from 0, in enqueue order)
 */
guint afd_gpu_set_enqueue (AfdGpuSet *self, const AfdOpSpec *spec, const guint *waits,
                           guint n_waits);

/* Ends external op @op now (afd_engine_now()). */
void afd_gpu_set_finish_op (AfdGpuSet *self, guint op);

/* Per-op and per-stream results, valid after the engine ran. */
AfdTime afd_gpu_set_op_start (const AfdGpuSet *self, guint op);
AfdTime afd_gpu_set_op_end (const AfdGpuSet *self, guint op);   /* -1 if not finished */
AfdTime afd_gpu_set_stream_busy (const AfdGpuSet *self, guint gpu, guint stream);
guint afd_gpu_set_n_ops (const AfdGpuSet *self);
guint afd_gpu_set_n_gpus (const AfdGpuSet *self);
guint afd_gpu_set_n_streams (const AfdGpuSet *self, guint gpu); /* streams on GPU @gpu */
guint afd_gpu_set_n_unfinished (const AfdGpuSet *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdGpuSet, afd_gpu_set_free)

G_END_DECLS

#endif /* AFD_SIM_GPU_SET_H */
