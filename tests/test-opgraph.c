/* SPDX-License-Identifier: MIT */
/* Tests for sim/opgraph.c: op ids, dependency index, collective member bytes. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/opgraph.h"
#include "tests/test-helpers.h"

/* Ops get dense ids in add order and finish() keeps each op's deps in add order. */
Test (opgraph, ids_and_deps_in_add_order)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  guint a = afd_opgraph_add_fixed (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, "a", 0, 0, 1e-3, 0, NULL, 0);
  guint b = afd_opgraph_add_fixed (g, 1, AFD_OPGRAPH_STREAM_COMPUTE, "b", 0, 0, 1e-3, 0, NULL, 0);
  guint deps[] = { a, b };
  guint c = afd_opgraph_add_fixed (g, 1, AFD_OPGRAPH_STREAM_COMPUTE, "c", 0, 0, 1e-3, 0, deps, 2);
  afd_opgraph_finish (g);
  cr_assert_eq (a, 0);
  cr_assert_eq (b, 1);
  cr_assert_eq (c, 2);
  const AfdOpGraphOp *op = afd_opgraph_op (g, c);
  cr_assert_eq (op->n_deps, 2);
  cr_assert_eq (afd_opgraph_deps (g)[op->dep_offset], a);
  cr_assert_eq (afd_opgraph_deps (g)[op->dep_offset + 1], b);
}

/* Ring all-reduce member bytes are 2(n-1)/n·S (nccl-tests busbw factor): 4 GPUs, 1 MB ->
 * 1.5 MB each way; sends equal receives. */
Test (opgraph, allreduce_member_bytes)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (4);
  guint grp[] = { 0, 1, 2, 3 };
  guint ops[4];
  afd_opgraph_add_comm (g, AFD_COMM_ALL_REDUCE, "ar", 0, 0, grp, 4, 1e6, NULL, NULL, ops);
  afd_opgraph_finish (g);
  for (guint i = 0; i < 4; i++)
    {
      cr_assert_float_eq (afd_opgraph_op (g, ops[i])->send_bytes, 1.5e6, 1e-6);
      cr_assert_float_eq (afd_opgraph_op (g, ops[i])->recv_bytes, 1.5e6, 1e-6);
    }
}

/* All-to-all-v: a member sends its row and receives its column, the diagonal stays local. */
Test (opgraph, alltoallv_rows_and_columns)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  guint grp[] = { 0, 1 };
  double pairs[] = { 5, 10, 20, 7 };
  guint ops[2];
  afd_opgraph_add_comm (g, AFD_COMM_ALL_TO_ALL, "a2a", 0, 0, grp, 2, 0, pairs, NULL, ops);
  afd_opgraph_finish (g);
  cr_assert_float_eq (afd_opgraph_op (g, ops[0])->send_bytes, 10, 1e-12);
  cr_assert_float_eq (afd_opgraph_op (g, ops[0])->recv_bytes, 20, 1e-12);
  cr_assert_float_eq (afd_opgraph_op (g, ops[1])->send_bytes, 20, 1e-12);
  cr_assert_float_eq (afd_opgraph_op (g, ops[1])->recv_bytes, 10, 1e-12);
}

/* A compact even-split all-to-all-v equals its materialised matrix: counts {5, 3, 0} over 3
 * members, 2 B each; sender i gives member j share(counts[j], 3, (i + j) mod 3) items:
 * column 0 (5 items) = {2, 2, 1}, column 1 (3) = {1, 1, 1}, column 2 (0) = 0; the combine is
 * the transpose. */
Test (opgraph, even_alltoallv_matches_dense)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (3);
  guint grp[] = { 0, 1, 2 }, d[3], c[3];
  guint64 counts[] = { 5, 3, 0 };
  afd_opgraph_add_comm_even (g, "dispatch", 0, 0, grp, 3, counts, 2.0, FALSE, NULL, d);
  afd_opgraph_add_comm_even (g, "combine", 0, 0, grp, 3, counts, 2.0, TRUE, NULL, c);
  afd_opgraph_finish (g);
  /* share(5,3,r) = 2,2,1 for r = 0,1,2; share(3,3,r) = 1. Row i, column j: r = (i+j) mod 3. */
  const double want[9] = { 4, 2, 0, 4, 2, 0, 2, 2, 0 };
  const double *p = afd_opgraph_comm_pairs (g, 0);
  for (guint k = 0; k < 9; k++)
    cr_assert_float_eq (p[k], want[k], 1e-12, "dispatch pair %u: %g", k, p[k]);
  p = afd_opgraph_comm_pairs (g, 1);
  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 3; j++)
      cr_assert_float_eq (p[i * 3 + j], want[j * 3 + i], 1e-12);
  /* Member 0 receives the off-diagonal of column 0 (4 + 2) and sends row 0's (2 + 0). */
  cr_assert_float_eq (afd_opgraph_op (g, d[0])->recv_bytes, 6, 1e-12);
  cr_assert_float_eq (afd_opgraph_op (g, d[0])->send_bytes, 2, 1e-12);
  cr_assert_float_eq (afd_opgraph_op (g, c[0])->send_bytes, 6, 1e-12);
  cr_assert_float_eq (afd_opgraph_comm (g, 0)->bytes, 16, 1e-12);
}
