/* SPDX-License-Identifier: MIT */
/*
 * cost-ops.h - operators built from a bare shape rather than from a model: what `afdsim cost`
 * prices (cli/cmd-cost.c; docs/user/cost.md). They describe work only, price nothing.
 *
 * e = bytes per element of the dtype; fp8 and fp4 math writes bf16 outputs (2 bytes):
 *   GEMM m×n×k, count        FLOPs 2·m·n·k·count; bytes count·(m·k·e + k·n·e + m·n·e_out)
 *   grouped GEMM, count      FLOPs 2·Σmₑ·n·k·count;
 *                            bytes count·(used·n·k·e + Σmₑ·k·e + Σmₑ·n·e_out)
 *   copy of B bytes          FLOPs 0; B read and B written
 *   apportion T over p       expert e gets ⌊T·pₑ/Σp⌋, the rest one each to the largest
 *                            remainders (ties: lowest index): the counts sum to T exactly
 * Checked by tests/test-cost-ops.c.
 */
#ifndef AFD_MODELS_COST_OPS_H
#define AFD_MODELS_COST_OPS_H

#include <glib.h>

#include "sim/op.h"

G_BEGIN_DECLS

/* Returns: bytes per output element of @dtype math (bf16 for fp8 and fp4). */
double afd_cost_ops_output_bytes (AfdDtype dtype);

/* Returns: (transfer full): @count GEMMs m×n×k of @dtype (kind dense_ffn, name "gemm"). */
AfdOp *afd_cost_ops_gemm (guint64 m, guint64 n, guint64 k, guint64 count, AfdDtype dtype);

/**
 * afd_cost_ops_grouped_gemm:
 * @tokens: (array length=n_experts): tokens per expert (copied), n_experts >= 1
 *
 * Returns: (transfer full): one grouped GEMM of @count matrices n×k per expert (kind
 *   expert_grouped_gemm); gemm.m = ⌈Σ tokens / experts⌉
 */
AfdOp *afd_cost_ops_grouped_gemm (const guint64 *tokens, guint n_experts, guint64 n, guint64 k,
                                  guint64 count, AfdDtype dtype);

/* Returns: (transfer full): an elementwise copy of @bytes (read and written). */
AfdOp *afd_cost_ops_copy (guint64 bytes);

/**
 * afd_cost_ops_apportion:
 * @p: (array length=n): non-negative weights, not all 0
 * @out: (array length=n): the counts, summing to @total
 */
void afd_cost_ops_apportion (const double *p, guint n, guint64 total, guint64 *out);

G_END_DECLS

#endif /* AFD_MODELS_COST_OPS_H */
