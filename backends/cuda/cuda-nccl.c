/* SPDX-License-Identifier: MIT */
/*
 * cuda-nccl.c - NCCL collective microbenchmarks over the GPUs of one host.
 *
 * One process drives n GPUs (n = 2, 4, 8, … up to --gpus, and --gpus itself), with
 * nonblocking communicators (ncclCommInitRankConfig, blocking = 0) so that every wait — the
 * communicator set-up, each enqueue, each completion — polls ncclCommGetAsyncError and
 * cudaStreamQuery against a deadline and aborts the communicators (ncclCommAbort) when it
 * passes: a bad environment ends with one message, never a hang.
 *
 * Sizes and bandwidths follow nccl-tests' PERFORMANCE.md: size_bytes is the per-rank buffer
 * nccl-tests reports (all-gather: the gathered output; reduce-scatter: the input; all-to-all:
 * everything one rank sends, its own chunk included); algbw = size / time; busbw = algbw ·
 * factor with factor 2(n-1)/n (all-reduce), (n-1)/n (all-gather, reduce-scatter, all-to-all),
 * 1 (broadcast, send/recv). Data are bf16. The time of one iteration is the longest of the n
 * ranks' CUDA-event brackets. Nothing here prints.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backends/cuda/cuda-private.h"
#include "backends/profile.h"
#include "sim/json.h"

#define MAX_RANKS 16
#define BLOCKER_BYTES ((size_t) 256 << 20)

typedef enum {
  OP_ALL_REDUCE,
  OP_ALL_GATHER,
  OP_REDUCE_SCATTER,
  OP_ALL_TO_ALL,
  OP_BROADCAST,
  OP_SEND_RECV,
  OP_COUNT
} CollOp;

static const char *const op_names[OP_COUNT] = { "all_reduce", "all_gather", "reduce_scatter",
                                               "all_to_all", "broadcast",  "send_recv" };

/* The communicators, streams, events and buffers of one group of ranks. */
typedef struct {
  guint n;      /* ranks (GPUs) this process drives */
  guint nranks; /* ranks of the communicator (n, or more with two node groups) */
  guint rank0;  /* global rank of this process's first GPU */
  guint reps;
  double timeout_s;
  ncclComm_t comms[MAX_RANKS];
  cudaStream_t streams[MAX_RANKS];
  cudaEvent_t *starts[MAX_RANKS];
  cudaEvent_t *stops[MAX_RANKS];
  void *send[MAX_RANKS], *recv[MAX_RANKS], *blocker[MAX_RANKS];
} Group;

static gboolean group_wait (Group *g, gboolean streams, const char *what, GError **error);

/* Aborts (on failure) or finalizes and destroys the communicators, then frees everything. */
static void
group_free (Group *g, gboolean abort_comms)
{
  if (!abort_comms)
    {
      for (guint r = 0; r < g->n; r++)
        if (g->comms[r] != NULL)
          ncclCommFinalize (g->comms[r]);
      /* A finalize that does not finish in time is aborted like any other wait. */
      abort_comms = !group_wait (g, TRUE, "NCCL finalize", NULL);
    }
  for (guint r = 0; r < g->n; r++)
    {
      if (g->comms[r] != NULL)
        {
          if (abort_comms)
            ncclCommAbort (g->comms[r]);
          else
            ncclCommDestroy (g->comms[r]);
        }
      cudaSetDevice ((int) r);
      if (!abort_comms && g->streams[r] != NULL)
        cudaStreamSynchronize (g->streams[r]);
      for (guint i = 0; g->starts[r] != NULL && i < g->reps; i++)
        {
          cudaEventDestroy (g->starts[r][i]);
          cudaEventDestroy (g->stops[r][i]);
        }
      g_free (g->starts[r]);
      g_free (g->stops[r]);
      if (g->send[r])
        cudaFree (g->send[r]);
      if (g->recv[r])
        cudaFree (g->recv[r]);
      if (g->blocker[r])
        cudaFree (g->blocker[r]);
      if (g->streams[r])
        cudaStreamDestroy (g->streams[r]);
    }
  memset (g, 0, sizeof *g);
}

/* Waits until no communicator reports ncclInProgress (and, with @streams, every stream is
 * idle), failing on an asynchronous error or at the deadline. */
static gboolean
group_wait (Group *g, gboolean streams, const char *what, GError **error)
{
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (g->timeout_s * 1e6);
  for (;;)
    {
      gboolean busy = FALSE;
      for (guint r = 0; r < g->n; r++)
        {
          ncclResult_t st = ncclSuccess;
          ncclResult_t q = ncclCommGetAsyncError (g->comms[r], &st);
          if (q != ncclSuccess || (st != ncclSuccess && st != ncclInProgress))
            {
              const char *last = ncclGetLastError (g->comms[r]);
              g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                           "%s: NCCL error on rank %u: %s%s%s", what, r,
                           ncclGetErrorString (q != ncclSuccess ? q : st),
                           last && *last ? ": " : "", last ? last : "");
              return FALSE;
            }
          busy |= st == ncclInProgress;
          if (streams && !busy)
            {
              cudaSetDevice ((int) r);
              cudaError_t cs = cudaStreamQuery (g->streams[r]);
              if (cs != cudaSuccess && cs != cudaErrorNotReady)
                {
                  g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                               "%s: CUDA error on rank %u: %s", what, r,
                               cudaGetErrorString (cs));
                  return FALSE;
                }
              busy |= cs == cudaErrorNotReady;
            }
        }
      if (!busy)
        return TRUE;
      if (g_get_monotonic_time () > deadline_us)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "%s: NCCL did not complete within %.0f s over %u GPUs (timeout; "
                       "communicators aborted; check NCCL_DEBUG=WARN output and the GPUs' "
                       "peer access)",
                       what, g->timeout_s, g->n);
          return FALSE;
        }
      g_usleep (20);
    }
}

/* Creates the communicators of local ranks rank0 … rank0 + n − 1 of @nranks (bootstrapped by
 * @shared_id, or by a fresh id when it is NULL), streams, events and buffers of @max_bytes per
 * rank. */
static gboolean
group_init (Group *g, guint n, guint nranks, guint rank0, const guint8 *shared_id, guint reps,
            double timeout_s, size_t max_bytes, GError **error)
{
  memset (g, 0, sizeof *g);
  g->n = n;
  g->nranks = nranks;
  g->rank0 = rank0;
  g->reps = reps;
  g->timeout_s = timeout_s;
  ncclUniqueId id;
  G_STATIC_ASSERT (sizeof id == AFD_CUDA_NCCL_ID_BYTES);
  if (shared_id != NULL)
    memcpy (&id, shared_id, sizeof id);
  else
    AFD_NCCL_CHECK (ncclGetUniqueId (&id), error, FALSE);
  for (guint r = 0; r < n; r++)
    {
      AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
      AFD_CUDA_CHECK (cudaStreamCreateWithFlags (&g->streams[r], cudaStreamNonBlocking), error,
                      FALSE);
      g->starts[r] = g_new0 (cudaEvent_t, reps);
      g->stops[r] = g_new0 (cudaEvent_t, reps);
      for (guint i = 0; i < reps; i++)
        {
          AFD_CUDA_CHECK (cudaEventCreate (&g->starts[r][i]), error, FALSE);
          AFD_CUDA_CHECK (cudaEventCreate (&g->stops[r][i]), error, FALSE);
        }
      AFD_CUDA_CHECK (cudaMalloc (&g->send[r], max_bytes), error, FALSE);
      AFD_CUDA_CHECK (cudaMalloc (&g->recv[r], max_bytes), error, FALSE);
      AFD_CUDA_CHECK (cudaMalloc (&g->blocker[r], BLOCKER_BYTES), error, FALSE);
      /* 0x3c3c is a finite bf16 (about 0.0115): sums stay finite. */
      AFD_CUDA_CHECK (cudaMemset (g->send[r], 0x3c, max_bytes), error, FALSE);
      AFD_CUDA_CHECK (cudaMemset (g->recv[r], 0x3c, max_bytes), error, FALSE);
    }
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  AFD_NCCL_CHECK (ncclGroupStart (), error, FALSE);
  for (guint r = 0; r < n; r++)
    {
      AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
      AFD_NCCL_CHECK (ncclCommInitRankConfig (&g->comms[r], (int) nranks, id, (int) (rank0 + r),
                                              &config),
                      error, FALSE);
    }
  AFD_NCCL_CHECK (ncclGroupEnd (), error, FALSE);
  return group_wait (g, FALSE, "NCCL communicator set-up", error);
}

/* Enqueues one collective of @bytes on every rank (one NCCL group). */
static gboolean
group_enqueue (Group *g, CollOp op, size_t bytes, GError **error)
{
  guint n = g->n, nr = g->nranks;
  size_t count = bytes / 2, part = count / nr;
  AFD_NCCL_CHECK (ncclGroupStart (), error, FALSE);
  for (guint r = 0; r < n; r++)
    {
      ncclComm_t c = g->comms[r];
      cudaStream_t s = g->streams[r];
      switch (op)
        {
        case OP_ALL_REDUCE:
          AFD_NCCL_CHECK (ncclAllReduce (g->send[r], g->recv[r], count, ncclBfloat16, ncclSum, c,
                                         s),
                          error, FALSE);
          break;
        case OP_ALL_GATHER:
          AFD_NCCL_CHECK (ncclAllGather (g->send[r], g->recv[r], part, ncclBfloat16, c, s), error,
                          FALSE);
          break;
        case OP_REDUCE_SCATTER:
          AFD_NCCL_CHECK (ncclReduceScatter (g->send[r], g->recv[r], part, ncclBfloat16, ncclSum,
                                             c, s),
                          error, FALSE);
          break;
        case OP_ALL_TO_ALL:
          for (guint p = 0; p < nr; p++)
            {
              AFD_NCCL_CHECK (ncclSend ((char *) g->send[r] + p * part * 2, part, ncclBfloat16,
                                        (int) p, c, s),
                              error, FALSE);
              AFD_NCCL_CHECK (ncclRecv ((char *) g->recv[r] + p * part * 2, part, ncclBfloat16,
                                        (int) p, c, s),
                              error, FALSE);
            }
          break;
        case OP_BROADCAST:
          AFD_NCCL_CHECK (ncclBroadcast (g->send[r], g->recv[r], count, ncclBfloat16, 0, c, s),
                          error, FALSE);
          break;
        case OP_SEND_RECV:
          AFD_NCCL_CHECK (ncclSend (g->send[r], count, ncclBfloat16,
                                    (int) ((g->rank0 + r + 1) % nr), c, s),
                          error, FALSE);
          AFD_NCCL_CHECK (ncclRecv (g->recv[r], count, ncclBfloat16,
                                    (int) ((g->rank0 + r + nr - 1) % nr), c, s),
                          error, FALSE);
          break;
        case OP_COUNT:
        default:
          g_assert_not_reached ();
        }
    }
  AFD_NCCL_CHECK (ncclGroupEnd (), error, FALSE);
  return group_wait (g, FALSE, "NCCL enqueue", error);
}

/* Returns nccl-tests' bus-bandwidth factor of @op over @n ranks. */
static double
bus_factor (CollOp op, guint n)
{
  switch (op)
    {
    case OP_ALL_REDUCE:
      return 2.0 * (n - 1) / n;
    case OP_ALL_GATHER:
    case OP_REDUCE_SCATTER:
    case OP_ALL_TO_ALL:
      return (double) (n - 1) / n;
    case OP_BROADCAST:
    case OP_SEND_RECV:
    case OP_COUNT:
    default:
      return 1.0;
    }
}

/* Times @op at @bytes: warm-up, then reps iterations bracketed by events on every rank. */
static gboolean
group_time (Group *g, CollOp op, size_t bytes, guint warmup, AfdCudaStats *out, GError **error)
{
  g_autofree char *what = g_strdup_printf ("%s of %zu bytes over %u GPUs", op_names[op], bytes,
                                           g->nranks);
  /* Warm-up enqueues what a timed iteration does; the host time of its second half (the first
   * iterations include NCCL's lazy connection set-up) sizes the blocker. */
  gint64 host_start_us = g_get_monotonic_time ();
  guint timed_from = warmup / 2;
  for (guint i = 0; i < warmup; i++)
    {
      guint e = i % g->reps;
      if (i == timed_from)
        host_start_us = g_get_monotonic_time ();
      for (guint r = 0; r < g->n; r++)
        {
          AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
          AFD_CUDA_CHECK (cudaEventRecord (g->starts[r][e], g->streams[r]), error, FALSE);
        }
      if (!group_enqueue (g, op, bytes, error))
        return FALSE;
      for (guint r = 0; r < g->n; r++)
        {
          AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
          AFD_CUDA_CHECK (cudaEventRecord (g->stops[r][e], g->streams[r]), error, FALSE);
        }
    }
  double host_per_iter_us
      = warmup > 0 ? (double) (g_get_monotonic_time () - host_start_us) / (warmup - timed_from)
                   : 500.0;
  if (!group_wait (g, TRUE, what, error))
    return FALSE;
  /* Chained copies (128 MiB each way, ≥ 30 µs on any target GPU) outlasting 1.5× the host's
   * enqueue time of all timed iterations, on every rank, so the GPUs run the iterations back
   * to back and a bracket never holds host latency. */
  guint copies = (guint) CLAMP (ceil (1.5 * g->reps * host_per_iter_us / 30.0), 1, 8192);
  for (guint r = 0; r < g->n; r++)
    {
      AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
      for (guint c = 0; c < copies; c++)
        AFD_CUDA_CHECK (cudaMemcpyAsync (g->blocker[r],
                                         (char *) g->blocker[r] + BLOCKER_BYTES / 2,
                                         BLOCKER_BYTES / 2, cudaMemcpyDeviceToDevice,
                                         g->streams[r]),
                        error, FALSE);
    }
  for (guint i = 0; i < g->reps; i++)
    {
      for (guint r = 0; r < g->n; r++)
        {
          AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
          AFD_CUDA_CHECK (cudaEventRecord (g->starts[r][i], g->streams[r]), error, FALSE);
        }
      if (!group_enqueue (g, op, bytes, error))
        return FALSE;
      for (guint r = 0; r < g->n; r++)
        {
          AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
          AFD_CUDA_CHECK (cudaEventRecord (g->stops[r][i], g->streams[r]), error, FALSE);
        }
    }
  if (!group_wait (g, TRUE, what, error))
    return FALSE;
  g_autofree double *times = g_new0 (double, g->reps);
  for (guint i = 0; i < g->reps; i++)
    for (guint r = 0; r < g->n; r++)
      {
        float ms = 0.0f;
        AFD_CUDA_CHECK (cudaSetDevice ((int) r), error, FALSE);
        AFD_CUDA_CHECK (cudaEventElapsedTime (&ms, g->starts[r][i], g->stops[r][i]), error,
                        FALSE);
        times[i] = MAX (times[i], (double) ms * 1e-3);
      }
  afd_cuda_stats_from (times, g->reps, out);
  return TRUE;
}

/* Measures every op over local GPUs 0 … @n − 1, ranks @rank0 … of @nranks (bootstrapped by
 * @shared_id, or a fresh id when NULL: then @nranks = @n), into @out_collectives. With two
 * node groups (@nranks > @n) the tables' tier is "inter_node", broadcast is left out and every
 * point reports progress (the parent's liveness check). */
static gboolean
bench_group (const AfdCudaCalibrateOptions *options, guint n, guint nranks, guint rank0,
             const guint8 *shared_id, cJSON *out_collectives, GError **error)
{
  size_t max_bytes = (size_t) 1 << (options->quick ? 26 : 30);
  gboolean nodes = nranks > n;
  Group g;
  if (!group_init (&g, n, nranks, rank0, shared_id, options->repetitions, options->timeout_s,
                   max_bytes, error))
    {
      group_free (&g, TRUE);
      g_prefix_error (error, "NCCL over %u GPUs: ", nranks);
      return FALSE;
    }
  for (guint op = 0; op < OP_COUNT; op++)
    {
      if (nodes && op == OP_BROADCAST)
        continue;
      cJSON *table = cJSON_CreateObject ();
      cJSON_AddStringToObject (table, "op", op_names[op]);
      cJSON_AddNumberToObject (table, "gpus", nranks);
      cJSON_AddStringToObject (table, "tier", nodes ? "inter_node" : "intra_node");
      cJSON_AddStringToObject (table, "dtype", "bf16");
      afd_json_add_number (table, "bus_factor", bus_factor (op, nranks));
      cJSON *points = cJSON_AddArrayToObject (table, "points");
      cJSON_AddItemToArray (out_collectives, table);
      GArray *sizes = g_array_new (FALSE, FALSE, sizeof (double));
      GArray *times = g_array_new (FALSE, FALSE, sizeof (double));
      for (size_t bytes = 1024; bytes <= max_bytes; bytes *= 4)
        {
          /* Whole bf16 elements per rank chunk. */
          size_t b = bytes / (2 * nranks) * (2 * nranks);
          AfdCudaStats st;
          if (!group_time (&g, (CollOp) op, b, options->warmup, &st, error))
            {
              g_array_unref (sizes);
              g_array_unref (times);
              group_free (&g, TRUE);
              return FALSE;
            }
          double algbw = (double) b / st.median_s;
          cJSON *p = cJSON_CreateObject ();
          cJSON_AddNumberToObject (p, "size_bytes", (double) b);
          afd_cuda_stats_to_json (&st, p);
          afd_json_add_number (p, "algbw_bytes_per_s", algbw);
          afd_json_add_number (p, "busbw_bytes_per_s", algbw * bus_factor (op, nranks));
          if (nodes)
            afd_cuda_progress (options, "NCCL %s of %zu bytes over %u GPUs: %.1f us", op_names[op],
                               b, nranks, st.median_s * 1e6);
          cJSON_AddItemToArray (points, p);
          double s = (double) b;
          g_array_append_val (sizes, s);
          g_array_append_val (times, st.median_s);
        }
      cJSON *fits = afd_profile_fits_to_json ((const double *) sizes->data,
                                              (const double *) times->data, sizes->len);
      cJSON_AddItemToObject (table, "fits", fits);
      g_array_unref (sizes);
      g_array_unref (times);
      afd_cuda_progress (options, "NCCL %s over %u GPUs: done", op_names[op], nranks);
    }
  group_free (&g, FALSE);
  return TRUE;
}

gboolean
afd_cuda_bench_collectives (const AfdCudaCalibrateOptions *options, guint gpus,
                            cJSON *out_collectives, GError **error)
{
  if (gpus > MAX_RANKS)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "NCCL benchmarks drive at most %d GPUs from one process", MAX_RANKS);
      return FALSE;
    }
  /* 2, 4, 8, … and @gpus itself (from 1 when asked: a one-rank check of the NCCL path). */
  for (guint n = options->collective_min_gpus == 1 ? 1 : 2;; n *= 2)
    {
      guint m = MIN (n, gpus);
      if (!bench_group (options, m, m, 0, NULL, out_collectives, error))
        return FALSE;
      if (m == gpus)
        return TRUE;
    }
}

gboolean
afd_cuda_nccl_unique_id (guint8 *out_id, GError **error)
{
  ncclUniqueId id;
  AFD_NCCL_CHECK (ncclGetUniqueId (&id), error, FALSE);
  memcpy (out_id, &id, sizeof id);
  return TRUE;
}

gboolean
afd_cuda_bench_collectives_nodes (const AfdCudaCalibrateOptions *options, guint local_gpus,
                                  guint nranks, guint rank0, const guint8 *id,
                                  cJSON *out_collectives, GError **error)
{
  if (local_gpus > MAX_RANKS || local_gpus >= nranks || rank0 + local_gpus > nranks)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "bad node group: GPUs %u of %u ranks from rank %u", local_gpus, nranks, rank0);
      return FALSE;
    }
  return bench_group (options, local_gpus, nranks, rank0, id, out_collectives, error);
}

char *
afd_cuda_nccl_version (void)
{
  int v = 0;
  if (ncclGetVersion (&v) != ncclSuccess)
    return g_strdup ("unknown");
  return g_strdup_printf ("%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
}
