/* SPDX-License-Identifier: MIT */
/*
 * cuda-exec.c - executes an operator graph on the GPUs of one host (cuda-exec.h).
 *
 * One host thread drives every GPU: GPU g of the graph is CUDA device g, with a compute and a
 * comm stream (the graph's two streams). Memory comes from the plan (exec-plan.c): weights
 * and KV caches per op, one activation scratch and one pair of comm buffers per GPU, all
 * filled with random finite values (never zeros). cuBLASLt descriptors and algorithms are
 * prepared once per shape before the first iteration.
 *
 * One iteration: every GPU's compute stream first waits behind a host-function *gate*, then
 * joins a 2-element all-reduce over all GPUs (the barrier) and records its start event; the
 * comm stream waits for that event. The host then enqueues every op in graph order (ids are a
 * topological order: dependencies point to earlier ops; a collective's member ops are
 * consecutive and are issued together as one NCCL group); a dependency on another stream or
 * GPU becomes cudaStreamWaitEvent on the producer's stop event. Every op is bracketed by two
 * CUDA events. Only when everything is enqueued does the host open the gate, so host launch
 * latency never shows as GPU idle time (the gate also opens on a deadline: a host that could
 * not enqueue in time is counted in gate_timeouts). The host then polls every stream and
 * communicator against the deadline. Times are read relative to each GPU's start event; the
 * barrier aligns the GPUs' start events to within a few microseconds.
 *
 * Attention is E's emulation (cuda-attention.c): S = Q·Kᵀ and O = S·V as strided-batched
 * GEMMs over the KV cache, no softmax kernel (TODO(#7): a fused attention kernel). Memory-
 * bound ops (norms, elementwise) run as a device copy of half their bytes. Fixed-duration ops
 * run nothing (TODO(#7): no sleep kernel without nvcc). Nothing here prints.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backends/cuda/cuda-private.h"
#include "backends/cuda/exec-private.h"

/* The gate opens at this deadline even if the host has not finished enqueueing. */
#define GATE_DEADLINE_S 2.0
/* Fallback when the gate cannot be used: device copies of this many bytes each (from the
 * context's blocker buffer) ahead of the barrier, as many as cover the host's enqueue time. */
#define BLOCKER_COPY_BYTES ((size_t) 128 << 20)
#define BLOCKER_MAX_COPIES 4000u

/* Per-op device state. */
typedef struct {
  void *w;
  void *kv;
  AfdCudaLtGemm *gemm;     /* dense (borrowed from the shape cache) */
  AfdCudaLtGemm **experts; /* grouped: per expert, NULL for no tokens (borrowed) */
  cudaEvent_t start, stop;
} OpState;

/* Per-GPU device state. */
typedef struct {
  AfdCudaContext *ctx; /* compute stream, cuBLAS handles, workspace, random data */
  AfdExecGpuComm io;
  void *scratch;
  cudaEvent_t anchor;
} Gpu;

/* The gate every compute stream waits behind. */
typedef struct {
  gint open;
  gint timed_out;
  gint64 deadline_us;
} Gate;

typedef struct {
  const AfdExecPlan *plan;
  const AfdOpGraph *graph;
  const AfdCudaExecOptions *options;
  guint n_gpus, n_ops;
  Gpu *gpus;
  OpState *ops;
  GHashTable *shapes; /* "gpu dtype m n k" -> AfdCudaLtGemm* */
  AfdExecComms *comms;
  Gate gate;
  gboolean ungated;   /* the gate timed out once: later iterations use the blocker copies */
  double enqueue_s;   /* the longest host enqueue time seen, seconds */
  double copy_s;      /* measured time of one blocker copy, seconds (0: not yet measured) */
} Exec;

/* Frees one AfdCudaLtGemm. */
static void
lt_gemm_free (gpointer p)
{
  afd_cuda_lt_gemm_clear (p);
  g_free (p);
}

/* Returns the prepared GEMM Y[m×n] = X[m×k]·W[n×k]ᵀ on @gpu (cuda-gemm.c's layout). */
static AfdCudaLtGemm *
shape_get (Exec *x, guint gpu, AfdDtype dtype, guint64 m, guint64 n, guint64 k, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%u %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                          " %" G_GUINT64_FORMAT, gpu, (int) dtype, m, n, k);
  AfdCudaLtGemm *found = g_hash_table_lookup (x->shapes, key);
  if (found != NULL)
    return found;
  AfdCudaContext *ctx = x->gpus[gpu].ctx;
  AfdCudaLtGemm *g = g_new0 (AfdCudaLtGemm, 1);
  g_hash_table_insert (x->shapes, g_steal_pointer (&key), g);
  AFD_CUDA_CHECK (cudaSetDevice ((int) gpu), error, NULL);
  if (!afd_cuda_lt_gemm_prepare (ctx, dtype, m, n, k, g, error))
    return NULL;
  return g;
}

/* Allocates an op's weights and KV cache and prepares its GEMM shapes. */
static gboolean
prepare_op (Exec *x, guint i, GError **error)
{
  const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
  const AfdExecOp *p = afd_exec_plan_op (x->plan, i);
  OpState *s = &x->ops[i];
  AfdCudaContext *ctx = x->gpus[g->gpu].ctx;
  AFD_CUDA_CHECK (cudaSetDevice ((int) g->gpu), error, FALSE);
  AFD_CUDA_CHECK (cudaEventCreate (&s->start), error, FALSE);
  AFD_CUDA_CHECK (cudaEventCreate (&s->stop), error, FALSE);
  if (p->weight_bytes > 0
      && (s->w = afd_cuda_alloc_random (ctx, p->weight_bytes, p->dtype, error)) == NULL)
    return FALSE;
  if (p->kv_bytes > 0
      && (s->kv = afd_cuda_alloc_random (ctx, p->kv_bytes, AFD_DTYPE_BF16, error)) == NULL)
    return FALSE;
  if (p->kind == AFD_EXEC_GEMM)
    s->gemm = shape_get (x, g->gpu, p->dtype, p->m, p->n, p->k, error);
  if (p->kind == AFD_EXEC_GEMM && s->gemm == NULL)
    return FALSE;
  if (p->kind == AFD_EXEC_GROUPED_GEMM)
    {
      s->experts = g_new0 (AfdCudaLtGemm *, MAX (p->n_experts, 1u));
      for (guint e = 0; e < p->n_experts; e++)
        if (p->expert_tokens[e] > 0
            && (s->experts[e] = shape_get (x, g->gpu, p->dtype, p->expert_tokens[e], p->n, p->k,
                                           error)) == NULL)
          return FALSE;
    }
  return TRUE;
}

/* Enqueues the kernels of compute op @i on @stream. */
static gboolean
launch_compute (Exec *x, guint i, cudaStream_t stream, GError **error)
{
  const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
  const AfdExecOp *p = afd_exec_plan_op (x->plan, i);
  OpState *s = &x->ops[i];
  Gpu *gpu = &x->gpus[g->gpu];
  AfdCudaContext *ctx = gpu->ctx;
  guint64 esize = p->dtype == AFD_DTYPE_FP8 ? 1 : 2;
  char *scratch = gpu->scratch;
  switch (p->kind)
    {
    case AFD_EXEC_GEMM:
      for (guint64 c = 0; c < p->count; c++)
        if (!afd_cuda_lt_gemm_run (ctx, stream, s->gemm, (char *) s->w + c * p->n * p->k * esize,
                                   scratch, scratch + p->m * p->k * esize, error))
          return FALSE;
      return TRUE;
    case AFD_EXEC_GROUPED_GEMM:
      for (guint e = 0; e < p->n_experts; e++)
        for (guint64 c = 0; s->experts[e] != NULL && c < p->count; c++)
          {
            const char *w = (char *) s->w + ((guint64) e * p->count + c) * p->n * p->k * esize;
            if (!afd_cuda_lt_gemm_run (ctx, stream, s->experts[e], w, scratch,
                                       scratch + p->expert_tokens[e] * p->k * esize, error))
              return FALSE;
          }
      return TRUE;
    case AFD_EXEC_ATTENTION:
      {
        const float alpha = 1.0f, beta = 0.0f;
        int rows = (int) p->attn_rows, l = (int) p->attn_kv_len, dqk = (int) p->attn_d_qk,
            dv = (int) p->attn_d_v, lds = (int) p->attn_ld_s, batch = (int) p->attn_problems;
        long long stride_kv = (long long) l * dqk;
        char *q = scratch;
        char *sm = q + p->attn_problems * p->attn_rows * p->attn_d_qk * 2;
        char *o = sm + p->attn_problems * p->attn_rows * p->attn_ld_s * 2;
        const char *k = s->kv;
        const char *v = p->attn_shared_kv ? k : k + p->attn_problems * stride_kv * 2;
        AFD_CUBLAS_CHECK (cublasSetStream (ctx->blas, stream), error, FALSE);
        AFD_CUBLAS_CHECK (cublasGemmStridedBatchedEx (
                              ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, l, rows, dqk, &alpha, k,
                              CUDA_R_16BF, dqk, stride_kv, q, CUDA_R_16BF, dqk,
                              (long long) rows * dqk, &beta, sm, CUDA_R_16BF, lds,
                              (long long) lds * rows, batch, CUBLAS_COMPUTE_32F,
                              CUBLAS_GEMM_DEFAULT),
                          error, FALSE);
        AFD_CUBLAS_CHECK (cublasGemmStridedBatchedEx (
                              ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, dv, rows, l, &alpha, v,
                              CUDA_R_16BF, dqk, stride_kv, sm, CUDA_R_16BF, lds,
                              (long long) lds * rows, &beta, o, CUDA_R_16BF, dv,
                              (long long) dv * rows, batch, CUBLAS_COMPUTE_32F,
                              CUBLAS_GEMM_DEFAULT),
                          error, FALSE);
        return TRUE;
      }
    case AFD_EXEC_COPY:
      AFD_CUDA_CHECK (cudaMemcpyAsync (scratch + p->copy_bytes, scratch, p->copy_bytes,
                                       cudaMemcpyDeviceToDevice, stream),
                      error, FALSE);
      return TRUE;
    case AFD_EXEC_NOOP:
    case AFD_EXEC_COMM:
    case AFD_EXEC_N_KINDS:
      return TRUE;
    }
  return TRUE;
}

/* Makes op @i's stream wait for its dependencies on other streams, then records its start. */
static gboolean
op_begin (Exec *x, guint i, GError **error)
{
  const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
  cudaStream_t stream = x->gpus[g->gpu].io.streams[g->stream];
  const guint *deps = afd_opgraph_deps (x->graph) + g->dep_offset;
  AFD_CUDA_CHECK (cudaSetDevice ((int) g->gpu), error, FALSE);
  for (guint d = 0; d < g->n_deps; d++)
    {
      const AfdOpGraphOp *dep = afd_opgraph_op (x->graph, deps[d]);
      if (dep->gpu != g->gpu || dep->stream != g->stream)
        AFD_CUDA_CHECK (cudaStreamWaitEvent (stream, x->ops[deps[d]].stop, 0), error, FALSE);
    }
  AFD_CUDA_CHECK (cudaEventRecord (x->ops[i].start, stream), error, FALSE);
  return TRUE;
}

/* Records op @i's stop event. */
static gboolean
op_end (Exec *x, guint i, GError **error)
{
  const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
  AFD_CUDA_CHECK (cudaSetDevice ((int) g->gpu), error, FALSE);
  AFD_CUDA_CHECK (cudaEventRecord (x->ops[i].stop, x->gpus[g->gpu].io.streams[g->stream]), error,
                  FALSE);
  return TRUE;
}

/* The gate: spins (host side) until the host opened it or its deadline passed. */
static void CUDART_CB
gate_wait (void *data)
{
  Gate *gate = data;
  while (!g_atomic_int_get (&gate->open))
    {
      if (g_get_monotonic_time () > gate->deadline_us)
        {
          g_atomic_int_set (&gate->timed_out, 1);
          return;
        }
      g_usleep (5);
    }
}

/* Waits until every stream is idle and no communicator is busy, or fails at the deadline. */
static gboolean
wait_all (Exec *x, GError **error)
{
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (x->options->timeout_s * 1e6);
  for (;;)
    {
      gboolean busy = FALSE;
      if (!afd_exec_comms_check (x->comms, &busy, error))
        return FALSE;
      for (guint g = 0; g < x->n_gpus && !busy; g++)
        for (guint s = 0; s < AFD_OPGRAPH_N_STREAMS && !busy; s++)
          {
            cudaSetDevice ((int) g);
            cudaError_t st = cudaStreamQuery (x->gpus[g].io.streams[s]);
            if (st != cudaSuccess && st != cudaErrorNotReady)
              {
                g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                             "iteration: CUDA error on GPU %u: %s", g, cudaGetErrorString (st));
                return FALSE;
              }
            busy = st == cudaErrorNotReady;
          }
      if (!busy)
        return TRUE;
      if (g_get_monotonic_time () > deadline_us)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "iteration did not complete within %.0f s on %u GPUs (timeout; "
                       "communicators aborted; check NCCL_DEBUG=WARN output)",
                       x->options->timeout_s, x->n_gpus);
          return FALSE;
        }
      g_usleep (20);
    }
}

/* Measures one blocker copy on GPU 0 (for sizing the fallback's chain). */
static gboolean
measure_copy (Exec *x, GError **error)
{
  AfdCudaContext *ctx = x->gpus[0].ctx;
  cudaEvent_t a = NULL, b = NULL;
  float ms = 0;
  AFD_CUDA_CHECK (cudaSetDevice (0), error, FALSE);
  AFD_CUDA_CHECK (cudaEventCreate (&a), error, FALSE);
  AFD_CUDA_CHECK (cudaEventCreate (&b), error, (cudaEventDestroy (a), FALSE));
  size_t half = MIN (BLOCKER_COPY_BYTES, ctx->blocker_bytes / 2);
  cudaError_t st = cudaEventRecord (a, ctx->stream);
  for (guint i = 0; st == cudaSuccess && i < 8; i++)
    st = cudaMemcpyAsync ((char *) ctx->blocker + half, ctx->blocker, half,
                          cudaMemcpyDeviceToDevice, ctx->stream);
  if (st == cudaSuccess)
    st = cudaEventRecord (b, ctx->stream);
  if (st == cudaSuccess)
    st = cudaEventSynchronize (b);
  if (st == cudaSuccess)
    st = cudaEventElapsedTime (&ms, a, b);
  cudaEventDestroy (a);
  cudaEventDestroy (b);
  AFD_CUDA_CHECK (st, error, FALSE);
  x->copy_s = MAX (ms * 1e-3 / 8, 1e-6);
  return TRUE;
}

/* Enqueues one iteration behind the gate (or, @gated FALSE, directly; or, after a gate
 * timeout, behind a chain of device copies sized from the host's enqueue time), lets it run
 * and waits. */
static gboolean
run_iteration (Exec *x, gboolean gated, GError **error)
{
  gint64 t0_us = g_get_monotonic_time ();
  g_atomic_int_set (&x->gate.open, 0);
  g_atomic_int_set (&x->gate.timed_out, 0);
  x->gate.deadline_us = t0_us + (gint64) (GATE_DEADLINE_S * 1e6);
  if (gated && x->ungated && x->copy_s == 0 && !measure_copy (x, error))
    return FALSE;
  for (guint g = 0; g < x->n_gpus && gated; g++)
    {
      AfdCudaContext *ctx = x->gpus[g].ctx;
      AFD_CUDA_CHECK (cudaSetDevice ((int) g), error, FALSE);
      if (!x->ungated)
        {
          AFD_CUDA_CHECK (cudaLaunchHostFunc (x->gpus[g].io.streams[AFD_OPGRAPH_STREAM_COMPUTE],
                                              gate_wait, &x->gate),
                          error, FALSE);
          continue;
        }
      size_t half = MIN (BLOCKER_COPY_BYTES, ctx->blocker_bytes / 2);
      guint copies = (guint) MIN (ceil (2.0 * x->enqueue_s / x->copy_s) + 1,
                                  (double) BLOCKER_MAX_COPIES);
      for (guint i = 0; i < copies; i++)
        AFD_CUDA_CHECK (cudaMemcpyAsync ((char *) ctx->blocker + (i % 2 ? 0 : half),
                                         (char *) ctx->blocker + (i % 2 ? half : 0), half,
                                         cudaMemcpyDeviceToDevice, ctx->stream),
                        error, FALSE);
    }
  AfdExecGpuComm *io = g_newa (AfdExecGpuComm, x->n_gpus);
  for (guint g = 0; g < x->n_gpus; g++)
    io[g] = x->gpus[g].io;
  if (!afd_exec_comms_barrier (x->comms, io, error))
    return FALSE;
  for (guint g = 0; g < x->n_gpus; g++)
    {
      AFD_CUDA_CHECK (cudaSetDevice ((int) g), error, FALSE);
      AFD_CUDA_CHECK (cudaEventRecord (x->gpus[g].anchor,
                                       x->gpus[g].io.streams[AFD_OPGRAPH_STREAM_COMPUTE]),
                      error, FALSE);
      AFD_CUDA_CHECK (cudaStreamWaitEvent (x->gpus[g].io.streams[AFD_OPGRAPH_STREAM_COMM],
                                           x->gpus[g].anchor, 0),
                      error, FALSE);
    }
  guint n_comms = afd_opgraph_n_comms (x->graph);
  g_autofree gboolean *issued = g_new0 (gboolean, MAX (n_comms, 1u));
  for (guint i = 0; i < x->n_ops; i++)
    {
      const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
      if (g->kind != AFD_OPGRAPH_COMM)
        {
          if (!op_begin (x, i, error)
              || !launch_compute (x, i, x->gpus[g->gpu].io.streams[g->stream], error)
              || !op_end (x, i, error))
            {
              g_prefix_error (error, "op %s: ", g->name);
              return FALSE;
            }
          continue;
        }
      if (issued[g->comm])
        continue;
      issued[g->comm] = TRUE;
      const AfdOpGraphComm *c = afd_opgraph_comm (x->graph, g->comm);
      const guint *ops = afd_opgraph_comm_ops (x->graph, g->comm);
      for (guint m = 0; m < c->n_members; m++)
        if (!op_begin (x, ops[m], error))
          return FALSE;
      if (!afd_exec_comms_issue (x->comms, g->comm, io, error))
        return FALSE;
      for (guint m = 0; m < c->n_members; m++)
        if (!op_end (x, ops[m], error))
          return FALSE;
    }
  x->enqueue_s = MAX (x->enqueue_s, (g_get_monotonic_time () - t0_us) * 1e-6);
  g_atomic_int_set (&x->gate.open, 1);
  if (!wait_all (x, error))
    return FALSE;
  /* A gate that had to open on its deadline would cost that much every iteration. */
  x->ungated = x->ungated || (gated && g_atomic_int_get (&x->gate.timed_out));
  return TRUE;
}

/* Returns the time from GPU @gpu's start event to @ev, seconds. */
static gboolean
since_anchor (Exec *x, guint gpu, cudaEvent_t ev, double *out_s, GError **error)
{
  float ms = 0;
  AFD_CUDA_CHECK (cudaSetDevice ((int) gpu), error, FALSE);
  AFD_CUDA_CHECK (cudaEventElapsedTime (&ms, x->gpus[gpu].anchor, ev), error, FALSE);
  *out_s = ms * 1e-3;
  return TRUE;
}

/* Reads iteration @it's event times into @r. */
static gboolean
read_times (Exec *x, AfdCudaExecResult *r, guint it, GError **error)
{
  double *start = r->op_start_s + (gsize) it * x->n_ops, *end = r->op_end_s + (gsize) it * x->n_ops;
  double last = 0;
  for (guint i = 0; i < x->n_ops; i++)
    {
      guint gpu = afd_opgraph_op (x->graph, i)->gpu;
      if (!since_anchor (x, gpu, x->ops[i].start, &start[i], error)
          || !since_anchor (x, gpu, x->ops[i].stop, &end[i], error))
        return FALSE;
      last = MAX (last, end[i]);
    }
  r->iteration_s[it] = last;
  return TRUE;
}

/* Compares doubles for qsort. */
static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median of @n values (sorted in place; upper median for even n). */
static double
median_of (double *v, guint n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return v[n / 2];
}

/* Fills the per-op medians and the iteration statistics. */
static void
summarise (Exec *x, AfdCudaExecResult *r)
{
  guint n = r->iterations;
  g_autofree double *v = g_new (double, n);
  for (guint i = 0; i < x->n_ops; i++)
    {
      const AfdOpGraphOp *g = afd_opgraph_op (x->graph, i);
      for (guint it = 0; it < n; it++)
        {
          const double *start = r->op_start_s + (gsize) it * x->n_ops;
          double from = start[i];
          if (g->kind == AFD_OPGRAPH_COMM)
            {
              const AfdOpGraphComm *c = afd_opgraph_comm (x->graph, g->comm);
              const guint *ops = afd_opgraph_comm_ops (x->graph, g->comm);
              for (guint m = 0; m < c->n_members; m++)
                from = MAX (from, start[ops[m]]);
            }
          v[it] = MAX (r->op_end_s[(gsize) it * x->n_ops + i] - from, 0.0);
        }
      r->op_duration_s[i] = median_of (v, n);
    }
  memcpy (v, r->iteration_s, n * sizeof (double));
  r->iteration_median_s = median_of (v, n);
  r->iteration_min_s = v[0];
  r->iteration_max_s = v[n - 1];
  for (guint it = 0; it < n; it++)
    if (r->iteration_s[it] == r->iteration_median_s)
      r->median_iteration = it;
}

/* Frees every device resource of @x. */
static void
exec_clear (Exec *x)
{
  afd_exec_comms_free (x->comms);
  for (guint i = 0; x->ops != NULL && i < x->n_ops; i++)
    {
      OpState *s = &x->ops[i];
      cudaSetDevice ((int) afd_opgraph_op (x->graph, i)->gpu);
      if (s->w)
        cudaFree (s->w);
      if (s->kv)
        cudaFree (s->kv);
      if (s->start)
        cudaEventDestroy (s->start);
      if (s->stop)
        cudaEventDestroy (s->stop);
      g_free (s->experts);
    }
  g_free (x->ops);
  if (x->shapes != NULL)
    g_hash_table_destroy (x->shapes);
  for (guint g = 0; x->gpus != NULL && g < x->n_gpus; g++)
    {
      Gpu *gpu = &x->gpus[g];
      cudaSetDevice ((int) g);
      if (gpu->io.streams[AFD_OPGRAPH_STREAM_COMM])
        cudaStreamDestroy (gpu->io.streams[AFD_OPGRAPH_STREAM_COMM]);
      if (gpu->io.comm_send)
        cudaFree (gpu->io.comm_send);
      if (gpu->io.comm_recv)
        cudaFree (gpu->io.comm_recv);
      if (gpu->scratch)
        cudaFree (gpu->scratch);
      if (gpu->anchor)
        cudaEventDestroy (gpu->anchor);
      afd_cuda_context_free (gpu->ctx);
    }
  g_free (x->gpus);
}

/* Sets up GPU @g: context, comm stream, scratch and comm buffers. */
static gboolean
setup_gpu (Exec *x, guint g, GError **error)
{
  Gpu *gpu = &x->gpus[g];
  AfdExecGpuMemory mem;
  afd_exec_plan_gpu_memory (x->plan, g, &mem);
  gpu->ctx = afd_cuda_context_new ((int) g, 0, 1, x->options->timeout_s, error);
  if (gpu->ctx == NULL)
    return FALSE;
  gpu->io.streams[AFD_OPGRAPH_STREAM_COMPUTE] = gpu->ctx->stream;
  AFD_CUDA_CHECK (cudaStreamCreateWithFlags (&gpu->io.streams[AFD_OPGRAPH_STREAM_COMM],
                                             cudaStreamNonBlocking),
                  error, FALSE);
  AFD_CUDA_CHECK (cudaEventCreate (&gpu->anchor), error, FALSE);
  gpu->scratch = afd_cuda_alloc_random (gpu->ctx, MAX (mem.scratch_bytes, 4096u),
                                        AFD_DTYPE_BF16, error);
  if (gpu->scratch == NULL)
    return FALSE;
  size_t comm = MAX (mem.comm_bytes, 4096u);
  if ((gpu->io.comm_send = afd_cuda_alloc_random (gpu->ctx, comm, AFD_DTYPE_BF16, error)) == NULL
      || (gpu->io.comm_recv = afd_cuda_alloc_random (gpu->ctx, comm, AFD_DTYPE_BF16, error))
             == NULL)
    return FALSE;
  return TRUE;
}

AfdCudaExecResult *
afd_cuda_exec (const AfdExecPlan *plan, const AfdCudaExecOptions *options, GError **error)
{
  const AfdOpGraph *graph = afd_exec_plan_graph (plan);
  guint n_gpus = afd_opgraph_n_gpus (graph);
  g_return_val_if_fail (options->iterations > 0, NULL);
  if (!afd_cuda_probe (n_gpus, NULL, error))
    {
      g_prefix_error (error, "the placement has %u GPUs: ", n_gpus);
      return NULL;
    }
  /* Memory first: a placement that does not fit fails before anything is allocated. */
  g_autofree guint64 *free_bytes = g_new0 (guint64, n_gpus);
  for (guint g = 0; g < n_gpus; g++)
    {
      size_t fr = 0, total = 0;
      AFD_CUDA_CHECK (cudaSetDevice ((int) g), error, NULL);
      AFD_CUDA_CHECK (cudaMemGetInfo (&fr, &total), error, NULL);
      free_bytes[g] = fr;
    }
  if (!afd_exec_plan_check_memory (plan, free_bytes, n_gpus, error))
    return NULL;

  Exec x = { .plan = plan, .graph = graph, .options = options, .n_gpus = n_gpus,
             .n_ops = afd_opgraph_n_ops (graph) };
  x.gpus = g_new0 (Gpu, n_gpus);
  x.ops = g_new0 (OpState, MAX (x.n_ops, 1u));
  x.shapes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, lt_gemm_free);
  g_autoptr (AfdCudaExecResult) r = g_new0 (AfdCudaExecResult, 1);
  gboolean ok = TRUE;
  for (guint g = 0; ok && g < n_gpus; g++)
    ok = setup_gpu (&x, g, error);
  for (guint i = 0; ok && i < x.n_ops; i++)
    if (!(ok = prepare_op (&x, i, error)))
      g_prefix_error (error, "op %s: ", afd_opgraph_op (graph, i)->name);
  if (ok)
    ok = (x.comms = afd_exec_comms_new (plan, n_gpus, options->timeout_s, error)) != NULL;
  if (ok)
    {
      r->n_ops = x.n_ops;
      r->n_gpus = n_gpus;
      r->iterations = options->iterations;
      r->iteration_s = g_new0 (double, options->iterations);
      r->op_start_s = g_new0 (double, (gsize) options->iterations * MAX (x.n_ops, 1u));
      r->op_end_s = g_new0 (double, (gsize) options->iterations * MAX (x.n_ops, 1u));
      r->op_duration_s = g_new0 (double, MAX (x.n_ops, 1u));
    }
  for (guint it = 0; ok && it < options->warmup + options->iterations; it++)
    {
      /* Warm-up iterations run ungated: first launches load modules (CUDA lazy loading,
       * NCCL's lazy connections), which must not wait behind a closed gate. */
      gboolean gated = it >= options->warmup || options->warmup == 0;
      ok = run_iteration (&x, gated, error);
      if (ok && it >= options->warmup)
        {
          ok = read_times (&x, r, it - options->warmup, error);
          r->gate_timeouts += (guint) g_atomic_int_get (&x.gate.timed_out);
          r->blocker_iterations += (guint) (x.ungated && !g_atomic_int_get (&x.gate.timed_out));
        }
    }
  if (ok)
    {
      summarise (&x, r);
      struct cudaDeviceProp prop;
      int rt = 0;
      if (cudaGetDeviceProperties (&prop, 0) != cudaSuccess)
        prop.name[0] = '\0';
      cudaRuntimeGetVersion (&rt);
      g_autofree char *nccl = afd_exec_comms_version ();
      size_t lt = cublasLtGetVersion ();
      r->device_name = g_strdup (prop.name);
      r->versions = g_strdup_printf ("CUDA runtime %d.%d, cuBLASLt %zu.%zu.%zu, %s", rt / 1000,
                                     (rt % 1000) / 10, lt / 10000, (lt / 100) % 100, lt % 100,
                                     nccl);
    }
  else
    {
      /* Abort NCCL first so that no stream waits on a peer that will never come. */
      afd_exec_comms_free (x.comms);
      x.comms = NULL;
    }
  exec_clear (&x);
  if (!ok)
    return NULL;
  return g_steal_pointer (&r);
}
