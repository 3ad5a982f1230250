/* SPDX-License-Identifier: MIT */
/*
 * op.c - AfdOp storage: create, copy, free, kind names.
 *
 * Nothing here computes FLOPs or bytes (models/ops.c does, docs/models/operators.md).
 */
#include "config.h"

#include <string.h>

#include "sim/op.h"

/* snake_case names, indexed by AfdOpKind; also the names used in traces and profiles. */
static const char *const kind_names[AFD_OP_KIND_COUNT] = {
  [AFD_OP_NORM] = "norm",
  [AFD_OP_QKV_PROJ] = "qkv_proj",
  [AFD_OP_MLA_Q_DOWN] = "mla_q_down",
  [AFD_OP_MLA_Q_UP] = "mla_q_up",
  [AFD_OP_MLA_KV_DOWN] = "mla_kv_down",
  [AFD_OP_MLA_KV_UP] = "mla_kv_up",
  [AFD_OP_ATTENTION_PREFILL] = "attention_prefill",
  [AFD_OP_ATTENTION_DECODE] = "attention_decode",
  [AFD_OP_OUT_PROJ] = "out_proj",
  [AFD_OP_ROUTER] = "router",
  [AFD_OP_EXPERT_GROUPED_GEMM] = "expert_grouped_gemm",
  [AFD_OP_SHARED_EXPERT] = "shared_expert",
  [AFD_OP_DENSE_FFN] = "dense_ffn",
  [AFD_OP_LM_HEAD] = "lm_head",
  [AFD_OP_ELEMENTWISE] = "elementwise",
  [AFD_OP_COMM_SEND] = "comm_send",
  [AFD_OP_COMM_RECV] = "comm_recv",
  [AFD_OP_COMM_ALL_REDUCE] = "comm_all_reduce",
  [AFD_OP_COMM_ALL_GATHER] = "comm_all_gather",
  [AFD_OP_COMM_REDUCE_SCATTER] = "comm_reduce_scatter",
  [AFD_OP_COMM_ALL_TO_ALL] = "comm_all_to_all",
  [AFD_OP_COMM_DISPATCH] = "comm_dispatch",
  [AFD_OP_COMM_COMBINE] = "comm_combine",
};

const char *
afd_op_kind_name (AfdOpKind kind)
{
  if ((int)kind < 0 || kind >= AFD_OP_KIND_COUNT)
    return NULL;
  return kind_names[kind];
}

gboolean
afd_op_kind_from_name (const char *name, AfdOpKind *out_kind)
{
  if (name == NULL)
    return FALSE;
  for (int i = 0; i < AFD_OP_KIND_COUNT; i++)
    if (strcmp (name, kind_names[i]) == 0)
      {
        *out_kind = (AfdOpKind)i;
        return TRUE;
      }
  return FALSE;
}

gboolean
afd_op_kind_is_comm (AfdOpKind kind)
{
  return kind >= AFD_OP_COMM_FIRST && kind < AFD_OP_KIND_COUNT;
}

AfdOp *
afd_op_new (AfdOpKind kind, const char *name)
{
  g_return_val_if_fail ((int)kind >= 0 && kind < AFD_OP_KIND_COUNT, NULL);
  AfdOp *op = g_new0 (AfdOp, 1);
  op->kind = kind;
  op->name = g_strdup (name != NULL ? name : kind_names[kind]);
  op->dtype = AFD_DTYPE_BF16;
  op->layer = G_MAXUINT;
  return op;
}

AfdOp *
afd_op_copy (const AfdOp *op)
{
  g_return_val_if_fail (op != NULL, NULL);
  AfdOp *copy = g_new (AfdOp, 1);
  *copy = *op;
  copy->name = g_strdup (op->name);
  copy->expert_tokens = op->expert_tokens != NULL
                            ? g_memdup2 (op->expert_tokens, sizeof (guint64) * op->n_experts)
                            : NULL;
  return copy;
}

void
afd_op_free (AfdOp *op)
{
  if (op == NULL)
    return;
  g_free (op->name);
  g_free (op->expert_tokens);
  g_free (op);
}

void
afd_op_set_expert_tokens (AfdOp *op, const guint64 *tokens, guint n_experts)
{
  g_return_if_fail (op != NULL && (tokens != NULL || n_experts == 0));
  g_free (op->expert_tokens);
  op->expert_tokens = n_experts > 0 ? g_memdup2 (tokens, sizeof (guint64) * n_experts) : NULL;
  op->n_experts = n_experts;
}

double
afd_op_arithmetic_intensity (const AfdOp *op)
{
  g_return_val_if_fail (op != NULL, 0.0);
  double bytes = op->bytes_read + op->bytes_written;
  return bytes > 0 ? op->flops / bytes : 0.0;
}
