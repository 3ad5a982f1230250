/* SPDX-License-Identifier: MIT */
/*
 * exec-plan.c - what each op of an operator graph runs on a real GPU, and the memory it needs
 * (cuda-exec.h). Built with and without CUDA so that the translation is unit-tested on
 * machines without a GPU (tests/test-exec-nogpu.c). The mapping follows the `cuda` cost
 * backend (backends/cuda/cuda-backend.c), so an op is executed exactly as it is priced.
 */
#include "config.h"

#include <math.h>

#include "backends/cuda/cuda-exec.h"
#include "sim/error.h"

struct _AfdExecPlan {
  const AfdOpGraph *graph;
  AfdExecOp *ops;
  guint n_ops;
};

const char *
afd_exec_kind_name (AfdExecKind kind)
{
  static const char *const names[AFD_EXEC_N_KINDS] = { "noop", "gemm", "grouped_gemm",
                                                       "attention", "copy", "comm" };
  return (guint) kind < AFD_EXEC_N_KINDS ? names[kind] : "unknown";
}

/* Bytes of one GEMM operand element of @dtype (fp8: 1; everything else runs as bf16: 2). */
static guint64
operand_bytes (AfdDtype dtype)
{
  return dtype == AFD_DTYPE_FP8 ? 1 : 2;
}

/* @x rounded up to a multiple of @a. */
static guint64
align_up (guint64 x, guint64 a)
{
  return (x + a - 1) / a * a;
}

/* Plans a compute op from its stored AfdOp. */
static gboolean
plan_compute (const AfdOp *op, AfdExecOp *out, GError **error)
{
  if ((op->kind == AFD_OP_ATTENTION_DECODE || op->kind == AFD_OP_ATTENTION_PREFILL)
      && op->has_attention)
    {
      const AfdAttentionShape *a = &op->attention;
      guint kv_heads = MAX (a->n_kv_heads, 1u);
      out->kind = AFD_EXEC_ATTENTION;
      out->dtype = AFD_DTYPE_BF16;
      out->attn_shared_kv = kv_heads == 1 && a->head_dim_qk > a->head_dim_v && a->n_heads > 1;
      out->attn_problems = MAX (a->n_sequences, G_GUINT64_CONSTANT (1)) * kv_heads;
      out->attn_rows = (guint64) MAX (a->n_heads / kv_heads, 1u)
                       * MAX (a->query_tokens, G_GUINT64_CONSTANT (1));
      /* The KV length is run rounded up to a paged cache's block (AFD_EXEC_KV_BLOCK tokens):
       * cuBLAS takes a ~2x slower path when the length is not a multiple of 8 (measured on
       * H200: context 2048 + 1 new token ran at 1.4 TB/s instead of 4 TB/s), which a fused
       * paged-attention kernel does not; a real cache reads whole blocks anyway. */
      out->attn_kv_len = (a->context_tokens + a->query_tokens + AFD_EXEC_KV_BLOCK - 1)
                         / AFD_EXEC_KV_BLOCK * AFD_EXEC_KV_BLOCK;
      out->attn_d_qk = a->head_dim_qk;
      out->attn_d_v = a->head_dim_v;
      out->attn_ld_s = (out->attn_kv_len + 63) / 64 * 64;
      guint64 kv_one = out->attn_problems * out->attn_kv_len * out->attn_d_qk * 2;
      out->kv_bytes = out->attn_shared_kv ? kv_one : 2 * kv_one;
      out->scratch_bytes = out->attn_problems * out->attn_rows
                           * (out->attn_d_qk + out->attn_ld_s + out->attn_d_v) * 2;
      /* cuBLAS takes int sizes and strides. */
      if (out->attn_kv_len == 0 || out->attn_d_qk == 0 || out->attn_d_v == 0
          || out->attn_problems > G_MAXINT || out->attn_rows > G_MAXINT
          || out->attn_ld_s * out->attn_rows > G_MAXINT
          || out->attn_kv_len * out->attn_d_qk > G_MAXINT)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "op %s: attention shape out of the executor's range (problems %" G_GUINT64_FORMAT
                       ", rows %" G_GUINT64_FORMAT ", KV length %" G_GUINT64_FORMAT ")",
                       op->name, out->attn_problems, out->attn_rows, out->attn_kv_len);
          return FALSE;
        }
      return TRUE;
    }
  if (op->has_gemm && op->gemm.n > 0 && op->gemm.k > 0)
    {
      out->dtype = op->dtype == AFD_DTYPE_FP8 ? AFD_DTYPE_FP8 : AFD_DTYPE_BF16;
      out->n = align_up (op->gemm.n, AFD_EXEC_GEMM_ALIGN);
      out->k = align_up (op->gemm.k, AFD_EXEC_GEMM_ALIGN);
      out->count = MAX (op->gemm.count, G_GUINT64_CONSTANT (1));
      guint64 w_one = out->n * out->k * operand_bytes (out->dtype);
      guint64 rows = 0;
      if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL)
        {
          out->kind = AFD_EXEC_GROUPED_GEMM;
          out->n_experts = op->n_experts;
          out->expert_tokens = op->expert_tokens;
          for (guint e = 0; e < op->n_experts; e++)
            rows = MAX (rows, op->expert_tokens[e]);
          out->weight_bytes = w_one * out->count * op->n_experts;
        }
      else if (op->gemm.m > 0)
        {
          out->kind = AFD_EXEC_GEMM;
          out->m = rows = op->gemm.m;
          out->weight_bytes = w_one * out->count;
        }
      else
        return TRUE; /* no rows: nothing to run */
      out->scratch_bytes = rows * out->k * operand_bytes (out->dtype) + rows * out->n * 2;
      return TRUE;
    }
  double bytes = op->bytes_read + op->bytes_written;
  if (bytes > 0 && isfinite (bytes))
    {
      out->kind = AFD_EXEC_COPY;
      out->copy_bytes = (guint64) (bytes / 2.0);
      out->scratch_bytes = 2 * out->copy_bytes;
    }
  return TRUE;
}

AfdExecPlan *
afd_exec_plan_new (const AfdOpGraph *graph, GError **error)
{
  g_autoptr (AfdExecPlan) self = g_new0 (AfdExecPlan, 1);
  self->graph = graph;
  self->n_ops = afd_opgraph_n_ops (graph);
  self->ops = g_new0 (AfdExecOp, MAX (self->n_ops, 1u));
  for (guint i = 0; i < self->n_ops; i++)
    {
      const AfdOpGraphOp *g = afd_opgraph_op (graph, i);
      AfdExecOp *out = &self->ops[i];
      if (g->kind == AFD_OPGRAPH_COMM)
        {
          const AfdOpGraphComm *c = afd_opgraph_comm (graph, g->comm);
          if (c->n_members < 2 || c->pattern == AFD_COMM_BARRIER)
            {
              /* A barrier runs as a 4-byte all-reduce, as frameworks implement one. */
              out->kind = c->n_members < 2 ? AFD_EXEC_NOOP : AFD_EXEC_COMM;
              out->comm_bytes = c->n_members < 2 ? 0 : 4;
              continue;
            }
          out->kind = AFD_EXEC_COMM;
          out->comm_bytes = (guint64) ceil (MAX (c->bytes, 0.0));
          if (c->has_pairs)
            {
              /* all-to-all-v: the larger of this member's row (sent) and column (received). */
              const double *p = afd_opgraph_comm_pairs (graph, g->comm);
              double row = 0, col = 0;
              for (guint j = 0; j < c->n_members; j++)
                {
                  row += p[g->member * c->n_members + j];
                  col += p[j * c->n_members + g->member];
                }
              out->comm_bytes = (guint64) ceil (MAX (row, col));
            }
          continue;
        }
      AfdOp view;
      if (g->fixed_duration_s >= 0 || !afd_opgraph_compute_op (graph, i, &view))
        continue; /* fixed-duration ops have no kernel: TODO(#7) a sleep kernel */
      if (!plan_compute (&view, out, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

void
afd_exec_plan_free (AfdExecPlan *self)
{
  if (self == NULL)
    return;
  g_free (self->ops);
  g_free (self);
}

const AfdExecOp *
afd_exec_plan_op (const AfdExecPlan *self, guint op)
{
  g_return_val_if_fail (op < self->n_ops, NULL);
  return &self->ops[op];
}

const AfdOpGraph *
afd_exec_plan_graph (const AfdExecPlan *self)
{
  return self->graph;
}

void
afd_exec_plan_gpu_memory (const AfdExecPlan *self, guint gpu, AfdExecGpuMemory *out)
{
  *out = (AfdExecGpuMemory) { 0 };
  for (guint i = 0; i < self->n_ops; i++)
    {
      if (afd_opgraph_op (self->graph, i)->gpu != gpu)
        continue;
      const AfdExecOp *o = &self->ops[i];
      out->weight_bytes += o->weight_bytes;
      out->kv_bytes += o->kv_bytes;
      out->scratch_bytes = MAX (out->scratch_bytes, o->scratch_bytes);
      out->comm_bytes = MAX (out->comm_bytes, o->comm_bytes);
    }
  out->total_bytes = out->weight_bytes + out->kv_bytes + out->scratch_bytes
                     + 2 * out->comm_bytes + AFD_EXEC_RESERVED_BYTES;
}

gboolean
afd_exec_plan_check_memory (const AfdExecPlan *self, const guint64 *free_bytes, guint n_gpus,
                            GError **error)
{
  const double gib = 1024.0 * 1024.0 * 1024.0;
  for (guint g = 0; g < n_gpus && g < afd_opgraph_n_gpus (self->graph); g++)
    {
      AfdExecGpuMemory m;
      afd_exec_plan_gpu_memory (self, g, &m);
      if (m.total_bytes > free_bytes[g])
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                       "GPU %u needs %.1f GiB (weights %.1f, KV cache %.1f, scratch %.1f, comm "
                       "buffers %.1f, reserved %.1f) but %.1f GiB are free: the placement does "
                       "not fit this GPU's memory",
                       g, m.total_bytes / gib, m.weight_bytes / gib, m.kv_bytes / gib,
                       m.scratch_bytes / gib, 2 * m.comm_bytes / gib,
                       AFD_EXEC_RESERVED_BYTES / gib, free_bytes[g] / gib);
          return FALSE;
        }
    }
  return TRUE;
}

void
afd_cuda_exec_result_free (AfdCudaExecResult *result)
{
  if (result == NULL)
    return;
  g_free (result->iteration_s);
  g_free (result->op_start_s);
  g_free (result->op_end_s);
  g_free (result->op_duration_s);
  g_free (result->device_name);
  g_free (result->versions);
  g_free (result);
}
