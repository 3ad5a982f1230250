/* SPDX-License-Identifier: MIT */
/*
 * cuda-exec.h - real execution of an operator graph (sim/opgraph.h) on the GPUs of one host.
 *
 * Two halves. The execution plan (backends/cuda/exec-plan.c, built everywhere, no CUDA) turns
 * every op of a finished graph into what the GPU will run — a cuBLASLt GEMM (count × M×N×K), a
 * grouped expert GEMM (one GEMM per expert with tokens), attention emulated with two
 * strided-batched GEMMs (backends/cuda/cuda-attention.c's method), a device copy for
 * memory-bound ops, an NCCL call for a comm op, or nothing — and sizes each GPU's memory:
 * weights and KV caches owned per op (as a real model owns them), activation scratch and comm
 * buffers shared per GPU (reused across ops). The executor (backends/cuda/cuda-exec.c with
 * --enable-cuda; backends/cuda-stub.c otherwise) allocates that memory with random data,
 * issues every op in graph order on its GPU's compute or comm stream with CUDA events for
 * cross-stream dependencies, brackets each op with CUDA events, and returns per-op and
 * per-iteration times. No CUDA type appears here. Nothing here prints.
 */
#ifndef AFD_BACKENDS_CUDA_CUDA_EXEC_H
#define AFD_BACKENDS_CUDA_CUDA_EXEC_H

#include <glib.h>

#include "sim/gpu-spec.h"
#include "sim/opgraph.h"

G_BEGIN_DECLS

/* What the GPU runs for one op. */
typedef enum {
  AFD_EXEC_NOOP = 0,     /* nothing (fixed-duration ops, ops with no work) */
  AFD_EXEC_GEMM,         /* count × Y[m×n] = X[m×k]·W[n×k]ᵀ */
  AFD_EXEC_GROUPED_GEMM, /* per expert with tokens t: count × Y[t×n] = X[t×k]·W[n×k]ᵀ */
  AFD_EXEC_ATTENTION,    /* S = Q·Kᵀ, O = S·V batched over problems */
  AFD_EXEC_COPY,         /* device-to-device copy of copy_bytes (a memory-bound op) */
  AFD_EXEC_COMM,         /* this GPU's part of an NCCL collective */
  AFD_EXEC_N_KINDS
} AfdExecKind;

/* One op of the plan. Sizes in elements unless named _bytes. */
typedef struct {
  AfdExecKind kind;
  AfdDtype dtype;            /* GEMM operands: bf16 or fp8 (attention is bf16) */
  guint64 m, n, k, count;    /* GEMM */
  guint n_experts;           /* grouped: experts on this GPU */
  const guint64 *expert_tokens; /* grouped: (transfer none) borrowed from the graph */
  guint64 attn_problems;     /* attention: batched problems (sequences · KV heads) */
  guint64 attn_rows;         /* attention: query rows per problem */
  guint64 attn_kv_len;       /* attention: KV length (context + new tokens, rounded up to
                              * AFD_EXEC_KV_BLOCK) */
  guint64 attn_d_qk, attn_d_v;
  gboolean attn_shared_kv;   /* MLA: V is the first d_v columns of the latent K cache */
  guint64 attn_ld_s;         /* row stride of S: kv_len rounded up to 64 */
  guint64 copy_bytes;        /* copy: bytes copied (half of the op's read + written bytes) */
  guint64 weight_bytes;      /* weights this op owns */
  guint64 kv_bytes;          /* KV cache this op owns */
  guint64 scratch_bytes;     /* activation scratch it needs (shared per GPU) */
  guint64 comm_bytes;        /* comm: the larger of its send and receive buffers */
} AfdExecOp;

/* Memory one GPU needs, bytes. */
typedef struct {
  guint64 weight_bytes;  /* sum over its ops */
  guint64 kv_bytes;      /* sum over its ops */
  guint64 scratch_bytes; /* max over its ops (one buffer reused) */
  guint64 comm_bytes;    /* max over its comm ops, for each of the send and receive buffers */
  guint64 total_bytes;   /* weights + KV + scratch + 2 · comm + AFD_EXEC_RESERVED_BYTES */
} AfdExecGpuMemory;

/* Attention runs over the KV length rounded up to this many tokens (a paged cache's block). */
#define AFD_EXEC_KV_BLOCK 16u

/* GEMM N and K are run rounded up to a multiple of this many elements (16 bytes of fp8, 32 of
 * bf16): an unaligned output row (MA Separation's LM head over 3 GPUs: 32000/3 = 10666
 * columns) makes cuBLASLt take a path 2-4x slower, and serving stacks pad vocabulary shards
 * anyway (vLLM: to a multiple of 64). */
#define AFD_EXEC_GEMM_ALIGN 16u

/* Set aside per GPU for cuBLAS workspaces, NCCL buffers and the CUDA context, bytes. */
#define AFD_EXEC_RESERVED_BYTES ((guint64) 2 << 30)

typedef struct _AfdExecPlan AfdExecPlan;

/**
 * afd_exec_plan_new:
 * @graph: (transfer none): a finished graph; must outlive the plan
 *
 * Returns: (transfer full) (nullable): the plan, or %NULL with AFD_ERROR_CONFIG naming the op
 *   that cannot be executed (an attention op of more than 2^31 elements per operand, …)
 */
AfdExecPlan *afd_exec_plan_new (const AfdOpGraph *graph, GError **error);

void afd_exec_plan_free (AfdExecPlan *self);

/* Returns: (transfer none): the plan of op @op. */
const AfdExecOp *afd_exec_plan_op (const AfdExecPlan *self, guint op);

/* Returns: (transfer none): the graph the plan was made from. */
const AfdOpGraph *afd_exec_plan_graph (const AfdExecPlan *self);

/* Fills @out with GPU @gpu's memory needs. */
void afd_exec_plan_gpu_memory (const AfdExecPlan *self, guint gpu, AfdExecGpuMemory *out);

/**
 * afd_exec_plan_check_memory:
 * @free_bytes: (array length=n_gpus): free device memory of each GPU, bytes
 *
 * Returns: %FALSE with AFD_ERROR_INFEASIBLE ("GPU 2 needs 150.3 GiB (weights …) but 139.2 GiB
 *   are free: the placement does not fit this GPU's memory") for the first GPU that does not fit
 */
gboolean afd_exec_plan_check_memory (const AfdExecPlan *self, const guint64 *free_bytes,
                                     guint n_gpus, GError **error);

/* Returns: the kind's name ("gemm", "grouped_gemm", "attention", "copy", "comm", "noop"). */
const char *afd_exec_kind_name (AfdExecKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdExecPlan, afd_exec_plan_free)

/* How to execute. */
typedef struct {
  guint warmup;      /* untimed iterations first (>= 1 recommended: NCCL connects lazily) */
  guint iterations;  /* timed iterations (>= 1) */
  double timeout_s;  /* deadline of every wait on a GPU or on NCCL, seconds */
  guint64 seed;      /* random data */
} AfdCudaExecOptions;

/* What a real run measured. Times in seconds, from each iteration's start (all GPUs leave a
 * barrier, then record their start event). */
typedef struct {
  guint n_ops;
  guint n_gpus;
  guint iterations;
  double *iteration_s;   /* [iterations]: last stop event minus the start */
  double *op_start_s;    /* [iterations · n_ops] (row = iteration); NOOP ops: -1 */
  double *op_end_s;      /* [iterations · n_ops] */
  double *op_duration_s; /* [n_ops] median over iterations; compute: end - start; comm: end -
                          * the collective's last member start (the rendezvous) */
  double iteration_median_s;
  double iteration_min_s;
  double iteration_max_s;
  guint median_iteration; /* index of the iteration whose time is the median */
  guint gate_timeouts;    /* iterations whose launch gate opened on its deadline (the host
                           * enqueued slower than the GPUs ran: times include host latency) */
  guint blocker_iterations; /* iterations launched behind device copies instead of the gate
                             * (after a gate timeout) */
  char *device_name;      /* GPU 0's name */
  char *versions;         /* "CUDA runtime …, cuBLASLt …, NCCL …" */
} AfdCudaExecResult;

void afd_cuda_exec_result_free (AfdCudaExecResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdCudaExecResult, afd_cuda_exec_result_free)

/**
 * afd_cuda_exec:
 * @plan: (transfer none): the plan of the graph to run
 *
 * Runs the graph's GPUs 0..n-1 on CUDA devices 0..n-1 of this host (one process; nonblocking
 * NCCL communicators per distinct group; every wait polled against @options->timeout_s).
 *
 * Returns: (transfer full) (nullable): the measurements, or %NULL with
 *   AFD_ERROR_BACKEND_UNAVAILABLE (no CUDA build, no GPU, fewer GPUs than the graph has),
 *   AFD_ERROR_INFEASIBLE (the placement does not fit a GPU's memory) or
 *   AFD_ERROR_BACKEND_FAILED (a CUDA/cuBLAS/NCCL failure or a timeout)
 */
AfdCudaExecResult *afd_cuda_exec (const AfdExecPlan *plan, const AfdCudaExecOptions *options,
                                  GError **error);

G_END_DECLS

#endif /* AFD_BACKENDS_CUDA_CUDA_EXEC_H */
