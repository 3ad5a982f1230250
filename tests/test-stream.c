/* SPDX-License-Identifier: MIT */
/* Tests for sim/gpu-set.c: in-order streams, cross-GPU waits, external ops, busy time. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/gpu-set.h"
#include "tests/test-helpers.h"

/* Enqueues a fixed-duration op with optional waits. */
static guint
fixed (AfdGpuSet *set, guint gpu, guint stream, AfdTime dur_ns, const guint *waits, guint n)
{
  AfdOpSpec spec = { .gpu = gpu, .stream = stream, .duration_ns = dur_ns, .name = "op" };
  return afd_gpu_set_enqueue (set, &spec, waits, n);
}

/* Ops on one stream run one after another in enqueue order. */
Test (stream, ops_run_in_order)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  guint g = afd_gpu_set_add_gpu (set, "gpu0");
  guint s = afd_gpu_set_add_stream (set, g, "compute");
  const AfdTime durs[] = { 10, 0, 25, 5 };
  guint ids[4];
  for (guint i = 0; i < 4; i++)
    ids[i] = fixed (set, g, s, durs[i], NULL, 0);
  cr_assert_eq (afd_gpu_set_n_ops (set), 4);
  cr_assert_eq (afd_gpu_set_n_unfinished (set), 4);
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  AfdTime t = 0;
  for (guint i = 0; i < 4; i++)
    {
      cr_assert_eq (ids[i], i, "op ids are dense in enqueue order");
      cr_assert_eq (afd_gpu_set_op_start (set, i), t);
      t += durs[i];
      cr_assert_eq (afd_gpu_set_op_end (set, i), t);
    }
  cr_assert_eq (afd_gpu_set_stream_busy (set, g, s), 40);
  cr_assert_eq (afd_gpu_set_n_unfinished (set), 0);
  cr_assert_eq (afd_engine_now (engine), 40);
}

/* Streams of one GPU run concurrently; a wait on another GPU's op delays the start. */
Test (stream, waits_across_gpus)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  guint g0 = afd_gpu_set_add_gpu (set, "gpu0");
  guint g1 = afd_gpu_set_add_gpu (set, "gpu1");
  guint c0 = afd_gpu_set_add_stream (set, g0, "compute");
  guint c1 = afd_gpu_set_add_stream (set, g1, "compute");
  guint m1 = afd_gpu_set_add_stream (set, g1, "comm");
  cr_assert_eq (afd_gpu_set_n_gpus (set), 2);
  cr_assert_eq (afd_gpu_set_n_streams (set, g1), 2);
  guint a = fixed (set, g0, c0, 100, NULL, 0);
  guint b = fixed (set, g1, c1, 30, NULL, 0);
  guint x = fixed (set, g1, m1, 50, &a, 1);    /* waits for gpu0 */
  guint waits[] = { x, b };
  guint y = fixed (set, g1, c1, 10, waits, 2); /* waits for x (other stream) and b */
  guint z = fixed (set, g1, c1, 10, NULL, 0);  /* behind y on its stream */
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (afd_gpu_set_op_start (set, b), 0, "an independent stream does not wait");
  cr_assert_eq (afd_gpu_set_op_start (set, x), 100);
  cr_assert_eq (afd_gpu_set_op_end (set, x), 150);
  cr_assert_eq (afd_gpu_set_op_start (set, y), 150);
  cr_assert_eq (afd_gpu_set_op_start (set, z), 160, "stream order holds behind a waiting op");
  cr_assert_eq (afd_gpu_set_stream_busy (set, g1, c1), 50);
  cr_assert_eq (afd_gpu_set_stream_busy (set, g1, m1), 50);
  cr_assert_eq (afd_gpu_set_stream_busy (set, g0, c0), 100);
}

/* A wait on an op that already finished does not block. */
Test (stream, wait_on_finished_op)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  guint g = afd_gpu_set_add_gpu (set, "gpu0");
  guint s0 = afd_gpu_set_add_stream (set, g, "compute");
  guint s1 = afd_gpu_set_add_stream (set, g, "comm");
  guint a = fixed (set, g, s0, 20, NULL, 0);
  afd_engine_run (engine, 50, 0);
  cr_assert_eq (afd_gpu_set_op_end (set, a), 20);
  guint b = fixed (set, g, s1, 5, &a, 1);
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (afd_gpu_set_op_start (set, b), 20, "starts at once, at the engine's time");
  cr_assert_eq (afd_gpu_set_op_end (set, b), 25);
}

/* State of the external-op test: a "network" that finishes each op after a delay. */
typedef struct {
  AfdEngine *engine;
  AfdGpuSet *set;
  guint32 handler;
  AfdTime delay_ns;
  GArray *done_order; /* op ids in on_done order */
  guint started;
  AfdTime waiter_start_seen; /* start of the waiter, as seen from on_done */
  guint waiter;
} Net;

static void
net_finish (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  Net *net = user_data;
  afd_gpu_set_finish_op (net->set, (guint) event->arg);
}

static void
net_start (AfdGpuSet *set, guint op, AfdTime start_ns, gpointer user_data)
{
  Net *net = user_data;
  net->started++;
  cr_assert_eq (start_ns, afd_engine_now (net->engine));
  AfdEvent ev = { net->handler, 0, op };
  afd_engine_schedule (net->engine, net->delay_ns, &ev);
}

static void
net_done (AfdGpuSet *set, guint op, AfdTime start_ns, AfdTime end_ns, gpointer user_data)
{
  Net *net = user_data;
  cr_assert_eq (end_ns, afd_engine_now (net->engine), "on_done runs at the op's end time");
  g_array_append_val (net->done_order, op);
  if (op == 0)
    net->waiter_start_seen = afd_gpu_set_op_start (set, net->waiter);
}

/* External ops end when finish_op is called; waiters are released before on_done runs. */
Test (stream, external_ops)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  Net net = { .engine = engine, .set = set, .delay_ns = 70,
              .done_order = g_array_new (FALSE, FALSE, sizeof (guint)) };
  net.handler = afd_engine_register (engine, net_finish, &net);
  guint g0 = afd_gpu_set_add_gpu (set, "gpu0");
  guint g1 = afd_gpu_set_add_gpu (set, "gpu1");
  guint m0 = afd_gpu_set_add_stream (set, g0, "comm");
  guint c1 = afd_gpu_set_add_stream (set, g1, "compute");
  AfdOpSpec ext = { .gpu = g0, .stream = m0, .duration_ns = AFD_OP_DURATION_EXTERNAL,
                    .on_start = net_start, .on_done = net_done, .user_data = &net };
  guint e0 = afd_gpu_set_enqueue (set, &ext, NULL, 0);
  guint e1 = afd_gpu_set_enqueue (set, &ext, NULL, 0);
  AfdOpSpec w = { .gpu = g1, .stream = c1, .duration_ns = 5, .on_done = net_done,
                  .user_data = &net };
  net.waiter = afd_gpu_set_enqueue (set, &w, &e0, 1);
  cr_assert_eq (net.started, 1, "the first external op starts at enqueue, the second waits");
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (net.started, 2);
  cr_assert_eq (afd_gpu_set_op_end (set, e0), 70);
  cr_assert_eq (afd_gpu_set_op_start (set, e1), 70);
  cr_assert_eq (afd_gpu_set_op_end (set, e1), 140);
  cr_assert_eq (afd_gpu_set_op_start (set, net.waiter), 70);
  cr_assert_eq (net.waiter_start_seen, 70, "the waiter had started when on_done ran");
  cr_assert_eq (afd_gpu_set_stream_busy (set, g0, m0), 140);
  cr_assert_eq (net.done_order->len, 3);
  cr_assert_eq (g_array_index (net.done_order, guint, 0), e0);
  cr_assert_eq (g_array_index (net.done_order, guint, 1), net.waiter);
  cr_assert_eq (g_array_index (net.done_order, guint, 2), e1);
  g_array_unref (net.done_order);
}

/* A start callback that never finishes its op (a message that is lost). */
static void
never_start (AfdGpuSet *set, guint op, AfdTime start_ns, gpointer user_data)
{
  guint *count = user_data;
  (*count)++;
}

/* An op waiting for an external op that never finishes stays unfinished (end -1). */
Test (stream, unfinished_external_blocks)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  guint g = afd_gpu_set_add_gpu (set, "gpu0");
  guint s0 = afd_gpu_set_add_stream (set, g, "comm");
  guint s1 = afd_gpu_set_add_stream (set, g, "compute");
  guint count = 0;
  AfdOpSpec never = { .gpu = g, .stream = s0, .duration_ns = AFD_OP_DURATION_EXTERNAL,
                      .on_start = never_start, .user_data = &count };
  guint e = afd_gpu_set_enqueue (set, &never, NULL, 0);
  guint w = fixed (set, g, s1, 10, &e, 1);
  guint free_op = fixed (set, g, s1, 10, NULL, 0);
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (count, 1);
  cr_assert_eq (afd_gpu_set_op_start (set, e), 0);
  cr_assert_eq (afd_gpu_set_op_end (set, e), -1);
  cr_assert_eq (afd_gpu_set_op_start (set, w), -1);
  cr_assert_eq (afd_gpu_set_op_start (set, free_op), -1, "stream order: behind the blocked op");
  cr_assert_eq (afd_gpu_set_n_unfinished (set), 3);
  cr_assert_eq (afd_gpu_set_stream_busy (set, g, s1), 0);
}

/* Ops enqueued from a completion callback run too (graphs may grow while running). */
static void
chain_done (AfdGpuSet *set, guint op, AfdTime start_ns, AfdTime end_ns, gpointer user_data)
{
  guint *remaining = user_data;
  if (*remaining == 0)
    return;
  (*remaining)--;
  AfdOpSpec spec = { .gpu = 0, .stream = 0, .duration_ns = 3, .on_done = chain_done,
                     .user_data = remaining };
  afd_gpu_set_enqueue (set, &spec, &op, 1);
}

/* A chain grown from callbacks ends at n × duration. */
Test (stream, enqueue_from_callback)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, NULL);
  guint g = afd_gpu_set_add_gpu (set, "gpu0");
  afd_gpu_set_add_stream (set, g, "compute");
  guint remaining = 99;
  AfdOpSpec spec = { .gpu = 0, .stream = 0, .duration_ns = 3, .on_done = chain_done,
                     .user_data = &remaining };
  afd_gpu_set_enqueue (set, &spec, NULL, 0);
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  cr_assert_eq (afd_gpu_set_n_ops (set), 100);
  cr_assert_eq (afd_gpu_set_op_end (set, 99), 300);
  cr_assert_eq (afd_gpu_set_stream_busy (set, 0, 0), 300);
}
