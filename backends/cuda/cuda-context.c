/* SPDX-License-Identifier: MIT */
/*
 * cuda-context.c - per-GPU benchmarking context, the CUDA-event timer, random device data.
 *
 * The timer is described in cuda-private.h and docs/backends/cuda.md. This file measures
 * nothing by itself and never prints.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "backends/cuda/cuda-private.h"
#include "sim/json.h"

/* 32 MiB: what cuBLASLt documents as enough for Hopper's largest kernels. */
#define WORKSPACE_BYTES ((size_t) 32 << 20)
/* 512 MiB of blocker copy: about 0.2-0.35 ms on H100/H200, long enough for the host to
 * enqueue a run of small launches behind it. */
#define BLOCKER_BYTES ((size_t) 512 << 20)
/* A lower bound on the time of one blocker copy (256 MiB read + 256 MiB written) on any GPU
 * this code targets: 512 MiB at ≤ 8 TB/s is ≥ 67 µs. */
#define BLOCKER_MIN_US 60.0
/* Random bytes generated on the host once, then replicated on the device. */
#define PATTERN_BYTES ((size_t) 16 << 20)
/* Fixed seed: benchmark data are the same on every run. */
#define DATA_SEED 20261122u

void
afd_cuda_context_free (AfdCudaContext *ctx)
{
  if (ctx == NULL)
    return;
  cudaSetDevice (ctx->device);
  if (ctx->stream != NULL)
    cudaStreamSynchronize (ctx->stream);
  for (guint i = 0; ctx->starts != NULL && i < ctx->repetitions; i++)
    {
      if (ctx->starts[i] != NULL)
        cudaEventDestroy (ctx->starts[i]);
      if (ctx->stops[i] != NULL)
        cudaEventDestroy (ctx->stops[i]);
    }
  g_free (ctx->starts);
  g_free (ctx->stops);
  if (ctx->workspace != NULL)
    cudaFree (ctx->workspace);
  if (ctx->blocker != NULL)
    cudaFree (ctx->blocker);
  if (ctx->lt != NULL)
    cublasLtDestroy (ctx->lt);
  if (ctx->blas != NULL)
    cublasDestroy (ctx->blas);
  if (ctx->stream != NULL)
    cudaStreamDestroy (ctx->stream);
  g_clear_pointer (&ctx->rand, g_rand_free);
  for (guint d = 0; d < AFD_DTYPE_COUNT; d++)
    g_free (ctx->patterns[d]);
  g_free (ctx);
}

AfdCudaContext *
afd_cuda_context_new (int device, guint warmup, guint repetitions, double timeout_s,
                      GError **error)
{
  g_autoptr (AfdCudaContext) ctx = g_new0 (AfdCudaContext, 1);
  g_return_val_if_fail (repetitions > 0, NULL);
  ctx->device = device;
  ctx->warmup = warmup;
  ctx->repetitions = repetitions;
  ctx->timeout_s = timeout_s;
  ctx->starts = g_new0 (cudaEvent_t, repetitions);
  ctx->stops = g_new0 (cudaEvent_t, repetitions);
  ctx->rand = g_rand_new_with_seed (DATA_SEED);
  AFD_CUDA_CHECK (cudaSetDevice (device), error, NULL);
  AFD_CUDA_CHECK (cudaDeviceGetAttribute (&ctx->compute_major, cudaDevAttrComputeCapabilityMajor,
                                          device),
                  error, NULL);
  AFD_CUDA_CHECK (cudaDeviceGetAttribute (&ctx->compute_minor, cudaDevAttrComputeCapabilityMinor,
                                          device),
                  error, NULL);
  AFD_CUDA_CHECK (cudaStreamCreateWithFlags (&ctx->stream, cudaStreamNonBlocking), error, NULL);
  for (guint i = 0; i < repetitions; i++)
    {
      AFD_CUDA_CHECK (cudaEventCreate (&ctx->starts[i]), error, NULL);
      AFD_CUDA_CHECK (cudaEventCreate (&ctx->stops[i]), error, NULL);
    }
  AFD_CUBLAS_CHECK (cublasLtCreate (&ctx->lt), error, NULL);
  AFD_CUBLAS_CHECK (cublasCreate (&ctx->blas), error, NULL);
  AFD_CUBLAS_CHECK (cublasSetStream (ctx->blas, ctx->stream), error, NULL);
  ctx->workspace_bytes = WORKSPACE_BYTES;
  AFD_CUDA_CHECK (cudaMalloc (&ctx->workspace, ctx->workspace_bytes), error, NULL);
  AFD_CUBLAS_CHECK (cublasSetWorkspace (ctx->blas, ctx->workspace, ctx->workspace_bytes), error,
                    NULL);
  ctx->blocker_bytes = BLOCKER_BYTES;
  AFD_CUDA_CHECK (cudaMalloc (&ctx->blocker, ctx->blocker_bytes), error, NULL);
  AFD_CUDA_CHECK (cudaMemsetAsync (ctx->blocker, 0x3c, ctx->blocker_bytes, ctx->stream), error,
                  NULL);
  ctx->pattern_bytes = PATTERN_BYTES;
  if (!afd_cuda_stream_wait (ctx->stream, timeout_s, "context setup", error))
    return NULL;
  return g_steal_pointer (&ctx);
}

gboolean
afd_cuda_stream_wait (cudaStream_t stream, double timeout_s, const char *what, GError **error)
{
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (timeout_s * 1e6);
  for (;;)
    {
      cudaError_t status = cudaStreamQuery (stream);
      if (status == cudaSuccess)
        return TRUE;
      if (status != cudaErrorNotReady)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED, "%s: CUDA error: %s", what,
                       cudaGetErrorString (status));
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline_us)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "%s: the GPU did not finish within %.0f s (timeout)", what, timeout_s);
          return FALSE;
        }
      g_usleep (50);
    }
}

/* Returns the host pattern of random finite values of @dtype, made on first use. */
static const void *
get_pattern (AfdCudaContext *ctx, AfdDtype dtype)
{
  if (ctx->patterns[dtype] != NULL)
    return ctx->patterns[dtype];
  guint8 *bytes = ctx->patterns[dtype] = g_malloc (ctx->pattern_bytes);
  gsize n = ctx->pattern_bytes;
  if (dtype == AFD_DTYPE_FP8)
    {
      /* e4m3: sign, exponent 4..9 (about 2^-3..2^2), any mantissa; never NaN (0x7f/0xff). */
      for (gsize i = 0; i < n; i++)
        {
          guint32 r = g_rand_int (ctx->rand);
          bytes[i] = (guint8) (((r & 1u) << 7) | ((4u + (r >> 1) % 6u) << 3) | ((r >> 8) & 7u));
        }
      return bytes;
    }
  if (dtype == AFD_DTYPE_FP32)
    {
      float *f = (float *) bytes;
      for (gsize i = 0; i < n / 4; i++)
        f[i] = (float) g_rand_double_range (ctx->rand, -1.0, 1.0);
      return bytes;
    }
  /* bf16 (and fp16 read as bf16 bits is still finite): upper half of a float in [-1, 1]. */
  guint16 *h = (guint16 *) bytes;
  for (gsize i = 0; i < n / 2; i++)
    {
      float f = (float) g_rand_double_range (ctx->rand, -1.0, 1.0);
      guint32 bits;
      memcpy (&bits, &f, sizeof bits);
      h[i] = (guint16) (bits >> 16);
    }
  return bytes;
}

void *
afd_cuda_alloc_random (AfdCudaContext *ctx, size_t bytes, AfdDtype dtype, GError **error)
{
  void *ptr = NULL;
  AFD_CUDA_CHECK (cudaSetDevice (ctx->device), error, NULL);
  AFD_CUDA_CHECK (cudaMalloc (&ptr, bytes), error, NULL);
  const void *pattern = get_pattern (ctx, dtype);
  size_t first = MIN (bytes, ctx->pattern_bytes);
  cudaError_t status = cudaMemcpyAsync (ptr, pattern, first, cudaMemcpyHostToDevice,
                                        ctx->stream);
  /* Replicate on the device, doubling the filled prefix each step. */
  for (size_t done = first; status == cudaSuccess && done < bytes;)
    {
      size_t chunk = MIN (done, bytes - done);
      status = cudaMemcpyAsync ((char *) ptr + done, ptr, chunk, cudaMemcpyDeviceToDevice,
                                ctx->stream);
      done += chunk;
    }
  if (status == cudaSuccess)
    status = cudaStreamSynchronize (ctx->stream);
  if (status != cudaSuccess)
    {
      cudaFree (ptr);
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                   "filling %zu bytes of device memory: CUDA error: %s", bytes,
                   cudaGetErrorString (status));
      return NULL;
    }
  return ptr;
}

/* Compares two doubles for qsort. */
static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v (0 <= q <= 1). */
static double
percentile (const double *v, guint n, double q)
{
  guint idx = (guint) ceil (q * n);
  idx = idx == 0 ? 0 : idx - 1;
  return v[MIN (idx, n - 1)];
}

void
afd_cuda_stats_from (double *times_s, guint n, AfdCudaStats *out_stats)
{
  g_assert (n > 0);
  qsort (times_s, n, sizeof (double), compare_double);
  out_stats->repetitions = n;
  out_stats->min_s = times_s[0];
  out_stats->max_s = times_s[n - 1];
  out_stats->p10_s = percentile (times_s, n, 0.10);
  out_stats->p90_s = percentile (times_s, n, 0.90);
  out_stats->median_s = n % 2 ? times_s[n / 2] : 0.5 * (times_s[n / 2 - 1] + times_s[n / 2]);
}

void
afd_cuda_stats_to_json (const AfdCudaStats *stats, cJSON *obj)
{
  afd_json_add_number (obj, "time_median_s", stats->median_s);
  afd_json_add_number (obj, "time_min_s", stats->min_s);
  afd_json_add_number (obj, "time_p10_s", stats->p10_s);
  afd_json_add_number (obj, "time_p90_s", stats->p90_s);
  afd_json_add_number (obj, "time_max_s", stats->max_s);
  cJSON_AddNumberToObject (obj, "repetitions", stats->repetitions);
}

gboolean
afd_cuda_time (AfdCudaContext *ctx, AfdCudaLaunchFunc launch, gpointer data,
               AfdCudaStats *out_stats, GError **error)
{
  AFD_CUDA_CHECK (cudaSetDevice (ctx->device), error, FALSE);
  /* Warm-up enqueues exactly what a timed repetition does, so its host time per repetition
   * tells how long the host needs to enqueue the timed ones. */
  gint64 host_start_us = g_get_monotonic_time ();
  guint timed_from = ctx->warmup / 2; /* the first launches include one-time set-up */
  for (guint i = 0; i < ctx->warmup; i++)
    {
      guint e = i % ctx->repetitions;
      if (i == timed_from)
        host_start_us = g_get_monotonic_time ();
      AFD_CUDA_CHECK (cudaEventRecord (ctx->starts[e], ctx->stream), error, FALSE);
      if (!launch (ctx, i, data, error))
        return FALSE;
      AFD_CUDA_CHECK (cudaEventRecord (ctx->stops[e], ctx->stream), error, FALSE);
    }
  double host_per_rep_us
      = ctx->warmup > 0
            ? (double) (g_get_monotonic_time () - host_start_us) / (ctx->warmup - timed_from)
            : 50.0;
  if (!afd_cuda_stream_wait (ctx->stream, ctx->timeout_s, "warm-up", error))
    return FALSE;
  /* The blocker keeps the GPU busy while the host enqueues every timed repetition: enough
   * chained copies (each well over BLOCKER_MIN_US) to outlast 1.5× the host's enqueue time. */
  size_t half = ctx->blocker_bytes / 2;
  guint copies = (guint) CLAMP (ceil (1.5 * ctx->repetitions * host_per_rep_us / BLOCKER_MIN_US),
                                1, 4096);
  for (guint i = 0; i < copies; i++)
    AFD_CUDA_CHECK (cudaMemcpyAsync (ctx->blocker, (char *) ctx->blocker + half, half,
                                     cudaMemcpyDeviceToDevice, ctx->stream),
                    error, FALSE);
  for (guint i = 0; i < ctx->repetitions; i++)
    {
      AFD_CUDA_CHECK (cudaEventRecord (ctx->starts[i], ctx->stream), error, FALSE);
      if (!launch (ctx, ctx->warmup + i, data, error))
        return FALSE;
      AFD_CUDA_CHECK (cudaEventRecord (ctx->stops[i], ctx->stream), error, FALSE);
    }
  AFD_CUDA_CHECK (cudaGetLastError (), error, FALSE);
  if (!afd_cuda_stream_wait (ctx->stream, ctx->timeout_s, "timed repetitions", error))
    return FALSE;
  g_autofree double *times = g_new (double, ctx->repetitions);
  for (guint i = 0; i < ctx->repetitions; i++)
    {
      float ms = 0.0f;
      AFD_CUDA_CHECK (cudaEventElapsedTime (&ms, ctx->starts[i], ctx->stops[i]), error, FALSE);
      times[i] = (double) ms * 1e-3;
    }
  afd_cuda_stats_from (times, ctx->repetitions, out_stats);
  return TRUE;
}

void
afd_cuda_progress (const AfdCudaCalibrateOptions *options, const char *fmt, ...)
{
  if (options == NULL || options->progress == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  options->progress (line, options->progress_data);
}
