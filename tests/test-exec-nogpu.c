/* SPDX-License-Identifier: MIT */
/*
 * Tests for real execution's op-graph -> execution-plan translation (backends/cuda/exec-plan.c)
 * and for afd_cuda_exec in bad environments. The plan needs no GPU: each test builds a small
 * graph by hand and checks what each op runs and the bytes it needs against sizes computed
 * here from the shapes. Without a GPU (or without CUDA built in) execution fails at once with
 * AFD_ERROR_BACKEND_UNAVAILABLE; on a GPU machine the tiny graph runs for real.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "backends/cuda/cuda-calibrate.h"
#include "backends/cuda/cuda-exec.h"
#include "sim/error.h"
#include "sim/op.h"
#include "sim/opgraph.h"
#include "tests/test-helpers.h"

/* Adds a GEMM op (m×n×k, count) on @gpu's compute stream. */
static guint
add_gemm (AfdOpGraph *g, guint gpu, guint64 m, guint64 n, guint64 k, guint64 count)
{
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_QKV_PROJ, "qkv");
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { m, n, k, count };
  op->flops = 2.0 * m * n * k * count;
  return afd_opgraph_add_compute (g, gpu, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, op, NULL, 0);
}

/* A dense GEMM op runs count cuBLASLt GEMMs on its own weights (count·n·k bf16) and needs
 * m·k inputs and m·n outputs of scratch. */
Test (exec_plan, gemm_sizes)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  guint id = add_gemm (g, 0, 16, 6144, 4096, 2);
  afd_opgraph_finish (g);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, &error);
  afd_assert_no_error (error);
  const AfdExecOp *p = afd_exec_plan_op (plan, id);
  cr_assert_eq (p->kind, AFD_EXEC_GEMM);
  cr_assert_eq (p->m, 16);
  cr_assert_eq (p->count, 2);
  cr_assert_eq (p->weight_bytes, G_GUINT64_CONSTANT (2) * 6144 * 4096 * 2);
  cr_assert_eq (p->scratch_bytes, G_GUINT64_CONSTANT (16) * 4096 * 2 + 16 * 6144 * 2);
  cr_assert_str_eq (afd_exec_kind_name (p->kind), "gemm");
}

/* GEMM N and K run rounded up to AFD_EXEC_GEMM_ALIGN (16) elements: an LM head sharded over
 * 3 GPUs (32000/3 = 10666 columns) runs 10672 columns, and its weights are sized that way;
 * the router's 16 columns stay 16. */
Test (exec_plan, gemm_dims_aligned)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  guint head = add_gemm (g, 0, 86, 10666, 4090, 1);
  guint router = add_gemm (g, 0, 86, 16, 4096, 1);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  const AfdExecOp *p = afd_exec_plan_op (plan, head);
  cr_assert_eq (p->n, 10672);
  cr_assert_eq (p->k, 4096);
  cr_assert_eq (p->weight_bytes, G_GUINT64_CONSTANT (10672) * 4096 * 2);
  cr_assert_eq (afd_exec_plan_op (plan, router)->n, 16);
}

/* A grouped expert GEMM owns every local expert's weights and runs one GEMM per expert with
 * tokens; its scratch is sized by the busiest expert; fp8 operands are one byte. */
Test (exec_plan, grouped_gemm_uses_routed_counts)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "experts");
  op->dtype = AFD_DTYPE_FP8;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { 5, 16384, 4096, 2 };
  const guint64 tokens[] = { 3, 0, 12, 5 };
  afd_op_set_expert_tokens (op, tokens, 4);
  guint id = afd_opgraph_add_compute (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, op, NULL, 0);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  const AfdExecOp *p = afd_exec_plan_op (plan, id);
  cr_assert_eq (p->kind, AFD_EXEC_GROUPED_GEMM);
  cr_assert_eq (p->n_experts, 4);
  cr_assert_eq (p->expert_tokens[2], 12);
  cr_assert_eq (p->dtype, AFD_DTYPE_FP8);
  cr_assert_eq (p->weight_bytes, G_GUINT64_CONSTANT (4) * 2 * 16384 * 4096 * 1);
  cr_assert_eq (p->scratch_bytes, G_GUINT64_CONSTANT (12) * 4096 * 1 + 12 * 16384 * 2);
}

/* Decode attention (GQA 32/8 heads, 16 sequences, context 2048) runs over 16·8 problems of
 * 4 query rows and 2049 KV rows rounded up to a 16-token block (2064); it owns K and V caches
 * of 2·128·2064·128 bf16 elements and S rows are padded to 2112 (a multiple of 64). */
Test (exec_plan, attention_decode_shape)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_ATTENTION_DECODE, "attn");
  op->has_attention = TRUE;
  op->attention = (AfdAttentionShape) { 32, 8, 128, 128, 16, 1, 2048 };
  guint id = afd_opgraph_add_compute (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, op, NULL, 0);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  const AfdExecOp *p = afd_exec_plan_op (plan, id);
  cr_assert_eq (p->kind, AFD_EXEC_ATTENTION);
  cr_assert_eq (p->attn_problems, 128);
  cr_assert_eq (p->attn_rows, 4);
  cr_assert_eq (p->attn_kv_len, 2064);
  cr_assert_eq (p->attn_ld_s, 2112);
  cr_assert_not (p->attn_shared_kv);
  cr_assert_eq (p->kv_bytes, G_GUINT64_CONSTANT (2) * 128 * 2064 * 128 * 2);
  cr_assert_eq (p->scratch_bytes, G_GUINT64_CONSTANT (128) * 4 * (128 + 2112 + 128) * 2);
}

/* A memory-bound op with B bytes read + written runs a device copy of B/2 bytes; an op with
 * no work and a fixed-duration op run nothing. */
Test (exec_plan, memory_bound_and_noop)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  g_autoptr (AfdOp) norm = afd_op_new (AFD_OP_NORM, "norm");
  norm->bytes_read = 3000;
  norm->bytes_written = 1000;
  guint a = afd_opgraph_add_compute (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, norm, NULL, 0);
  g_autoptr (AfdOp) empty = afd_op_new (AFD_OP_ELEMENTWISE, "nothing");
  guint b = afd_opgraph_add_compute (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, empty, NULL, 0);
  guint c = afd_opgraph_add_fixed (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, "delay", 0, 0, 1e-3, 0,
                                   NULL, 0);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  cr_assert_eq (afd_exec_plan_op (plan, a)->kind, AFD_EXEC_COPY);
  cr_assert_eq (afd_exec_plan_op (plan, a)->copy_bytes, 2000);
  cr_assert_eq (afd_exec_plan_op (plan, b)->kind, AFD_EXEC_NOOP);
  cr_assert_eq (afd_exec_plan_op (plan, c)->kind, AFD_EXEC_NOOP);
}

/* An all-to-all-v member needs buffers for the larger of what it sends (its row) and what it
 * receives (its column); an all-gather member needs the gathered output. */
Test (exec_plan, comm_buffers)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (3);
  const guint gpus[] = { 0, 1, 2 };
  const double pairs[] = { 0, 100, 200, /* from 0 */
                           50, 0, 70,   /* from 1 */
                           900, 10, 0 /* from 2 */ };
  guint ops[3], ag[3];
  afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, "a2a", 0, 0, gpus, 3, 0, pairs, NULL, ops);
  afd_opgraph_add_comm (g, AFD_COMM_ALL_GATHER, "ag", 0, 0, gpus, 3, 3000, NULL, NULL, ag);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  cr_assert_eq (afd_exec_plan_op (plan, ops[0])->kind, AFD_EXEC_COMM);
  cr_assert_eq (afd_exec_plan_op (plan, ops[0])->comm_bytes, 950);  /* column 0: 50 + 900 */
  cr_assert_eq (afd_exec_plan_op (plan, ops[1])->comm_bytes, 120);  /* row 1: 50 + 70 */
  cr_assert_eq (afd_exec_plan_op (plan, ops[2])->comm_bytes, 910);  /* row 2: 900 + 10 */
  cr_assert_eq (afd_exec_plan_op (plan, ag[1])->comm_bytes, 3000);
  AfdExecGpuMemory m;
  afd_exec_plan_gpu_memory (plan, 0, &m);
  cr_assert_eq (m.comm_bytes, 3000);
  cr_assert_eq (m.total_bytes, 2 * 3000 + AFD_EXEC_RESERVED_BYTES);
}

/* Per-GPU memory sums the weights and KV of the GPU's own ops, takes the largest scratch, and
 * a placement over the free memory fails with one INFEASIBLE message naming the GPU. */
Test (exec_plan, memory_check)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  add_gemm (g, 0, 8, 4096, 4096, 1);
  add_gemm (g, 1, 8, 4096, 4096, 3);
  add_gemm (g, 1, 64, 1024, 1024, 1);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  AfdExecGpuMemory m;
  afd_exec_plan_gpu_memory (plan, 1, &m);
  guint64 w = G_GUINT64_CONSTANT (3) * 4096 * 4096 * 2 + 1024 * 1024 * 2;
  cr_assert_eq (m.weight_bytes, w);
  cr_assert_eq (m.scratch_bytes, MAX (8 * 4096 * 2 + 8 * 4096 * 2, 64 * 1024 * 2 + 64 * 1024 * 2));
  cr_assert_eq (m.total_bytes, w + m.scratch_bytes + AFD_EXEC_RESERVED_BYTES);
  guint64 plenty[2] = { G_GUINT64_CONSTANT (80) << 30, G_GUINT64_CONSTANT (80) << 30 };
  g_autoptr (GError) error = NULL;
  cr_assert (afd_exec_plan_check_memory (plan, plenty, 2, &error));
  guint64 tight[2] = { G_GUINT64_CONSTANT (80) << 30, m.total_bytes - 1 };
  cr_assert_not (afd_exec_plan_check_memory (plan, tight, 2, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  cr_assert (strstr (error->message, "GPU 1 needs") != NULL, "%s", error->message);
  cr_assert (strstr (error->message, "does not fit") != NULL, "%s", error->message);
  cr_assert_null (strchr (error->message, '\n'));
}

/* Without a GPU (or CUDA) execution fails at once with BACKEND_UNAVAILABLE and one line; on a
 * GPU machine a one-GPU GEMM + copy graph runs and every op takes a positive time. */
Test (exec_nogpu, exec_fails_clearly_or_runs, .timeout = 120)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (1);
  guint a = add_gemm (g, 0, 64, 4096, 4096, 1);
  g_autoptr (AfdOp) norm = afd_op_new (AFD_OP_NORM, "norm");
  norm->bytes_read = norm->bytes_written = 1 << 20;
  guint b = afd_opgraph_add_compute (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, 0, 0, norm, &a, 1);
  afd_opgraph_finish (g);
  g_autoptr (AfdExecPlan) plan = afd_exec_plan_new (g, NULL);
  AfdCudaExecOptions options = { .warmup = 1, .iterations = 3, .timeout_s = 30, .seed = 1 };
  g_autoptr (GError) error = NULL;
  gboolean gpu = afd_cuda_probe (1, NULL, NULL);
  g_autoptr (AfdCudaExecResult) r = afd_cuda_exec (plan, &options, &error);
  if (!gpu)
    {
      cr_assert_null (r);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
      cr_assert_null (strchr (error->message, '\n'), "one line: %s", error->message);
      return;
    }
  afd_assert_no_error (error);
  cr_assert_eq (r->iterations, 3);
  cr_assert_gt (r->op_duration_s[a], 0);
  cr_assert_gt (r->op_duration_s[b], 0);
  cr_assert_geq (r->iteration_median_s, r->op_duration_s[a]);
}
