/* SPDX-License-Identifier: MIT */
/* Tests for models/cost-ops.c: the operators `afdsim cost` prices, worked out by hand. */
#include <criterion/criterion.h>
#include <glib.h>

#include "models/cost-ops.h"

/* gemm 128×4096×4096 bf16: FLOPs 2·128·4096² = 4,294,967,296; bytes read (128·4096 +
 * 4096²)·2 = 34,603,008, written 128·4096·2 = 1,048,576. fp8 with count 3: FLOPs ×3, inputs
 * and weights 1 B, outputs bf16 (2 B). */
Test (cost_ops, gemm_flops_and_bytes)
{
  g_autoptr (AfdOp) a = afd_cost_ops_gemm (128, 4096, 4096, 1, AFD_DTYPE_BF16);
  cr_assert_float_eq (a->flops, 4294967296.0, 0);
  cr_assert_float_eq (a->bytes_read, 34603008.0, 0);
  cr_assert_float_eq (a->bytes_written, 1048576.0, 0);
  cr_assert (a->has_gemm && a->gemm.m == 128 && a->gemm.count == 1);
  g_autoptr (AfdOp) b = afd_cost_ops_gemm (128, 4096, 4096, 3, AFD_DTYPE_FP8);
  cr_assert_float_eq (b->flops, 3 * 4294967296.0, 0);
  cr_assert_float_eq (b->bytes_read, 3 * 17301504.0, 0);
  cr_assert_float_eq (b->bytes_written, 3 * 1048576.0, 0);
}

/* Grouped {3, 0, 5} over n = 1024, k = 2048 bf16: FLOPs 2·8·1024·2048 = 33,554,432; weights of
 * the 2 used experts 2·1024·2048·2 = 8,388,608 + inputs 8·2048·2 = 32,768; outputs 8·1024·2 =
 * 16,384; gemm.m = ⌈8/3⌉ = 3; the counts are kept. */
Test (cost_ops, grouped_gemm_counts_used_experts)
{
  const guint64 tokens[] = { 3, 0, 5 };
  g_autoptr (AfdOp) op = afd_cost_ops_grouped_gemm (tokens, 3, 1024, 2048, 1, AFD_DTYPE_BF16);
  cr_assert_eq (op->kind, AFD_OP_EXPERT_GROUPED_GEMM);
  cr_assert_float_eq (op->flops, 33554432.0, 0);
  cr_assert_float_eq (op->bytes_read, 8388608.0 + 32768.0, 0);
  cr_assert_float_eq (op->bytes_written, 16384.0, 0);
  cr_assert_eq (op->gemm.m, 3);
  cr_assert_eq (op->n_experts, 3);
  cr_assert_eq (op->expert_tokens[2], 5);
}

/* A copy of B bytes reads and writes B and has no FLOPs. */
Test (cost_ops, copy)
{
  g_autoptr (AfdOp) op = afd_cost_ops_copy (1 << 20);
  cr_assert_float_eq (op->bytes_read + op->bytes_written, 2.0 * (1 << 20), 0);
  cr_assert_float_eq (op->flops, 0, 0);
}

/* Largest remainder: 10 over weights {1, 1, 1} is 3.33 each: floors 3, 3, 3 and the one left
 * goes to the lowest index (ties) -> {4, 3, 3}; {5, 3, 2} over 7: 3.5, 2.1, 1.4 -> floors
 * 3, 2, 1 (6), remainders .5 .1 .4 -> {4, 2, 1}. The counts always sum to the total. */
Test (cost_ops, apportion_sums_to_total)
{
  const double eq[] = { 1, 1, 1 }, w[] = { 5, 3, 2 };
  guint64 out[3];
  afd_cost_ops_apportion (eq, 3, 10, out);
  cr_assert (out[0] == 4 && out[1] == 3 && out[2] == 3, "%lu %lu %lu", (unsigned long) out[0],
             (unsigned long) out[1], (unsigned long) out[2]);
  afd_cost_ops_apportion (w, 3, 7, out);
  cr_assert (out[0] == 4 && out[1] == 2 && out[2] == 1, "%lu %lu %lu", (unsigned long) out[0],
             (unsigned long) out[1], (unsigned long) out[2]);
  for (guint64 t = 0; t < 50; t++)
    {
      afd_cost_ops_apportion (w, 3, t, out);
      cr_assert_eq (out[0] + out[1] + out[2], t);
    }
}
