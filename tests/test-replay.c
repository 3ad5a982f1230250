/* SPDX-License-Identifier: MIT */
/* Tests for sim/replay.c on tiny hand-made graphs with fixed durations. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/engine.h"
#include "sim/replay.h"
#include "tests/test-helpers.h"

/* 1 ms/collective network for hand-worked timelines. */
static gboolean
one_ms (gpointer u, const AfdOpGraph *g, guint comm, double *out, GError **error)
{
  *out = 1e-3;
  return TRUE;
}

/* A collective starts when its last member arrives: GPU0 computes 1 ms, GPU1 3 ms, then an
 * all-reduce of 1 ms: both members end at 4 ms; GPU0 waited 2 ms; makespan 4 ms. */
Test (replay, rendezvous_waits_for_last_member)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  guint a = afd_opgraph_add_fixed (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, "a", 0, 0, 1e-3, 1e9, NULL, 0);
  guint b = afd_opgraph_add_fixed (g, 1, AFD_OPGRAPH_STREAM_COMPUTE, "b", 0, 0, 3e-3, 3e9, NULL, 0);
  guint grp[] = { 0, 1 }, deps[] = { a, b }, ops[2];
  afd_opgraph_add_comm (g, AFD_COMM_ALL_REDUCE, "ar", 0, 0, grp, 2, 1e6, NULL, deps, ops);
  afd_opgraph_finish (g);
  g_autoptr (AfdEngine) e = afd_engine_new (1);
  AfdReplayConfig cfg = { .comm_time = one_ms };
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdReplay) r = afd_replay_new (g, e, &cfg, &error);
  afd_assert_no_error (error);
  cr_assert (afd_replay_run (r, &error));
  cr_assert_eq (afd_replay_makespan (r), 4 * AFD_TIME_NS_PER_MS);
  cr_assert_eq (afd_replay_op_end (r, ops[0]), 4 * AFD_TIME_NS_PER_MS);
  cr_assert_eq (afd_replay_comm_start (r, 0), 3 * AFD_TIME_NS_PER_MS);
  AfdReplayGpuTimes t0;
  afd_replay_gpu_times (r, 0, &t0);
  cr_assert_float_eq (t0.compute_busy_s, 1e-3, 1e-12);
  cr_assert_float_eq (t0.comm_busy_s, 1e-3, 1e-12);
  cr_assert_float_eq (t0.comm_wait_s, 2e-3, 1e-12);
  cr_assert_float_eq (t0.idle_s, 2e-3, 1e-12);
  /* Critical path: b (3 ms on GPU1) then the all-reduce. */
  g_autoptr (GArray) path = afd_replay_critical_path (r);
  cr_assert_geq (path->len, 2);
  cr_assert_eq (g_array_index (path, guint, 0), b);
}

/* Compute and comm streams overlap: a 2 ms compute op and an independent 1 ms collective on
 * the same GPU end at 2 ms, and busy = 2 ms (the union). */
Test (replay, streams_overlap)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  afd_opgraph_add_fixed (g, 0, AFD_OPGRAPH_STREAM_COMPUTE, "a", 0, 0, 2e-3, 0, NULL, 0);
  guint grp[] = { 0, 1 };
  afd_opgraph_add_comm (g, AFD_COMM_ALL_REDUCE, "ar", 0, 0, grp, 2, 1e6, NULL, NULL, NULL);
  afd_opgraph_finish (g);
  g_autoptr (AfdEngine) e = afd_engine_new (1);
  AfdReplayConfig cfg = { .comm_time = one_ms };
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdReplay) r = afd_replay_new (g, e, &cfg, &error);
  cr_assert (afd_replay_run (r, &error));
  cr_assert_eq (afd_replay_makespan (r), 2 * AFD_TIME_NS_PER_MS);
  AfdReplayGpuTimes t0;
  afd_replay_gpu_times (r, 0, &t0);
  cr_assert_float_eq (t0.busy_s, 2e-3, 1e-12);
}

/* α-β all-reduce inside one node: 2(n-1)(α + S/(n·B)); n=2, S=1 GB, B=100 GB/s, α=1 µs:
 * 2·(1e-6 + 1e9/(2·1e11)) = 10.002 ms. */
Test (replay, links_allreduce_in_node)
{
  g_autoptr (AfdOpGraph) g = afd_opgraph_new (2);
  guint grp[] = { 0, 1 };
  afd_opgraph_add_comm (g, AFD_COMM_ALL_REDUCE, "ar", 0, 0, grp, 2, 1e9, NULL, NULL, NULL);
  afd_opgraph_finish (g);
  AfdReplayLinks links = { 2, 1e11, 1e10, 1e-6, 5e-6 };
  double t = 0;
  cr_assert (afd_replay_links_comm_time (&links, g, 0, &t, NULL));
  cr_assert_float_eq (t, 10.002e-3, 1e-12);
}
