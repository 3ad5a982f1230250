/* SPDX-License-Identifier: MIT */
/*
 * cuda-private.h - what the files of backends/cuda/ share: a per-GPU context (stream, cuBLAS
 * handles, workspace), the event timer and its statistics, random device buffers.
 *
 * Timing method (docs/backends/cuda.md): every benchmark is warmed up, then each repetition is
 * bracketed by two CUDA events on one stream; the host enqueues all repetitions behind a chain
 * of device-to-device copies (the "blocker"), sized from the warm-up's host time per
 * repetition, so that the host's launch latency never shows as idle GPU time inside a bracket. Statistics keep the median and the spread (min, p10, p90, max).
 * Every wait on the device polls with a deadline, so a wedged GPU ends with an error, never a
 * hang. Nothing here prints. Private to backends/cuda/.
 */
#ifndef AFD_BACKENDS_CUDA_CUDA_PRIVATE_H
#define AFD_BACKENDS_CUDA_CUDA_PRIVATE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "backends/cuda/cuda-calibrate.h"
#include "backends/cuda/cuda-check.h"
#include "sim/gpu-spec.h"

G_BEGIN_DECLS

/* Median and spread of repeated timings, in seconds. */
typedef struct {
  double median_s;
  double min_s;
  double p10_s;
  double p90_s;
  double max_s;
  guint repetitions;
} AfdCudaStats;

/* One GPU's benchmarking state. */
typedef struct {
  int device;
  cudaStream_t stream;
  cublasLtHandle_t lt;
  cublasHandle_t blas;
  void *workspace;
  size_t workspace_bytes;
  void *blocker; /* two halves of blocker_bytes/2 each, copied into one another */
  size_t blocker_bytes;
  guint warmup;
  guint repetitions;
  double timeout_s;
  cudaEvent_t *starts; /* repetitions events each */
  cudaEvent_t *stops;
  GRand *rand; /* seeded: the data are reproducible */
  void *patterns[AFD_DTYPE_COUNT]; /* random host bytes per dtype, made on first use */
  size_t pattern_bytes;
  int compute_major;
  int compute_minor;
} AfdCudaContext;

/* One prepared cuBLASLt GEMM shape: Y[m×n] = X[m×k]·W[n×k]ᵀ (cuda-gemm.c's layout). */
typedef struct {
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, c;
  cublasLtMatmulHeuristicResult_t algo;
} AfdCudaLtGemm;

/* Enqueues one repetition of the measured work on @ctx->stream. */
typedef gboolean (*AfdCudaLaunchFunc) (AfdCudaContext *ctx, guint repetition, gpointer data,
                                       GError **error);

/**
 * afd_cuda_context_new:
 * @device: CUDA device ordinal
 *
 * Returns: (transfer full) (nullable): a context with its own stream and cuBLAS handles, or
 *   %NULL with AFD_ERROR_BACKEND_FAILED
 */
G_GNUC_INTERNAL AfdCudaContext *afd_cuda_context_new (int device, guint warmup,
                                                      guint repetitions, double timeout_s,
                                                      GError **error);
G_GNUC_INTERNAL void afd_cuda_context_free (AfdCudaContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdCudaContext, afd_cuda_context_free)

/**
 * afd_cuda_time:
 * @launch: enqueues one repetition; called warmup + repetitions times
 *
 * Returns: %FALSE with @error set when a launch fails or the device does not finish within
 *   @ctx->timeout_s
 */
G_GNUC_INTERNAL gboolean afd_cuda_time (AfdCudaContext *ctx, AfdCudaLaunchFunc launch,
                                        gpointer data, AfdCudaStats *out_stats, GError **error);

/**
 * afd_cuda_stream_wait:
 * Polls cudaStreamQuery until the stream is idle or @timeout_s has passed.
 *
 * Returns: %FALSE with AFD_ERROR_BACKEND_FAILED on a device error or the deadline
 */
G_GNUC_INTERNAL gboolean afd_cuda_stream_wait (cudaStream_t stream, double timeout_s,
                                               const char *what, GError **error);

/**
 * afd_cuda_alloc_random:
 * @bytes: size of the buffer
 *
 * Allocates device memory and fills it with random finite values of @dtype (never zeros:
 * zeros run faster than real data on tensor cores).
 *
 * Returns: (nullable): the device pointer (cudaFree it), or %NULL with @error set
 */
G_GNUC_INTERNAL void *afd_cuda_alloc_random (AfdCudaContext *ctx, size_t bytes, AfdDtype dtype,
                                             GError **error);

/* Computes median and spread of @n timings (sorted in place). */
G_GNUC_INTERNAL void afd_cuda_stats_from (double *times_s, guint n, AfdCudaStats *out_stats);

/* Adds time_median_s, time_min_s, time_p10_s, time_p90_s, time_max_s and repetitions. */
G_GNUC_INTERNAL void afd_cuda_stats_to_json (const AfdCudaStats *stats, cJSON *obj);

/* Reports one line of progress through @options (no-op without a callback). */
G_GNUC_INTERNAL void afd_cuda_progress (const AfdCudaCalibrateOptions *options, const char *fmt,
                                        ...) G_GNUC_PRINTF (2, 3);

/**
 * afd_cuda_bench_gemm:
 * Measures the dense GEMM grid (cuBLASLt; bf16, and fp8 on sm_89+) and the grouped expert
 * GEMMs, appending tables to @out_gemm and @out_grouped (JSON arrays).
 */
G_GNUC_INTERNAL gboolean afd_cuda_bench_gemm (AfdCudaContext *ctx,
                                              const AfdCudaCalibrateOptions *options,
                                              cJSON *out_gemm, cJSON *out_grouped,
                                              GError **error);

/**
 * afd_cuda_bench_attention:
 * Measures decode attention (per attention kind) and causal prefill attention emulated with
 * strided-batched GEMMs, appending tables to the two JSON arrays.
 */
G_GNUC_INTERNAL gboolean afd_cuda_bench_attention (AfdCudaContext *ctx,
                                                   const AfdCudaCalibrateOptions *options,
                                                   cJSON *out_decode, cJSON *out_prefill,
                                                   GError **error);

/**
 * afd_cuda_lt_gemm_prepare:
 * Creates @g's descriptors for Y[m×n] = X[m×k]·W[n×k]ᵀ (operands of @dtype, fp32
 * accumulation, bf16 output) and picks cuBLASLt's first heuristic algorithm within
 * @ctx's workspace. On failure @g holds what was created: afd_cuda_lt_gemm_clear() it.
 */
G_GNUC_INTERNAL gboolean afd_cuda_lt_gemm_prepare (AfdCudaContext *ctx, AfdDtype dtype,
                                                   guint64 m, guint64 n, guint64 k,
                                                   AfdCudaLtGemm *g, GError **error);

/* Frees the descriptors of @g and zeroes it. */
G_GNUC_INTERNAL void afd_cuda_lt_gemm_clear (AfdCudaLtGemm *g);

/* Enqueues the prepared GEMM @g (weights @w, input @x, output @y) on @stream. */
G_GNUC_INTERNAL gboolean afd_cuda_lt_gemm_run (AfdCudaContext *ctx, cudaStream_t stream,
                                               const AfdCudaLtGemm *g, const void *w,
                                               const void *x, void *y, GError **error);

/**
 * afd_cuda_measure_gemm:
 * Measures one GEMM Y[m×n] = X[m×k]·W[n×k]ᵀ (bf16 or fp8) with the grid's method.
 */
G_GNUC_INTERNAL gboolean afd_cuda_measure_gemm (AfdCudaContext *ctx, AfdDtype dtype, guint64 m,
                                                guint64 n, guint64 k, AfdCudaStats *out_stats,
                                                GError **error);

/**
 * afd_cuda_measure_attention:
 * @query_rows: query rows per head per sequence (1 for decode; the sequence length for a
 *   full-square prefill)
 * @shared_kv: V is the first @d_v columns of the K cache (MLA's latent)
 *
 * Measures Q·Kᵀ then S·V batched over @batch·@heads_kv problems (see cuda-attention.c).
 */
G_GNUC_INTERNAL gboolean afd_cuda_measure_attention (AfdCudaContext *ctx, guint heads_q,
                                                     guint heads_kv, guint d_qk, guint d_v,
                                                     guint64 batch, guint64 query_rows,
                                                     guint64 kv_len, gboolean shared_kv,
                                                     AfdCudaStats *out_stats, GError **error);

/* Measures one device-to-device copy of @bytes. */
G_GNUC_INTERNAL gboolean afd_cuda_measure_copy (AfdCudaContext *ctx, size_t bytes,
                                                AfdCudaStats *out_stats, GError **error);

/* Measures device-to-device copy bandwidth over sizes; fills @out_table (a JSON object). */
G_GNUC_INTERNAL gboolean afd_cuda_bench_memory (AfdCudaContext *ctx,
                                                const AfdCudaCalibrateOptions *options,
                                                cJSON *out_table, GError **error);

/**
 * afd_cuda_bench_collectives:
 * @gpus: the number of GPUs to use at most (>= 2)
 *
 * Measures NCCL collectives over 2..@gpus GPUs of this host (one process driving all), with a
 * deadline on every wait; appends tables to @out_collectives. Without NCCL built in it fails
 * with AFD_ERROR_BACKEND_UNAVAILABLE.
 */
G_GNUC_INTERNAL gboolean afd_cuda_bench_collectives (const AfdCudaCalibrateOptions *options,
                                                     guint gpus, cJSON *out_collectives,
                                                     GError **error);

/**
 * afd_cuda_nccl_unique_id:
 * @out_id: (out): AFD_CUDA_NCCL_ID_BYTES bytes: a fresh ncclUniqueId (its bootstrap root lives
 *   in this process)
 */
G_GNUC_INTERNAL gboolean afd_cuda_nccl_unique_id (guint8 *out_id, GError **error);

/**
 * afd_cuda_bench_collectives_nodes:
 * @local_gpus: GPUs this process drives (devices 0 … @local_gpus − 1)
 * @nranks: ranks of the communicator over all node groups
 * @rank0: global rank of local GPU 0
 * @id: AFD_CUDA_NCCL_ID_BYTES bytes of the ncclUniqueId every group shares
 *
 * One node group's side of `calibrate --two-nodes`: all-reduce, all-gather, reduce-scatter,
 * all-to-all and ring send/recv over all @nranks ranks, tables with tier "inter_node".
 */
G_GNUC_INTERNAL gboolean afd_cuda_bench_collectives_nodes (const AfdCudaCalibrateOptions *options,
                                                           guint local_gpus, guint nranks,
                                                           guint rank0, const guint8 *id,
                                                           cJSON *out_collectives,
                                                           GError **error);

/* Returns: (transfer full): the NCCL version "2.28.9", or %NULL when NCCL is not built in. */
G_GNUC_INTERNAL char *afd_cuda_nccl_version (void);

G_END_DECLS

#endif /* AFD_BACKENDS_CUDA_CUDA_PRIVATE_H */
