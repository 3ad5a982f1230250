/* SPDX-License-Identifier: MIT */
/*
 * cuda-calibrate.h - measure this machine's GPUs into a profile (docs/user/profile-format.md).
 *
 * The one entry point that cli/cmd-calibrate.c calls. It has two implementations chosen
 * by configure: backends/cuda/cuda-calibrate.c (--enable-cuda) and backends/cuda-stub.c, whose
 * functions fail with AFD_ERROR_BACKEND_UNAVAILABLE. No CUDA type appears here, so any file
 * of backends/ may include it. Nothing here prints; progress goes through a callback.
 */
#ifndef AFD_BACKENDS_CUDA_CUDA_CALIBRATE_H
#define AFD_BACKENDS_CUDA_CUDA_CALIBRATE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cost-model.h"

G_BEGIN_DECLS

/* The `cuda` cost backend: measures each distinct op shape on a real GPU, once per run
 * (backends/cuda/cuda-backend.c; in a build without CUDA its probe fails, cuda-stub.c). */
extern const AfdCostModelClass afd_cost_model_cuda_class;

/* Receives one line of progress (no newline). */
typedef void (*AfdCudaProgressFunc) (const char *line, gpointer user_data);

/* What `afdsim calibrate` asked for. */
typedef struct {
  guint gpus;              /* GPUs to use: 1 = single-GPU tables only; >= 2 adds NCCL */
  guint collective_min_gpus; /* smallest NCCL group measured (default 2; 1 checks the NCCL
                              * path on a one-GPU machine) */
  gboolean quick;          /* a small grid (a smoke test of a minute or less) */
  guint warmup;            /* untimed repetitions before timing */
  guint repetitions;       /* timed repetitions per point */
  double timeout_s;        /* deadline of every wait on a device or on NCCL, seconds */
  const char *command_line; /* recorded in the provenance block; borrowed */
  AfdCudaProgressFunc progress; /* nullable */
  gpointer progress_data;
} AfdCudaCalibrateOptions;

/**
 * afd_cuda_probe:
 * @min_gpus: how many CUDA devices are needed
 * @out_count: (out) (optional): the number of visible devices
 *
 * Returns: %FALSE with AFD_ERROR_BACKEND_UNAVAILABLE when afdsim was built without CUDA, no
 *   driver or device is found, or fewer than @min_gpus devices are visible
 */
gboolean afd_cuda_probe (guint min_gpus, guint *out_count, GError **error);

/**
 * afd_cuda_calibrate:
 *
 * Measures GEMMs, grouped expert GEMMs, decode and prefill attention, memory copies (on GPU 0)
 * and, with options->gpus >= 2, NCCL collectives over 2..gpus GPUs, and fits α-β per
 * collective and size range.
 *
 * Returns: (transfer full) (nullable): the profile as a JSON tree (format_version 1), or %NULL
 *   with AFD_ERROR_BACKEND_UNAVAILABLE / AFD_ERROR_BACKEND_FAILED
 */
cJSON *afd_cuda_calibrate (const AfdCudaCalibrateOptions *options, GError **error);

/* Size of an ncclUniqueId (NCCL_UNIQUE_ID_BYTES), passed between node groups as bytes. */
#define AFD_CUDA_NCCL_ID_BYTES 128

/* One node group of `calibrate --two-nodes` (backends/calibrate-nodes.c forks one process per
 * group before any CUDA call; each sees only its GPUs through CUDA_VISIBLE_DEVICES). */
typedef struct {
  guint node;                /* 0 … nodes − 1 */
  guint nodes;               /* node groups (2) */
  guint gpus_per_node;       /* GPUs of each group */
  int id_fd;                 /* node 0 writes the ncclUniqueId (nodes − 1 copies) to this pipe;
                              * the others read theirs from it */
  const char *nccl_log_path; /* NCCL_DEBUG_FILE of this process (node 0 parses its "via NET/…"
                              * lines); nullable */
} AfdCudaNodeGroup;

/**
 * afd_cuda_calibrate_node:
 *
 * Runs one node group's side of `calibrate --two-nodes`: node 0 makes the ncclUniqueId and
 * sends it, the others wait for it (deadline options->timeout_s); then NCCL collectives over
 * every group's GPUs (tables with tier "inter_node"). Node 0 returns a profile (provenance with
 * "nccl_net_transport", the transport NCCL chose between the groups); the others an object
 * holding only "collectives".
 *
 * Returns: (transfer full) (nullable): the JSON, or %NULL with AFD_ERROR_BACKEND_UNAVAILABLE /
 *   AFD_ERROR_BACKEND_FAILED
 */
cJSON *afd_cuda_calibrate_node (const AfdCudaCalibrateOptions *options,
                                const AfdCudaNodeGroup *group, GError **error);

/**
 * afd_cuda_verify:
 * @profile_path: a profile just written by afd_cuda_calibrate() on this machine
 *
 * Re-measures a fixed list of off-grid shapes (GEMMs, decode attention, a prefill, copies) on
 * GPU 0 and compares each with the profile's prediction; also compares the profile's grouped
 * GEMM measurements with the sum-of-GEMMs model. For the "verification" block of the profile.
 *
 * Returns: (transfer full) (nullable): a JSON array of {op, shape, measured_s, predicted_s,
 *   error_rel}, or %NULL with @error set
 */
cJSON *afd_cuda_verify (const char *profile_path, const AfdCudaCalibrateOptions *options,
                        GError **error);

G_END_DECLS

#endif /* AFD_BACKENDS_CUDA_CUDA_CALIBRATE_H */
