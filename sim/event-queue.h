/* SPDX-License-Identifier: MIT */
/*
 * event-queue.h - the engine's pending-event set: a 4-ary min-heap of events by value.
 *
 * Entries are ordered by (time_ns, sequence); the sequence number is assigned by the queue
 * at push time, so events pushed for the same instant come out in push order. Entries
 * (32 bytes: time, sequence, a 16-byte AfdEvent) live by value in one growable array that is
 * aligned so that the four children of a node share two cache lines; nothing is allocated per
 * event. The hot operations are static inline so the engine's loop compiles into one
 * function; besides push and pop there is replace_top (pop the minimum and push a new event
 * with a single sift), which is what a discrete-event loop does most of the time.
 * docs/internals/engine.md gives the measurements behind this choice
 * (tests/bench-queue-variants.c). The queue never frees anything payloads point to.
 *
 * This header is internal to sim/: models use sim/engine.h.
 */
#ifndef AFD_SIM_EVENT_QUEUE_H
#define AFD_SIM_EVENT_QUEUE_H

#include <glib.h>

#include "sim/engine.h"
#include "sim/types.h"

G_BEGIN_DECLS

/* One pending event: its key (time_ns, seq) and its payload, 32 bytes. */
typedef struct {
  AfdTime time_ns; /* absolute simulated time, nanoseconds */
  guint64 seq;     /* push order; breaks ties between equal times */
  AfdEvent event;  /* payload, by value */
} AfdQueueEntry;

/* The heap. Embed it by value (afd_event_queue_init/clear) or use new/free. */
typedef struct _AfdEventQueue {
  AfdQueueEntry *heap; /* heap[0] is the minimum; children of i are 4i+1 … 4i+4 */
  gsize len;           /* entries in use */
  gsize capacity;      /* entries allocated */
  guint64 next_seq;    /* sequence number of the next push */
  gpointer block;      /* the allocation heap points into (for alignment) */
} AfdEventQueue;

/**
 * afd_event_queue_init:
 * @self: (out caller-allocates): storage for an empty queue
 *
 * Initialises an embedded queue; release it with afd_event_queue_clear().
 */
void afd_event_queue_init (AfdEventQueue *self);

/* Frees the storage of an embedded queue (not @self itself). */
void afd_event_queue_clear (AfdEventQueue *self);

/**
 * afd_event_queue_new:
 *
 * Returns: (transfer full): an empty queue; free with afd_event_queue_free()
 */
AfdEventQueue *afd_event_queue_new (void);

void afd_event_queue_free (AfdEventQueue *self);

/* Doubles the capacity (slow path of push; internal). */
G_GNUC_INTERNAL void afd_event_queue_grow (AfdEventQueue *self);

/* Returns: TRUE if entry @a comes before entry @b in (time_ns, seq) order. Times are >= 0,
 * so the pair is one unsigned 128-bit number: one compare, no branch to mispredict. */
static inline gboolean
afd_event_queue_before (const AfdQueueEntry *a, const AfdQueueEntry *b)
{
#ifdef __SIZEOF_INT128__
  unsigned __int128 ka = ((unsigned __int128) (guint64) a->time_ns << 64) | a->seq;
  unsigned __int128 kb = ((unsigned __int128) (guint64) b->time_ns << 64) | b->seq;
  return ka < kb;
#else
  return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
#endif
}

/* Moves @entry down from the hole at @i to its place; the heap holds @n entries. */
static inline void
afd_event_queue_sift_down (AfdQueueEntry *heap, gsize n, gsize i, const AfdQueueEntry *entry_in)
{
  /* A private copy: the compiler then knows the stores into heap[] cannot change it. */
  const AfdQueueEntry e = *entry_in;
  const AfdQueueEntry *entry = &e;
  for (;;)
    {
      gsize c = 4 * i + 1;
      if (c >= n)
        break;
      gsize best = c;
      if (G_LIKELY (c + 3 < n))
        {
          /* Full family: a tournament of independent compares whose results are used as
           * integers, so the compiler emits setb/cmov instead of unpredictable branches. */
          gsize b01 = c + (gsize) afd_event_queue_before (&heap[c + 1], &heap[c]);
          gsize b23 = c + 2 + (gsize) afd_event_queue_before (&heap[c + 3], &heap[c + 2]);
          gsize pick = (gsize) afd_event_queue_before (&heap[b23], &heap[b01]);
          best = b01 + pick * (b23 - b01);
        }
      else
        {
          for (gsize k = c + 1; k < n; k++)
            if (afd_event_queue_before (&heap[k], &heap[best]))
              best = k;
        }
      if (!afd_event_queue_before (&heap[best], entry))
        break;
      heap[i] = heap[best];
      i = best;
    }
  heap[i] = *entry;
}

/**
 * afd_event_queue_push:
 * @time_ns: absolute simulated time of the event, in nanoseconds
 * @event: (transfer none): payload, copied into the queue
 */
static inline void
afd_event_queue_push (AfdEventQueue *self, AfdTime time_ns, const AfdEvent *event)
{
  if (G_UNLIKELY (self->len == self->capacity))
    afd_event_queue_grow (self);
  AfdQueueEntry entry = { time_ns, self->next_seq++, *event };
  AfdQueueEntry *heap = self->heap;
  gsize i = self->len++;
  while (i > 0)
    {
      gsize parent = (i - 1) / 4;
      if (!afd_event_queue_before (&entry, &heap[parent]))
        break;
      heap[i] = heap[parent];
      i = parent;
    }
  heap[i] = entry;
}

/* Returns: (transfer none) (nullable): the minimum entry, or %NULL if the queue is empty. */
static inline const AfdQueueEntry *
afd_event_queue_peek (const AfdEventQueue *self)
{
  return self->len > 0 ? &self->heap[0] : NULL;
}

/* Removes the minimum entry; the queue must not be empty. */
static inline void
afd_event_queue_remove_top (AfdEventQueue *self)
{
  gsize n = --self->len;
  if (n > 0)
    {
      AfdQueueEntry last = self->heap[n];
      afd_event_queue_sift_down (self->heap, n, 0, &last);
    }
}

/**
 * afd_event_queue_pop:
 * @out_time_ns: (out) (optional): the event's time
 * @out_event: (out) (optional): the event's payload
 *
 * Returns: %FALSE if the queue is empty (outputs untouched), %TRUE otherwise
 */
static inline gboolean
afd_event_queue_pop (AfdEventQueue *self, AfdTime *out_time_ns, AfdEvent *out_event)
{
  if (self->len == 0)
    return FALSE;
  if (out_time_ns != NULL)
    *out_time_ns = self->heap[0].time_ns;
  if (out_event != NULL)
    *out_event = self->heap[0].event;
  afd_event_queue_remove_top (self);
  return TRUE;
}

/**
 * afd_event_queue_replace_top:
 *
 * Removes the minimum entry and pushes (@time_ns, @event) with one sift from the root; the
 * same result as pop then push, at about half the cost. The queue must not be empty.
 */
static inline void
afd_event_queue_replace_top (AfdEventQueue *self, AfdTime time_ns, const AfdEvent *event)
{
  AfdQueueEntry entry = { time_ns, self->next_seq++, *event };
  afd_event_queue_sift_down (self->heap, self->len, 0, &entry);
}

/* Returns: the number of entries waiting. */
static inline gsize
afd_event_queue_len (const AfdEventQueue *self)
{
  return self->len;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdEventQueue, afd_event_queue_free)

G_END_DECLS

#endif /* AFD_SIM_EVENT_QUEUE_H */
