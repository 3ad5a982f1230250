/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the discrete-event loop: clock, pending events, handler table, random streams.
 *
 * The loop looks at the earliest event without removing it, copies its payload, and calls
 * its handler. If the handler schedules an event, the first one takes the place of the
 * consumed event at the top of the heap in a single sift (afd_event_queue_replace_top);
 * otherwise the consumed event is removed after the handler returns. Both paths give the
 * same (time_ns, sequence) order as pop-then-push, at about half the heap work for the
 * common "handle one, schedule one" pattern. docs/internals/engine.md describes the loop.
 */
#include "config.h"

#include "sim/engine.h"
#include "sim/event-queue.h"

/* One entry of the handler table. */
typedef struct {
  AfdEventHandlerFunc func;
  gpointer user_data;
} Handler;

struct _AfdEngine {
  AfdEventQueue queue;
  AfdTime now_ns;
  guint64 processed;
  guint64 seed;
  gboolean top_consumed; /* the event at heap[0] is being handled and may be overwritten */
  gboolean stop_requested;
  gboolean running;
  GArray *handlers;      /* of Handler */
  GHashTable *rngs;      /* name (owned) -> GRand (owned) */
};

/* 64-bit FNV-1a over the bytes of @name. */
static guint64
fnv1a64 (const char *name)
{
  guint64 h = G_GUINT64_CONSTANT (14695981039346656037);
  for (const guchar *p = (const guchar *) name; *p; p++)
    {
      h ^= *p;
      h *= G_GUINT64_CONSTANT (1099511628211);
    }
  return h;
}

/* One step of splitmix64 (Steele, Lea, Flood 2014): a strong 64-bit finaliser. */
static guint64
splitmix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return x ^ (x >> 31);
}

guint32
afd_rng_seed_for (guint64 seed, const char *name)
{
  g_return_val_if_fail (name != NULL, 0);
  /* The upper half of the mixed value: the better-mixed bits of splitmix64. */
  return (guint32) (splitmix64 (seed ^ fnv1a64 (name)) >> 32);
}

AfdEngine *
afd_engine_new (guint64 seed)
{
  AfdEngine *self = g_new0 (AfdEngine, 1);
  afd_event_queue_init (&self->queue);
  self->seed = seed;
  self->handlers = g_array_new (FALSE, FALSE, sizeof (Handler));
  self->rngs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_rand_free);
  return self;
}

void
afd_engine_free (AfdEngine *self)
{
  if (self == NULL)
    return;
  g_return_if_fail (!self->running);
  afd_event_queue_clear (&self->queue);
  g_array_unref (self->handlers);
  g_hash_table_unref (self->rngs);
  g_free (self);
}

guint32
afd_engine_register (AfdEngine *self, AfdEventHandlerFunc func, gpointer user_data)
{
  g_return_val_if_fail (self != NULL && func != NULL, G_MAXUINT32);
  Handler h = { func, user_data };
  g_array_append_val (self->handlers, h);
  return self->handlers->len - 1;
}

/* Inserts @event at @time_ns (validated by the callers). */
static inline void
schedule_checked (AfdEngine *self, AfdTime time_ns, const AfdEvent *event)
{
  if (self->top_consumed)
    {
      /* The event being handled still sits at the top: take its place in one sift. */
      self->top_consumed = FALSE;
      afd_event_queue_replace_top (&self->queue, time_ns, event);
    }
  else
    afd_event_queue_push (&self->queue, time_ns, event);
}

void
afd_engine_schedule_at (AfdEngine *self, AfdTime time_ns, const AfdEvent *event)
{
  g_return_if_fail (time_ns >= self->now_ns);
  g_return_if_fail (event->handler < self->handlers->len);
  schedule_checked (self, time_ns, event);
}

void
afd_engine_schedule (AfdEngine *self, AfdTime delay_ns, const AfdEvent *event)
{
  g_return_if_fail (delay_ns >= 0 && delay_ns <= AFD_TIME_MAX - self->now_ns);
  g_return_if_fail (event->handler < self->handlers->len);
  schedule_checked (self, self->now_ns + delay_ns, event);
}

AfdTime
afd_engine_now (const AfdEngine *self)
{
  return self->now_ns;
}

guint64
afd_engine_run (AfdEngine *self, AfdTime until_ns, guint64 max_events)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (!self->running, 0);
  guint64 limit = max_events == 0 ? G_MAXUINT64 : max_events;
  guint64 n = 0;
  const Handler *handlers = (const Handler *) (gpointer) self->handlers->data;
  AfdEventQueue *queue = &self->queue;

  self->running = TRUE;
  self->stop_requested = FALSE;
  while (n < limit && queue->len > 0)
    {
      AfdTime time_ns = afd_event_queue_top_time (queue);
      if (time_ns > until_ns)
        break;
      self->now_ns = time_ns;
      /* The handler gets a copy: the top slot may be overwritten by its first schedule. */
      AfdEvent event = *afd_event_queue_top_event (queue);
      const Handler *h = &handlers[event.handler];
      self->top_consumed = TRUE;
      h->func (self, &event, h->user_data);
      if (self->top_consumed)
        {
          self->top_consumed = FALSE;
          afd_event_queue_remove_top (queue);
        }
      n++;
      self->processed++;
      /* Handlers may register more handlers (the array may move). */
      handlers = (const Handler *) (gpointer) self->handlers->data;
      if (G_UNLIKELY (self->stop_requested))
        break;
    }
  self->running = FALSE;
  return n;
}

void
afd_engine_stop (AfdEngine *self)
{
  self->stop_requested = TRUE;
}

gsize
afd_engine_pending (const AfdEngine *self)
{
  /* While a handler runs, its own event still occupies the top slot. */
  return afd_event_queue_len (&self->queue) - (self->top_consumed ? 1 : 0);
}

guint64
afd_engine_processed (const AfdEngine *self)
{
  return self->processed;
}

GRand *
afd_engine_rng (AfdEngine *self, const char *name)
{
  g_return_val_if_fail (self != NULL && name != NULL, NULL);
  GRand *rng = g_hash_table_lookup (self->rngs, name);
  if (rng == NULL)
    {
      rng = g_rand_new_with_seed (afd_rng_seed_for (self->seed, name));
      g_hash_table_insert (self->rngs, g_strdup (name), rng);
    }
  return rng;
}
