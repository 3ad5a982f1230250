/* SPDX-License-Identifier: MIT */
/*
 * exec-private.h - what the executor (cuda-exec.c) asks of its NCCL half: exec-nccl.c with
 * --with-nccl, exec-nccl-none.c without (STYLE §2.5: a stub file, not #ifdef). Private to
 * backends/cuda/.
 */
#ifndef AFD_BACKENDS_CUDA_EXEC_PRIVATE_H
#define AFD_BACKENDS_CUDA_EXEC_PRIVATE_H

#include <glib.h>

#include "backends/cuda/cuda-check.h"
#include "backends/cuda/cuda-exec.h"

G_BEGIN_DECLS

/* The communicators of every distinct group of the graph, plus one over all GPUs. */
typedef struct _AfdExecComms AfdExecComms;

/* Per-GPU resources the NCCL half uses: streams (compute, comm) and comm buffers. */
typedef struct {
  cudaStream_t streams[AFD_OPGRAPH_N_STREAMS];
  void *comm_send;
  void *comm_recv;
} AfdExecGpuComm;

/**
 * afd_exec_comms_new:
 * Creates nonblocking communicators for every collective group of @plan's graph (and one over
 * all @n_gpus GPUs for the iteration barrier), waiting at most @timeout_s.
 *
 * Returns: (transfer full) (nullable): the communicators, or %NULL with @error set
 */
G_GNUC_INTERNAL AfdExecComms *afd_exec_comms_new (const AfdExecPlan *plan, guint n_gpus,
                                                  double timeout_s, GError **error);

/* Aborts every communicator (frees NCCL's resources without a collective handshake). */
G_GNUC_INTERNAL void afd_exec_comms_free (AfdExecComms *comms);

/**
 * afd_exec_comms_barrier:
 * Enqueues a 2-element all-reduce over all GPUs on their compute streams (no-op for 1 GPU).
 */
G_GNUC_INTERNAL gboolean afd_exec_comms_barrier (AfdExecComms *comms, AfdExecGpuComm *gpus,
                                                 GError **error);

/**
 * afd_exec_comms_issue:
 * Enqueues collective @comm of the graph: every member's NCCL call on its GPU's stream of the
 * member op, in one NCCL group.
 */
G_GNUC_INTERNAL gboolean afd_exec_comms_issue (AfdExecComms *comms, guint comm,
                                               AfdExecGpuComm *gpus, GError **error);

/**
 * afd_exec_comms_check:
 * @out_busy: (out): whether an NCCL operation is still being set up (ncclInProgress)
 *
 * Returns: %FALSE with @error set on an asynchronous NCCL error
 */
G_GNUC_INTERNAL gboolean afd_exec_comms_check (AfdExecComms *comms, gboolean *out_busy,
                                               GError **error);

/* Returns: (transfer full): "NCCL 2.28.3", or "no NCCL". */
G_GNUC_INTERNAL char *afd_exec_comms_version (void);

G_END_DECLS

#endif /* AFD_BACKENDS_CUDA_EXEC_PRIVATE_H */
