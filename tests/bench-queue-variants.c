/* SPDX-License-Identifier: MIT */
/*
 * bench-queue-variants.c - candidate pending-event sets under the PHOLD hold model.
 *
 * Built by `make bench` (tools/bench.sh), never by `make check`; it prints figures and
 * asserts only that every variant pops the same history (a checksum over popped times and
 * targets), since all order by (time_ns, seq). Each variant stores events by value in one
 * pooled array. The workload is the hold model of `afdsim bench engine` (N pending events;
 * pop the earliest, push one at now + Exp(mean 1 µs) + 10 ns at a random entity), with a
 * cheap splitmix64 generator and a precomputed table of 65536 exponential delays, so that
 * the queue's own cost dominates. Results and the choice: docs/internals/engine.md.
 *
 * Usage: bench-queue-variants [EVENTS [NAME-SUBSTRING [PENDING]]]: EVENTS defaults to 5000000;
 * every variant (or those whose name contains NAME-SUBSTRING) runs at 1e3 and 1e5 pending (or
 * PENDING only), median of 3 runs. One variant at one size is what valgrind's cachegrind
 * needs for exact instruction, cache-miss and branch-miss counts (docs/internals/engine.md).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "sim/event-queue.h"

#define N_DELAYS 65536
#define REPS 3

static AfdTime delay_table[N_DELAYS];

typedef struct {
  guint64 state;
} Rng;

static inline guint64
rng_next (Rng *r)
{
  guint64 z = (r->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* One draw: a delay (low 16 bits) and a target (high 32 bits, multiply-shift). */
static inline void
draw (Rng *r, guint32 n, AfdTime *delay_ns, guint32 *target)
{
  guint64 x = rng_next (r);
  *delay_ns = delay_table[x & (N_DELAYS - 1)];
  *target = (guint32) (((x >> 32) * (guint64) n) >> 32);
}

/* CPU seconds of this thread: steadier than wall time on a machine shared with builds. */
static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

typedef struct {
  AfdTime time_ns;
  guint64 seq;
  AfdEvent event;
} Entry;

/* (time, seq) order with short-circuit compares: branches the CPU must predict. */
static inline gboolean
before (const Entry *a, const Entry *b)
{
  return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
}

/* The same order as one 128-bit unsigned compare (time >= 0): cmp/sbb, no branch. */
static inline gboolean
before128 (const Entry *a, const Entry *b)
{
  unsigned __int128 ka = ((unsigned __int128) (guint64) a->time_ns << 64) | a->seq;
  unsigned __int128 kb = ((unsigned __int128) (guint64) b->time_ns << 64) | b->seq;
  return ka < kb;
}

/* ---- d-ary heaps with pop-then-push (d = 2, 4, 8) ---- */

#define DEFINE_DARY(NAME, D, before)                                                                         \
  static inline void NAME##_push (Entry *h, gsize *n, const Entry *e)                       \
  {                                                                                            \
    gsize i = (*n)++;                                                                          \
    while (i > 0 && before (e, &h[(i - 1) / D]))                                               \
      {                                                                                        \
        h[i] = h[(i - 1) / D];                                                                 \
        i = (i - 1) / D;                                                                       \
      }                                                                                        \
    h[i] = *e;                                                                                 \
  }                                                                                            \
  static inline void NAME##_sift (Entry *h, gsize n, const Entry *e)                        \
  {                                                                                            \
    gsize i = 0;                                                                               \
    for (;;)                                                                                   \
      {                                                                                        \
        gsize c = D * i + 1;                                                                   \
        if (c >= n)                                                                            \
          break;                                                                               \
        gsize best = c, end = MIN (c + D, n);                                                  \
        for (gsize j = c + 1; j < end; j++)                                                    \
          if (before (&h[j], &h[best]))                                                        \
            best = j;                                                                          \
        if (!before (&h[best], e))                                                             \
          break;                                                                               \
        h[i] = h[best];                                                                        \
        i = best;                                                                              \
      }                                                                                        \
    h[i] = *e;                                                                                 \
  }                                                                                            \
  static guint64 run_##NAME (guint32 n_pending, guint64 n_events, gboolean fused,             \
                              double *wall_s)                                                  \
  {                                                                                            \
    Entry *h = g_new (Entry, n_pending + 1);                                                   \
    gsize n = 0;                                                                               \
    guint64 seq = 0, sum = 0;                                                                  \
    Rng r = { 42 };                                                                            \
    for (guint32 i = 0; i < n_pending; i++)                                                    \
      {                                                                                        \
        AfdTime d;                                                                             \
        guint32 t;                                                                             \
        draw (&r, n_pending, &d, &t);                                                          \
        Entry e = { d, seq++, { 0, i, 0 } };                                                   \
        NAME##_push (h, &n, &e);                                                            \
      }                                                                                        \
    double t0 = now_s ();                                                                      \
    for (guint64 k = 0; k < n_events; k++)                                                     \
      {                                                                                        \
        Entry top = h[0];                                                                      \
        sum = sum * 31 + (guint64) top.time_ns + top.event.target;                             \
        AfdTime d;                                                                             \
        guint32 t;                                                                             \
        draw (&r, n_pending, &d, &t);                                                          \
        Entry e = { top.time_ns + d, seq++, { 0, t, 0 } };                                     \
        if (fused)                                                                             \
          NAME##_sift (h, n, &e);                                                           \
        else                                                                                   \
          {                                                                                    \
            Entry last = h[--n];                                                               \
            NAME##_sift (h, n, &last);                                                      \
            NAME##_push (h, &n, &e);                                                        \
          }                                                                                    \
      }                                                                                        \
    *wall_s = now_s () - t0;                                                                   \
    g_free (h);                                                                                \
    return sum;                                                                                \
  }

DEFINE_DARY (dary2, 2, before)
DEFINE_DARY (dary4, 4, before)
DEFINE_DARY (dary8, 8, before)
DEFINE_DARY (dary2b, 2, before128)
DEFINE_DARY (dary4b, 4, before128)
DEFINE_DARY (dary8b, 8, before128)

/* ---- 4-ary heap, u128 key, branch-free choice of the smallest child ---- */

static inline void
bf4_sift (Entry *h, gsize n, const Entry *e)
{
  gsize i = 0;
  for (;;)
    {
      gsize c = 4 * i + 1;
      if (c >= n)
        break;
      gsize best;
      if (G_LIKELY (c + 3 < n))
        {
          /* Booleans as integers: the compiler emits setb/cmov, not branches. */
          gsize b01 = c + (gsize) before128 (&h[c + 1], &h[c]);
          gsize b23 = c + 2 + (gsize) before128 (&h[c + 3], &h[c + 2]);
          gsize pick = (gsize) before128 (&h[b23], &h[b01]);
          best = b01 + pick * (b23 - b01);
        }
      else
        {
          best = c;
          for (gsize j = c + 1; j < n; j++)
            if (before128 (&h[j], &h[best]))
              best = j;
        }
      if (!before128 (&h[best], e))
        break;
      h[i] = h[best];
      i = best;
    }
  h[i] = *e;
}

static guint64
run_bf4 (guint32 n_pending, guint64 n_events, gboolean fused, double *wall_s)
{
  Entry *h = g_new (Entry, n_pending + 1);
  gsize n = 0;
  guint64 seq = 0, sum = 0;
  Rng r = { 42 };
  for (guint32 i = 0; i < n_pending; i++)
    {
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      Entry e = { d, seq++, { 0, i, 0 } };
      dary4b_push (h, &n, &e);
    }
  double t0 = now_s ();
  for (guint64 k = 0; k < n_events; k++)
    {
      Entry top = h[0];
      sum = sum * 31 + (guint64) top.time_ns + top.event.target;
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      Entry e = { top.time_ns + d, seq++, { 0, t, 0 } };
      if (fused)
        bf4_sift (h, n, &e);
      else
        {
          Entry last = h[--n];
          bf4_sift (h, n, &last);
          dary4b_push (h, &n, &e);
        }
    }
  *wall_s = now_s () - t0;
  g_free (h);
  return sum;
}

/* ---- the engine's queue (sim/event-queue.h): 4-ary heap of 16-byte keys + payload pool ---- */

static guint64
run_engine_queue (guint32 n_pending, guint64 n_events, gboolean fused, double *wall_s)
{
  AfdEventQueue q;
  afd_event_queue_init (&q);
  Rng r = { 42 };
  guint64 sum = 0;
  for (guint32 i = 0; i < n_pending; i++)
    {
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      AfdEvent e = { 0, i, 0 };
      afd_event_queue_push (&q, d, &e);
    }
  double t0 = now_s ();
  for (guint64 k = 0; k < n_events; k++)
    {
      AfdTime now = afd_event_queue_top_time (&q);
      sum = sum * 31 + (guint64) now + afd_event_queue_top_event (&q)->target;
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      AfdEvent e = { 0, t, 0 };
      if (fused)
        afd_event_queue_replace_top (&q, now + d, &e);
      else
        {
          afd_event_queue_remove_top (&q);
          afd_event_queue_push (&q, now + d, &e);
        }
    }
  *wall_s = now_s () - t0;
  afd_event_queue_clear (&q);
  return sum;
}

/* ---- pairing heap: nodes by value in a pool, linked by index ---- */

typedef struct {
  Entry e;
  guint32 child;
  guint32 sibling;
} PNode;

#define PNONE G_MAXUINT32

typedef struct {
  PNode *nodes;
  guint32 *free_list;
  guint32 n_free;
  guint32 root;
  guint32 *scratch;
} Pairing;

static inline guint32
p_meld (PNode *nd, guint32 a, guint32 b)
{
  if (a == PNONE)
    return b;
  if (b == PNONE)
    return a;
  if (before (&nd[b].e, &nd[a].e))
    {
      guint32 t = a;
      a = b;
      b = t;
    }
  nd[b].sibling = nd[a].child;
  nd[a].child = b;
  return a;
}

static inline void
p_push (Pairing *p, const Entry *e)
{
  guint32 i = p->free_list[--p->n_free];
  p->nodes[i].e = *e;
  p->nodes[i].child = PNONE;
  p->nodes[i].sibling = PNONE;
  p->root = p_meld (p->nodes, p->root, i);
}

static inline void
p_pop (Pairing *p)
{
  PNode *nd = p->nodes;
  guint32 old = p->root;
  guint32 c = nd[old].child;
  p->free_list[p->n_free++] = old;
  /* Two-pass pairing: meld pairs left to right, then fold right to left. */
  guint32 m = 0;
  while (c != PNONE)
    {
      guint32 a = c, b = nd[a].sibling;
      if (b == PNONE)
        {
          nd[a].sibling = PNONE;
          p->scratch[m++] = a;
          break;
        }
      c = nd[b].sibling;
      nd[a].sibling = PNONE;
      nd[b].sibling = PNONE;
      p->scratch[m++] = p_meld (nd, a, b);
    }
  guint32 r = PNONE;
  while (m > 0)
    r = p_meld (nd, r, p->scratch[--m]);
  p->root = r;
}

static guint64
run_pairing (guint32 n_pending, guint64 n_events, gboolean fused, double *wall_s)
{
  (void) fused; /* a pairing heap has no cheaper fused operation */
  Pairing p = { g_new (PNode, n_pending + 1), g_new (guint32, n_pending + 1), 0, PNONE,
                g_new (guint32, n_pending + 1) };
  for (guint32 i = 0; i <= n_pending; i++)
    p.free_list[p.n_free++] = n_pending - i;
  Rng r = { 42 };
  guint64 seq = 0, sum = 0;
  for (guint32 i = 0; i < n_pending; i++)
    {
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      Entry e = { d, seq++, { 0, i, 0 } };
      p_push (&p, &e);
    }
  double t0 = now_s ();
  for (guint64 k = 0; k < n_events; k++)
    {
      Entry top = p.nodes[p.root].e;
      sum = sum * 31 + (guint64) top.time_ns + top.event.target;
      AfdTime d;
      guint32 t;
      draw (&r, n_pending, &d, &t);
      Entry e = { top.time_ns + d, seq++, { 0, t, 0 } };
      p_pop (&p);
      p_push (&p, &e);
    }
  *wall_s = now_s () - t0;
  g_free (p.nodes);
  g_free (p.free_list);
  g_free (p.scratch);
  return sum;
}

typedef guint64 (*RunFunc) (guint32 n_pending, guint64 n_events, gboolean fused, double *wall_s);

typedef struct {
  const char *name;
  RunFunc run;
  gboolean fused;
} Variant;

static const Variant variants[] = {
  { "binary heap, pop+push", run_dary2, FALSE },
  { "4-ary heap, pop+push", run_dary4, FALSE },
  { "8-ary heap, pop+push", run_dary8, FALSE },
  { "pairing heap (pool), pop+push", run_pairing, FALSE },
  { "binary heap, replace-top", run_dary2, TRUE },
  { "4-ary heap, replace-top", run_dary4, TRUE },
  { "8-ary heap, replace-top", run_dary8, TRUE },
  { "binary heap, u128 key, replace-top", run_dary2b, TRUE },
  { "4-ary heap, u128 key, pop+push", run_dary4b, FALSE },
  { "4-ary heap, u128 key, replace-top", run_dary4b, TRUE },
  { "8-ary heap, u128 key, replace-top", run_dary8b, TRUE },
  { "4-ary heap, u128 key, branch-free, pop+push", run_bf4, FALSE },
  { "4-ary heap, u128 key, branch-free, replace-top", run_bf4, TRUE },
  { "engine queue (16-byte keys + pool), pop+push", run_engine_queue, FALSE },
  { "engine queue (16-byte keys + pool), replace-top", run_engine_queue, TRUE },
};

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  guint64 n_events = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 5000000;
  const char *only = argc > 2 ? argv[2] : NULL; /* run only variants whose name has this */
  guint32 one_size = argc > 3 ? (guint32) g_ascii_strtoull (argv[3], NULL, 10) : 0;
  if (n_events == 0)
    {
      fprintf (stderr, "usage: %s [EVENTS]\n", argv[0]);
      return 2;
    }
  Rng r = { 7 };
  for (guint i = 0; i < N_DELAYS; i++)
    {
      double u = (double) (rng_next (&r) >> 11) * 0x1.0p-53;
      delay_table[i] = (AfdTime) (-1000.0 * log (1.0 - u) + 0.5) + 10;
    }
  guint32 sizes[] = { 1000, 100000 };
  guint n_sizes = G_N_ELEMENTS (sizes);
  if (one_size > 0)
    {
      sizes[0] = one_size;
      n_sizes = 1;
    }
  printf ("pending-event set variants, PHOLD hold model, %" G_GUINT64_FORMAT
          " events, median of %d runs\n",
          n_events, REPS);
  printf ("%-44s %9s %14s %14s\n", "variant", "pending", "ns_per_event", "events_per_s");
  int status = 0;
  for (guint s = 0; s < n_sizes; s++)
    {
      guint64 reference = 0;
      gboolean have_reference = FALSE;
      for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
        {
          if (only != NULL && strstr (variants[v].name, only) == NULL)
            continue;
          double walls[REPS];
          guint64 sum = 0;
          for (int k = 0; k < REPS; k++)
            sum = variants[v].run (sizes[s], n_events, variants[v].fused, &walls[k]);
          qsort (walls, REPS, sizeof (double), cmp_double);
          double med = walls[REPS / 2];
          if (!have_reference)
            {
              reference = sum;
              have_reference = TRUE;
            }
          const char *check = sum == reference ? "" : "  CHECKSUM MISMATCH";
          if (sum != reference)
            status = 1;
          printf ("%-44s %9u %14.1f %14.3e%s\n", variants[v].name, sizes[s],
                  med * 1e9 / (double) n_events, (double) n_events / med, check);
        }
    }
  return status;
}
