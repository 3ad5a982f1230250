/* SPDX-License-Identifier: MIT */
/*
 * cmd-bench-engine.c - `afdsim bench engine`: the PHOLD benchmark of the event engine.
 *
 * PHOLD (Fujimoto 1990): N entities, N initial events; handling an event at an entity bumps
 * that entity's counter and schedules one new event at now + Exp(mean 1 µs) + 10 ns (rounded
 * to the nearest nanosecond) at a uniformly random entity, so N events stay pending. Each
 * event makes two 32-bit draws from the seeded GRand stream "phold" (delay, then entity). The
 * same workload, with the same GRand calls in the same order, also runs on a bare
 * hand-written 4-ary heap loop (no engine, no handler table, no function calls); the two
 * take turns in slices of 1e5 events so that both see the same machine load. Both must end
 * at the same simulated time with the same counters, which the command checks. It
 * prints wall time, events per second and the engine/bare ratio (docs/performance.md).
 * Wall-clock figures are printed, never asserted.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/json.h"

#define PHOLD_MEAN_DELAY_NS 1000.0  /* mean of the exponential part, 1 µs */
#define PHOLD_MIN_DELAY_NS 10       /* lookahead added to every delay */
#define DEFAULT_PENDING 100000
#define DEFAULT_EVENTS 10000000
#define MAX_PENDING 100000000       /* 3.2 GB of heap entries */
#define SLICE_EVENTS 100000 /* events per turn of each loop */
#define QUEUE_NAME "4-ary heap of 16-byte keys + payload pool, replace-top"

/* One exponential delay, mean 1 µs, plus 10 ns, rounded to integer nanoseconds. One 32-bit
 * draw: u = (k + 0.5) / 2^32 lies in (0, 1), so the log is finite, and its resolution
 * (2^-32) is far below a nanosecond of delay. */
static inline AfdTime
draw_delay_ns (GRand *rng)
{
  double u = ((double) g_rand_int (rng) + 0.5) * (1.0 / 4294967296.0);
  return (AfdTime) (-PHOLD_MEAN_DELAY_NS * log (u) + 0.5) + PHOLD_MIN_DELAY_NS;
}

/* A uniform entity in [0, n): one 32-bit draw scaled by multiply-shift (no division; the
 * bias is below n / 2^32). */
static inline guint32
draw_entity (GRand *rng, guint32 n)
{
  return (guint32) (((guint64) g_rand_int (rng) * n) >> 32);
}

/* Seconds of a monotonic clock. */
static double
wall_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* CPU seconds of this thread (excludes time other processes had the core). */
static double
cpu_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* The PHOLD model as engine handlers see it. */
typedef struct {
  GRand *rng;
  guint64 *counts; /* events handled per entity */
  guint32 n_entities;
  guint32 handler;
} Phold;

/* Engine handler: one PHOLD event. */
static void
phold_event (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  Phold *p = user_data;
  p->counts[event->target]++;
  AfdTime delay_ns = draw_delay_ns (p->rng);
  AfdEvent next = { p->handler, draw_entity (p->rng, p->n_entities), 0 };
  afd_engine_schedule (engine, delay_ns, &next);
}

/* PHOLD on the engine, resumable. */
typedef struct {
  AfdEngine *engine;
  Phold phold;
} EngineRun;

/* Sets up the engine and the N initial events. */
static void
engine_run_init (EngineRun *run, guint64 seed, guint32 n_entities, guint64 *counts)
{
  run->engine = afd_engine_new (seed);
  run->phold = (Phold){ afd_engine_rng (run->engine, "phold"), counts, n_entities, 0 };
  run->phold.handler = afd_engine_register (run->engine, phold_event, &run->phold);
  for (guint32 i = 0; i < n_entities; i++)
    {
      AfdEvent ev = { run->phold.handler, i, 0 };
      afd_engine_schedule_at (run->engine, draw_delay_ns (run->phold.rng), &ev);
    }
}

/* Processes the next @n_events events. */
static void
engine_run_events (EngineRun *run, guint64 n_events)
{
  guint64 done = afd_engine_run (run->engine, AFD_TIME_MAX, n_events);
  g_assert (done == n_events);
}

/* The bare loop's heap entry: key (time, seq) and the target entity. */
typedef struct {
  AfdTime time_ns;
  guint64 seq;
  guint32 target;
} BareEntry;

/* (time, seq) order as one unsigned 128-bit compare (times are >= 0). */
static inline gsize
bare_before (const BareEntry *a, const BareEntry *b)
{
#ifdef __SIZEOF_INT128__
  return ((unsigned __int128) (guint64) a->time_ns << 64 | a->seq)
         < ((unsigned __int128) (guint64) b->time_ns << 64 | b->seq);
#else
  return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
#endif
}

/* PHOLD on a hand-written 4-ary heap, resumable. */
typedef struct {
  GRand *rng;
  BareEntry *heap;
  gsize n;
  guint64 seq;
  AfdTime now_ns;
  guint32 n_entities;
  guint64 *counts;
} BareRun;

/* Sets up the heap and the N initial events, with the same draws as engine_run_init(). */
static void
bare_run_init (BareRun *run, guint64 seed, guint32 n_entities, guint64 *counts)
{
  *run = (BareRun){ g_rand_new_with_seed (afd_rng_seed_for (seed, "phold")),
                    g_new (BareEntry, (gsize) n_entities), 0, 0, 0, n_entities, counts };
  BareEntry *heap = run->heap;
  for (guint32 k = 0; k < n_entities; k++)
    {
      BareEntry e = { draw_delay_ns (run->rng), run->seq++, k };
      gsize i = run->n++;
      while (i > 0 && bare_before (&e, &heap[(i - 1) / 4]))
        {
          heap[i] = heap[(i - 1) / 4];
          i = (i - 1) / 4;
        }
      heap[i] = e;
    }
}

/* Processes the next @n_events events: the best loop we know how to write by hand
 * (everything inline, branch-free child choice, the handled event's slot refilled by the
 * new event in one sift from the root), so the ratio measures only what the engine adds. */
static void
bare_run_events (BareRun *run, guint64 n_events)
{
  BareEntry *heap = run->heap;
  const gsize n = run->n;
  GRand *rng = run->rng;
  guint64 seq = run->seq;
  AfdTime now = run->now_ns;
  for (guint64 k = 0; k < n_events; k++)
    {
      /* Handle the earliest event exactly as the engine's handler does. */
      now = heap[0].time_ns;
      run->counts[heap[0].target]++;
      AfdTime delay_ns = draw_delay_ns (rng);
      BareEntry e = { now + delay_ns, seq++, draw_entity (rng, run->n_entities) };
      /* Put the new event in the root's place and sift it down. */
      gsize i = 0;
      for (;;)
        {
          gsize c = 4 * i + 1;
          if (c >= n)
            break;
          gsize best = c;
          if (c + 3 < n)
            {
              gsize b01 = c + bare_before (&heap[c + 1], &heap[c]);
              gsize b23 = c + 2 + bare_before (&heap[c + 3], &heap[c + 2]);
              gsize mask = (gsize) 0 - bare_before (&heap[b23], &heap[b01]);
              best = b01 ^ ((b01 ^ b23) & mask);
            }
          else
            for (gsize j = c + 1; j < n; j++)
              if (bare_before (&heap[j], &heap[best]))
                best = j;
          if (!bare_before (&heap[best], &e))
            break;
          heap[i] = heap[best];
          i = best;
        }
      heap[i] = e;
    }
  run->seq = seq;
  run->now_ns = now;
}

/* Runs `afdsim bench engine`. */
static int
cmd_bench_engine (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                  GError **error)
{
  g_autofree char *pending_text = NULL;
  g_autofree char *events_text = NULL;
  g_autofree char *seed_text = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "pending", 0, 0, G_OPTION_ARG_STRING, &pending_text,
      "PHOLD entities = pending events (default 100000)", "N" },
    { "events", 0, 0, G_OPTION_ARG_STRING, &events_text,
      "events to process (default 10000000)", "M" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "run seed (default 1)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print one JSON object", NULL },
    { NULL },
  };
  static const char summary[]
      = "PHOLD benchmark of the event engine: N pending events, each event schedules one at\n"
        "now + Exp(mean 1 us) + 10 ns at a random entity, until M events. The same workload\n"
        "also runs on a bare hand-written 4-ary heap loop; the ratio is printed.";
  if (!afd_cli_parse_command (&afd_command_bench_engine, summary, entries, &argc, &argv, error))
    return 2;
  gint64 pending = DEFAULT_PENDING, events = DEFAULT_EVENTS, seed = 1;
  if (!afd_cli_parse_int ("--pending", pending_text, 1, MAX_PENDING, &pending, error)
      || !afd_cli_parse_int ("--events", events_text, 1, G_GINT64_CONSTANT (1000000000000),
                             &events, error)
      || !afd_cli_parse_int ("--seed", seed_text, 0, G_MAXINT64, &seed, error))
    return 2;

  g_autofree guint64 *counts_engine = g_new0 (guint64, (gsize) pending);
  g_autofree guint64 *counts_bare = g_new0 (guint64, (gsize) pending);
  EngineRun er;
  BareRun br;
  engine_run_init (&er, (guint64) seed, (guint32) pending, counts_engine);
  bare_run_init (&br, (guint64) seed, (guint32) pending, counts_bare);
  /* The two loops take turns in slices, the first one alternating, so that load from other
   * processes on a shared machine falls on both alike and the ratio stays meaningful. */
  double wall_s = 0, bare_s = 0, cpu_s = 0, bare_cpu_s = 0;
  guint64 done = 0;
  for (guint slice = 0; done < (guint64) events; slice++)
    {
      guint64 k = MIN ((guint64) SLICE_EVENTS, (guint64) events - done);
      for (guint turn = 0; turn < 2; turn++)
        {
          double t0 = wall_now_s (), c0 = cpu_now_s ();
          if ((turn + slice) % 2 == 0)
            {
              engine_run_events (&er, k);
              wall_s += wall_now_s () - t0;
              cpu_s += cpu_now_s () - c0;
            }
          else
            {
              bare_run_events (&br, k);
              bare_s += wall_now_s () - t0;
              bare_cpu_s += cpu_now_s () - c0;
            }
        }
      done += k;
    }
  AfdTime end_engine = afd_engine_now (er.engine);
  /* Same (time, seq) order and the same draws: both runs must be the same history. */
  g_assert (br.now_ns == end_engine);
  g_assert (memcmp (counts_bare, counts_engine, (gsize) pending * sizeof (guint64)) == 0);
  afd_engine_free (er.engine);
  g_rand_free (br.rng);
  g_free (br.heap);

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double peak_rss_bytes = (double) ru.ru_maxrss * 1024.0;
  double n_ev = (double) events;
  double ratio = bare_s > 0 ? wall_s / bare_s : 0;

  if (json)
    {
      g_autoptr (cJSON) o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "pending", (double) pending);
      cJSON_AddNumberToObject (o, "events", n_ev);
      cJSON_AddNumberToObject (o, "wall_s", wall_s);
      cJSON_AddNumberToObject (o, "events_per_s", n_ev / wall_s);
      cJSON_AddNumberToObject (o, "ns_per_event", wall_s * 1e9 / n_ev);
      cJSON_AddNumberToObject (o, "peak_rss_bytes", peak_rss_bytes);
      cJSON_AddNumberToObject (o, "bare_wall_s", bare_s);
      cJSON_AddNumberToObject (o, "bare_events_per_s", n_ev / bare_s);
      cJSON_AddNumberToObject (o, "engine_over_bare", ratio);
      cJSON_AddNumberToObject (o, "cpu_s", cpu_s);
      cJSON_AddNumberToObject (o, "bare_cpu_s", bare_cpu_s);
      cJSON_AddNumberToObject (o, "engine_over_bare_cpu", bare_cpu_s > 0 ? cpu_s / bare_cpu_s : 0);
      cJSON_AddStringToObject (o, "queue", QUEUE_NAME);
      cJSON_AddNumberToObject (o, "seed", (double) seed);
      cJSON_AddNumberToObject (o, "sim_end_ns", (double) end_engine);
      char *text = cJSON_Print (o);
      printf ("%s\n", text);
      cJSON_free (text);
      return 0;
    }
  printf ("PHOLD: %" G_GINT64_FORMAT " pending, %" G_GINT64_FORMAT " events, seed %" G_GINT64_FORMAT
          " (queue: %s)\n",
          pending, events, seed, QUEUE_NAME);
  printf ("  engine           %8.3f s  %7.2f M events/s  %6.1f ns/event\n", wall_s,
          n_ev / wall_s / 1e6, wall_s * 1e9 / n_ev);
  printf ("  bare 4-ary heap  %8.3f s  %7.2f M events/s  %6.1f ns/event\n", bare_s,
          n_ev / bare_s / 1e6, bare_s * 1e9 / n_ev);
  printf ("  engine / bare wall time: %.3f (goal: <= 1.25); CPU time: %.3f\n", ratio,
          bare_cpu_s > 0 ? cpu_s / bare_cpu_s : 0);
  printf ("  simulated end: %.6f s; peak RSS %.1f MiB\n", afd_time_to_seconds (end_engine),
          peak_rss_bytes / 1048576.0);
  return 0;
}

const AfdCommand afd_command_bench_engine = {
  "bench engine", "PHOLD benchmark of the event engine vs a bare 4-ary heap loop",
  cmd_bench_engine, NULL, 0
};
