/* SPDX-License-Identifier: MIT */
/* cost-ops.c - operators from a bare shape for `afdsim cost` (formulas in cost-ops.h). */
#include "config.h"

#include <math.h>

#include "models/cost-ops.h"

double
afd_cost_ops_output_bytes (AfdDtype dtype)
{
  return dtype == AFD_DTYPE_FP8 || dtype == AFD_DTYPE_FP4 ? 2.0 : afd_dtype_bytes (dtype);
}

AfdOp *
afd_cost_ops_gemm (guint64 m, guint64 n, guint64 k, guint64 count, AfdDtype dtype)
{
  AfdOp *op = afd_op_new (AFD_OP_DENSE_FFN, "gemm");
  const double e = afd_dtype_bytes (dtype), c = (double) count;
  op->dtype = dtype;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { m, n, k, count };
  op->flops = 2.0 * (double) m * (double) n * (double) k * c;
  op->bytes_read = c * ((double) m * (double) k * e + (double) k * (double) n * e);
  op->bytes_written = c * (double) m * (double) n * afd_cost_ops_output_bytes (dtype);
  return op;
}

AfdOp *
afd_cost_ops_grouped_gemm (const guint64 *tokens, guint n_experts, guint64 n, guint64 k,
                           guint64 count, AfdDtype dtype)
{
  g_return_val_if_fail (tokens != NULL && n_experts >= 1, NULL);
  double total = 0, used = 0;
  for (guint e = 0; e < n_experts; e++)
    {
      total += (double) tokens[e];
      used += tokens[e] > 0 ? 1.0 : 0.0;
    }
  AfdOp *op = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "grouped_gemm");
  const double eb = afd_dtype_bytes (dtype), c = (double) count;
  const double nd = (double) n, kd = (double) k;
  op->dtype = dtype;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { (guint64) ceil (total / n_experts), n, k, count };
  op->flops = 2.0 * total * nd * kd * c;
  op->bytes_read = c * (used * nd * kd * eb + total * kd * eb);
  op->bytes_written = c * total * nd * afd_cost_ops_output_bytes (dtype);
  afd_op_set_expert_tokens (op, tokens, n_experts);
  return op;
}

AfdOp *
afd_cost_ops_copy (guint64 bytes)
{
  AfdOp *op = afd_op_new (AFD_OP_ELEMENTWISE, "copy");
  op->bytes_read = (double) bytes;
  op->bytes_written = (double) bytes;
  return op;
}

void
afd_cost_ops_apportion (const double *p, guint n, guint64 total, guint64 *out)
{
  double sum = 0;
  for (guint e = 0; e < n; e++)
    sum += p[e];
  g_autofree double *rest = g_new (double, MAX (n, 1u));
  guint64 given = 0;
  for (guint e = 0; e < n; e++)
    {
      double share = sum > 0 ? (double) total * p[e] / sum : 0;
      out[e] = (guint64) floor (share);
      rest[e] = share - (double) out[e];
      given += out[e];
    }
  /* The remaining tokens go one each to the largest remainders (ties: lowest index). */
  while (given < total && n > 0)
    {
      guint best = 0;
      for (guint e = 1; e < n; e++)
        if (rest[e] > rest[best])
          best = e;
      out[best]++;
      rest[best] = -1;
      given++;
    }
}
