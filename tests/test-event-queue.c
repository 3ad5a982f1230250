/* SPDX-License-Identifier: MIT */
/* Tests for sim/event-queue.h: (time_ns, sequence) order, ties, growth, replace_top. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/event-queue.h"
#include "tests/test-helpers.h"

/* Makes a payload whose arg identifies it. */
static AfdEvent
ev (guint64 arg)
{
  AfdEvent e = { 0, 0, arg };
  return e;
}

/* Popping an empty queue fails and leaves the outputs untouched. */
Test (event_queue, empty_pop_fails)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  AfdTime t = 42;
  AfdEvent e = ev (7);
  cr_assert_not (afd_event_queue_pop (q, &t, &e));
  cr_assert_eq (t, 42);
  cr_assert_eq (e.arg, 7);
  cr_assert_eq (afd_event_queue_len (q), 0);
}

/* Events come out in time order, whatever the push order. */
Test (event_queue, orders_by_time)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  const AfdTime times[] = { 50, 10, 40, 30, 20, 0, 60 };
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      AfdEvent e = ev ((guint64) times[i]);
      afd_event_queue_push (q, times[i], &e);
    }
  cr_assert_eq (afd_event_queue_len (q), G_N_ELEMENTS (times));
  for (AfdTime want = 0; want <= 60; want += 10)
    {
      AfdTime t;
      AfdEvent e;
      cr_assert (afd_event_queue_pop (q, &t, &e));
      cr_assert_eq (t, want);
      cr_assert_eq (e.arg, (guint64) want);
    }
  cr_assert_eq (afd_event_queue_len (q), 0);
}

/* Events at the same time come out in push order (the sequence breaks ties). */
Test (event_queue, ties_keep_push_order)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  /* 1000 events over 3 distinct times, interleaved, so ties meet in every heap position. */
  for (guint64 i = 0; i < 1000; i++)
    {
      AfdEvent e = ev (i);
      afd_event_queue_push (q, (AfdTime) ((i * 7) % 3), &e);
    }
  AfdTime last_t = -1;
  guint64 last_arg = 0;
  AfdTime t;
  AfdEvent e;
  while (afd_event_queue_pop (q, &t, &e))
    {
      cr_assert_geq (t, last_t);
      if (t == last_t)
        cr_assert_gt (e.arg, last_arg, "tie at %" G_GINT64_FORMAT " out of push order", t);
      last_t = t;
      last_arg = e.arg;
    }
}

/* One million random pushes (fixed seed) pop in non-decreasing time, ties in push order. */
Test (event_queue, million_random_pushes_pop_sorted)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (12345);
  const guint n = 1000000;
  for (guint i = 0; i < n; i++)
    {
      AfdEvent e = ev (i);
      /* A narrow range makes many ties. */
      afd_event_queue_push (q, g_rand_int_range (rng, 0, 100000), &e);
    }
  cr_assert_eq (afd_event_queue_len (q), n);
  AfdTime last_t = -1;
  guint64 last_arg = 0;
  guint popped = 0;
  AfdTime t;
  AfdEvent e;
  while (afd_event_queue_pop (q, &t, &e))
    {
      cr_assert (t > last_t || (t == last_t && e.arg > last_arg), "out of order at pop %u", popped);
      last_t = t;
      last_arg = e.arg;
      popped++;
    }
  cr_assert_eq (popped, n);
}

/* A reference model: a GSequence sorted by (time, seq). */
typedef struct {
  AfdTime time_ns;
  guint64 seq;
} Key;

static gint
key_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Key *x = a, *y = b;
  if (x->time_ns != y->time_ns)
    return x->time_ns < y->time_ns ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Interleaved push, pop and replace_top agree with a sorted reference model at every step. */
Test (event_queue, interleaved_matches_reference)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  g_autoptr (GSequence) ref = g_sequence_new (g_free);
  g_autoptr (GRand) rng = g_rand_new_with_seed (777);
  guint64 seq = 0;
  AfdTime now = 0;
  for (guint step = 0; step < 200000; step++)
    {
      guint op = g_rand_int_range (rng, 0, 10);
      if (op < 4 || g_sequence_get_length (ref) == 0)
        {
          AfdTime t = now + g_rand_int_range (rng, 0, 50);
          AfdEvent e = ev (seq);
          afd_event_queue_push (q, t, &e);
          Key *k = g_new (Key, 1);
          *k = (Key){ t, seq++ };
          g_sequence_insert_sorted (ref, k, key_cmp, NULL);
        }
      else if (op < 7)
        {
          GSequenceIter *it = g_sequence_get_begin_iter (ref);
          const Key *k = g_sequence_get (it);
          AfdTime t;
          AfdEvent e;
          cr_assert (afd_event_queue_pop (q, &t, &e));
          cr_assert_eq (t, k->time_ns, "step %u", step);
          cr_assert_eq (e.arg, k->seq, "step %u", step);
          now = t;
          g_sequence_remove (it);
        }
      else
        {
          GSequenceIter *it = g_sequence_get_begin_iter (ref);
          const Key *k = g_sequence_get (it);
          cr_assert_eq (afd_event_queue_top_time (q), k->time_ns, "step %u", step);
          cr_assert_eq (afd_event_queue_top_event (q)->arg, k->seq, "step %u", step);
          now = k->time_ns;
          g_sequence_remove (it);
          AfdTime t = now + g_rand_int_range (rng, 0, 50);
          AfdEvent e = ev (seq);
          afd_event_queue_replace_top (q, t, &e);
          Key *nk = g_new (Key, 1);
          *nk = (Key){ t, seq++ };
          g_sequence_insert_sorted (ref, nk, key_cmp, NULL);
        }
      cr_assert_eq (afd_event_queue_len (q), (gsize) g_sequence_get_length (ref));
    }
}

/* Payloads are stored by value: the caller's copy may change after the push. */
Test (event_queue, payload_copied_by_value)
{
  AfdEventQueue q;
  afd_event_queue_init (&q);
  AfdEvent e = { 3, 4, 5 };
  afd_event_queue_push (&q, 1, &e);
  e.arg = 99;
  AfdEvent out;
  cr_assert (afd_event_queue_pop (&q, NULL, &out));
  cr_assert_eq (out.handler, 3);
  cr_assert_eq (out.target, 4);
  cr_assert_eq (out.arg, 5);
  afd_event_queue_clear (&q);
}

/* Renumbering before the 32-bit sequence wraps keeps time order and tie order. */
Test (event_queue, sequence_wrap_keeps_order)
{
  g_autoptr (AfdEventQueue) q = afd_event_queue_new ();
  /* Jump close to the wrap so the renumbering happens inside this test. */
  q->next_seq = G_MAXUINT32 - 500;
  g_autoptr (GRand) rng = g_rand_new_with_seed (99);
  guint64 arg = 0;
  for (guint i = 0; i < 1000; i++)
    {
      AfdEvent e = ev (arg++);
      afd_event_queue_push (q, g_rand_int_range (rng, 0, 20), &e);
    }
  cr_assert_lt (q->next_seq, 2000, "the sequence was renumbered");
  /* Interleave replace_top across ties, then drain: (time, push order) must hold. */
  for (guint i = 0; i < 1000; i++)
    {
      AfdEvent e = ev (arg++);
      afd_event_queue_replace_top (q, afd_event_queue_top_time (q) + g_rand_int_range (rng, 0, 3),
                                   &e);
    }
  AfdTime last_t = -1;
  guint64 last_arg = 0;
  AfdTime t;
  AfdEvent e;
  guint n = 0;
  while (afd_event_queue_pop (q, &t, &e))
    {
      cr_assert (t > last_t || (t == last_t && e.arg > last_arg), "out of order at pop %u", n);
      last_t = t;
      last_arg = e.arg;
      n++;
    }
  cr_assert_eq (n, 1000);
}
