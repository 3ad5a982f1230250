/* SPDX-License-Identifier: MIT */
/* Tests for sim/engine.c: dispatch, order, limits, deterministic replay, random streams. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/engine.h"
#include "tests/test-helpers.h"

/* What a test handler records: the (time, target, arg) of every event it saw. */
typedef struct {
  GArray *log; /* of Seen */
  guint32 handler;
  guint n_entities;
  GRand *rng;
  guint64 stop_after;
} Recorder;

typedef struct {
  AfdTime time_ns;
  guint32 target;
  guint64 arg;
} Seen;

static void
record (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  Recorder *r = user_data;
  Seen s = { afd_engine_now (engine), event->target, event->arg };
  g_array_append_val (r->log, s);
  if (r->stop_after != 0 && r->log->len == r->stop_after)
    afd_engine_stop (engine);
}

/* Handlers are called through the table with their own user data, at the event's time. */
Test (engine, dispatches_through_table)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  Recorder a = { .log = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  Recorder b = { .log = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  guint32 ha = afd_engine_register (engine, record, &a);
  guint32 hb = afd_engine_register (engine, record, &b);
  cr_assert_neq (ha, hb);
  AfdEvent e1 = { ha, 1, 10 }, e2 = { hb, 2, 20 }, e3 = { ha, 3, 30 };
  afd_engine_schedule_at (engine, 300, &e3);
  afd_engine_schedule_at (engine, 100, &e1);
  afd_engine_schedule (engine, 200, &e2);
  cr_assert_eq (afd_engine_pending (engine), 3);
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, 0), 3);
  cr_assert_eq (a.log->len, 2);
  cr_assert_eq (b.log->len, 1);
  cr_assert_eq (g_array_index (a.log, Seen, 0).time_ns, 100);
  cr_assert_eq (g_array_index (a.log, Seen, 1).time_ns, 300);
  cr_assert_eq (g_array_index (b.log, Seen, 0).arg, 20);
  cr_assert_eq (afd_engine_now (engine), 300);
  cr_assert_eq (afd_engine_processed (engine), 3);
  cr_assert_eq (afd_engine_pending (engine), 0);
  g_array_unref (a.log);
  g_array_unref (b.log);
}

/* Chains one event per event (so the loop's replace-top path runs) for @n steps. */
static void
chain (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  Recorder *r = user_data;
  record (engine, event, user_data);
  if (event->arg > 0)
    {
      /* Two children at the same instant: the first replaces the top, the second is pushed. */
      AfdEvent a = { r->handler, event->target, event->arg - 1 };
      AfdEvent b = { r->handler, event->target + 1000, 0 };
      afd_engine_schedule (engine, 5, &a);
      afd_engine_schedule (engine, 5, &b);
    }
}

/* Events scheduled for the same instant run in scheduling order, also from inside handlers. */
Test (engine, same_time_runs_in_schedule_order)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  Recorder r = { .log = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  r.handler = afd_engine_register (engine, chain, &r);
  for (guint32 t = 0; t < 4; t++)
    {
      AfdEvent e = { r.handler, t, 3 };
      afd_engine_schedule_at (engine, 0, &e);
    }
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  /* At t=0: targets 0,1,2,3 in order. At t=5: for each, (arg 2) then its (arg 0) sibling. */
  const guint32 want_t0[] = { 0, 1, 2, 3 };
  for (guint i = 0; i < 4; i++)
    cr_assert_eq (g_array_index (r.log, Seen, i).target, want_t0[i]);
  const guint32 want_t5[] = { 0, 1000, 1, 1001, 2, 1002, 3, 1003 };
  for (guint i = 0; i < 8; i++)
    {
      const Seen *s = &g_array_index (r.log, Seen, 4 + i);
      cr_assert_eq (s->time_ns, 5);
      cr_assert_eq (s->target, want_t5[i], "position %u", i);
    }
  for (guint i = 1; i < r.log->len; i++)
    cr_assert_geq (g_array_index (r.log, Seen, i).time_ns,
                   g_array_index (r.log, Seen, i - 1).time_ns);
  g_array_unref (r.log);
}

/* run() stops before events later than until_ns, after max_events, or on afd_engine_stop(). */
Test (engine, run_limits)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  Recorder r = { .log = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  r.handler = afd_engine_register (engine, record, &r);
  for (AfdTime t = 10; t <= 100; t += 10)
    {
      AfdEvent e = { r.handler, 0, (guint64) t };
      afd_engine_schedule_at (engine, t, &e);
    }
  cr_assert_eq (afd_engine_run (engine, 35, 0), 3);
  cr_assert_eq (afd_engine_now (engine), 30);
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, 2), 2);
  cr_assert_eq (afd_engine_now (engine), 50);
  r.stop_after = 7;
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, 0), 2);
  cr_assert_eq (afd_engine_now (engine), 70);
  cr_assert_eq (afd_engine_pending (engine), 3);
  cr_assert_eq (afd_engine_processed (engine), 7);
  g_array_unref (r.log);
}

/* A PHOLD-like model: each event schedules one at a random delay to a random entity. */
static void
hop (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  Recorder *r = user_data;
  record (engine, event, user_data);
  AfdEvent next = { r->handler, (guint32) g_rand_int_range (r->rng, 0, (gint32) r->n_entities),
                    event->arg + 1 };
  afd_engine_schedule (engine, g_rand_int_range (r->rng, 0, 20), &next);
}

/* Runs the PHOLD-like model for @events events with @seed; returns its event log. */
static GArray *
run_hops (guint64 seed, guint64 events)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (seed);
  Recorder r = { .log = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  r.n_entities = 50;
  r.rng = afd_engine_rng (engine, "phold");
  r.handler = afd_engine_register (engine, hop, &r);
  for (guint32 i = 0; i < r.n_entities; i++)
    {
      AfdEvent e = { r.handler, i, 0 };
      afd_engine_schedule_at (engine, g_rand_int_range (r.rng, 0, 100), &e);
    }
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, events), events);
  return r.log;
}

/* Two engines with the same seed produce identical event logs; another seed differs. */
Test (engine, deterministic_replay)
{
  g_autoptr (GArray) a = run_hops (2024, 20000);
  g_autoptr (GArray) b = run_hops (2024, 20000);
  g_autoptr (GArray) c = run_hops (2025, 20000);
  cr_assert_eq (a->len, b->len);
  cr_assert_eq (a->len, c->len);
  guint differ = 0;
  for (guint i = 0; i < a->len; i++)
    {
      const Seen *x = &g_array_index (a, Seen, i), *y = &g_array_index (b, Seen, i);
      const Seen *z = &g_array_index (c, Seen, i);
      cr_assert (x->time_ns == y->time_ns && x->target == y->target && x->arg == y->arg,
                 "same seed diverged at event %u", i);
      differ += x->time_ns != z->time_ns || x->target != z->target;
    }
  cr_assert_gt (differ, a->len / 2, "another seed should give another history");
}

/* A stream's values depend only on (seed, name), not on which other streams exist. */
Test (engine, rng_streams_independent)
{
  g_autoptr (AfdEngine) e1 = afd_engine_new (99);
  g_autoptr (AfdEngine) e2 = afd_engine_new (99);
  GRand *a1 = afd_engine_rng (e1, "routing");
  /* e2 creates and draws from other streams first. */
  GRand *x = afd_engine_rng (e2, "phold");
  GRand *y = afd_engine_rng (e2, "faults");
  for (int i = 0; i < 100; i++)
    (void) g_rand_int (x), (void) g_rand_int (y);
  GRand *a2 = afd_engine_rng (e2, "routing");
  cr_assert_eq (afd_engine_rng (e1, "routing"), a1, "the same name returns the same stream");
  for (int i = 0; i < 1000; i++)
    cr_assert_eq (g_rand_int (a1), g_rand_int (a2));
  /* Different names and different seeds give different stream seeds. */
  cr_assert_neq (afd_rng_seed_for (99, "routing"), afd_rng_seed_for (99, "phold"));
  cr_assert_neq (afd_rng_seed_for (99, "routing"), afd_rng_seed_for (100, "routing"));
  cr_assert_eq (afd_rng_seed_for (99, "routing"), afd_rng_seed_for (99, "routing"));
}

/* The seed derivation is splitmix64(seed ^ FNV-1a-64(name)), upper 32 bits (worked value). */
Test (engine, rng_seed_derivation_worked_example)
{
  /* FNV-1a-64("") is the offset basis 0xcbf29ce484222325; seed 0 leaves it unchanged. */
  guint64 x = G_GUINT64_CONSTANT (0xcbf29ce484222325) + G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  x ^= x >> 31;
  cr_assert_eq (afd_rng_seed_for (0, ""), (guint32) (x >> 32));
  /* "a": one FNV-1a step from the basis. */
  guint64 h = (G_GUINT64_CONSTANT (0xcbf29ce484222325) ^ 'a') * G_GUINT64_CONSTANT (1099511628211);
  cr_assert_eq (h, G_GUINT64_CONSTANT (0xaf63dc4c8601ec8c)); /* published FNV-1a test vector */
  guint64 y = (G_GUINT64_CONSTANT (7) ^ h) + G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  y = (y ^ (y >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  y = (y ^ (y >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  y ^= y >> 31;
  cr_assert_eq (afd_rng_seed_for (7, "a"), (guint32) (y >> 32));
}

/* Records afd_engine_pending() as seen from inside a handler, before and after scheduling. */
static void
count_pending (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  gsize *seen = user_data;
  seen[0] = afd_engine_pending (engine);
  if (event->arg > 0)
    {
      AfdEvent next = { event->handler, 0, event->arg - 1 };
      afd_engine_schedule (engine, 1, &next);
      seen[1] = afd_engine_pending (engine);
    }
}

/* While a handler runs, its own event is no longer pending, whichever path the loop takes. */
Test (engine, pending_excludes_running_event)
{
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  gsize seen[2] = { 99, 99 };
  guint32 h = afd_engine_register (engine, count_pending, seen);
  AfdEvent a = { h, 0, 1 }, b = { h, 0, 0 };
  afd_engine_schedule_at (engine, 10, &a);
  afd_engine_schedule_at (engine, 20, &b);
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, 1), 1);
  cr_assert_eq (seen[0], 1, "only b is pending while a runs");
  cr_assert_eq (seen[1], 2, "b and a's child after the schedule");
  cr_assert_eq (afd_engine_pending (engine), 2);
  cr_assert_eq (afd_engine_run (engine, AFD_TIME_MAX, 0), 2);
  cr_assert_eq (seen[0], 0);
  cr_assert_eq (afd_engine_pending (engine), 0);
  cr_assert_eq (afd_engine_now (engine), 20);
}
