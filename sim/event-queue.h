/* SPDX-License-Identifier: MIT */
/*
 * event-queue.h - the engine's pending-event set: a 4-ary min-heap of 16-byte keys whose
 * payloads live in a pool.
 *
 * Events are ordered by (time_ns, sequence); the sequence number is assigned by the queue at
 * push time, so events pushed for the same instant come out in push order. The heap holds
 * only 16-byte keys {time_ns, seq:32 | slot:32}, so a node's four children fill exactly one
 * 64-byte cache line (the array is aligned for that); the 16-byte AfdEvent payloads stay put
 * in a pool, indexed by slot, and are touched once when pushed and once when popped. Nothing
 * is allocated per event. A 32-bit sequence suffices because only pending events need
 * distinct, ordered numbers: before the counter wraps, the pending keys are renumbered in
 * order (O(n log n) once every 2^32 pushes). The hot operations are static inline with
 * branch-free compares; besides push and pop there is replace_top (pop the minimum and push
 * a new event with a single sift, reusing its payload slot), which is what a discrete-event
 * loop does most of the time. docs/internals/engine.md gives the measurements behind this
 * design (tests/bench-queue-variants.c). The queue never frees anything payloads point to.
 *
 * This header is internal to sim/: models use sim/engine.h.
 */
#ifndef AFD_SIM_EVENT_QUEUE_H
#define AFD_SIM_EVENT_QUEUE_H

#include <glib.h>

#include "sim/engine.h"
#include "sim/types.h"

G_BEGIN_DECLS

/* One heap key, 16 bytes: the event's time, then (seq << 32 | payload slot). */
typedef struct {
  AfdTime time_ns; /* absolute simulated time, nanoseconds; never negative */
  guint64 tie;     /* high 32 bits: push order among pending events; low 32: pool slot */
} AfdQueueKey;

/* The queue. Embed it by value (afd_event_queue_init/clear) or use new/free. */
typedef struct _AfdEventQueue {
  AfdQueueKey *heap;   /* heap[0] is the minimum; children of i are 4i+1 … 4i+4 */
  AfdEvent *pool;      /* payloads by slot */
  guint32 *free_slots; /* stack of pool slots not in use below pool_used */
  gsize len;           /* keys in the heap */
  gsize capacity;      /* keys and slots allocated */
  gsize n_free;        /* entries in free_slots */
  gsize pool_used;     /* slots ever handed out (high-water mark) */
  guint64 next_seq;    /* sequence number of the next push, < 2^32 */
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

/* Renumbers the pending keys 0 … len-1 in order before the 32-bit sequence wraps (internal;
 * called by push when next_seq reaches 2^32). */
G_GNUC_INTERNAL void afd_event_queue_renumber (AfdEventQueue *self);

/* Returns: 1 if key @a comes before key @b in (time_ns, seq) order, else 0. Times are
 * never negative, so a key is one unsigned 128-bit number: one compare, no branch. */
static inline gsize
afd_event_queue_before (const AfdQueueKey *a, const AfdQueueKey *b)
{
#ifdef __SIZEOF_INT128__
  unsigned __int128 ka = ((unsigned __int128) (guint64) a->time_ns << 64) | a->tie;
  unsigned __int128 kb = ((unsigned __int128) (guint64) b->time_ns << 64) | b->tie;
  return ka < kb;
#else
  return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->tie < b->tie);
#endif
}

/* Moves @key down from the hole at @i to its place; the heap holds @n keys. When a child
 * moves up into the root, its payload in @pool is prefetched: it is the next event to run,
 * and the rest of the sift hides the load. */
static inline void
afd_event_queue_sift_down (AfdQueueKey *heap, gsize n, gsize i, AfdQueueKey key,
                           const AfdEvent *pool)
{
  for (;;)
    {
      gsize c = 4 * i + 1;
      if (c >= n)
        break;
      gsize best = c;
      if (G_LIKELY (c + 3 < n))
        {
          /* Full family (one cache line): a tournament of independent compares whose
           * results are used as integers, so the compiler emits setb/sbb, not branches. */
          gsize b01 = c + afd_event_queue_before (&heap[c + 1], &heap[c]);
          gsize b23 = c + 2 + afd_event_queue_before (&heap[c + 3], &heap[c + 2]);
          /* A mask, not "? :" or a multiply, which gcc turns back into a branch here. */
          gsize mask = (gsize) 0 - afd_event_queue_before (&heap[b23], &heap[b01]);
          best = b01 ^ ((b01 ^ b23) & mask);
        }
      else
        {
          for (gsize k = c + 1; k < n; k++)
            if (afd_event_queue_before (&heap[k], &heap[best]))
              best = k;
        }
      if (!afd_event_queue_before (&heap[best], &key))
        break;
      heap[i] = heap[best];
      if (i == 0)
        __builtin_prefetch (&pool[(guint32) heap[0].tie]);
      i = best;
    }
  heap[i] = key;
}

/* Returns: the tie word for pool slot @slot, taking the next sequence number. */
static inline guint64
afd_event_queue_next_tie (AfdEventQueue *self, guint32 slot)
{
  if (G_UNLIKELY (self->next_seq > G_MAXUINT32))
    afd_event_queue_renumber (self);
  return (self->next_seq++ << 32) | slot;
}

/**
 * afd_event_queue_push:
 * @time_ns: absolute simulated time of the event, in nanoseconds, >= 0
 * @event: (transfer none): payload, copied into the queue
 */
static inline void
afd_event_queue_push (AfdEventQueue *self, AfdTime time_ns, const AfdEvent *event)
{
  if (G_UNLIKELY (self->len == self->capacity))
    afd_event_queue_grow (self);
  guint32 slot = self->n_free > 0 ? self->free_slots[--self->n_free]
                                  : (guint32) self->pool_used++;
  self->pool[slot] = *event;
  AfdQueueKey key = { time_ns, afd_event_queue_next_tie (self, slot) };
  AfdQueueKey *heap = self->heap;
  gsize i = self->len++;
  while (i > 0)
    {
      gsize parent = (i - 1) / 4;
      if (!afd_event_queue_before (&key, &heap[parent]))
        break;
      heap[i] = heap[parent];
      i = parent;
    }
  heap[i] = key;
}

/* Returns: the pool slot of key @key. */
static inline guint32
afd_event_queue_key_slot (const AfdQueueKey *key)
{
  return (guint32) key->tie;
}

/* Returns: the earliest event's time; the queue must not be empty. */
static inline AfdTime
afd_event_queue_top_time (const AfdEventQueue *self)
{
  return self->heap[0].time_ns;
}

/* Returns: (transfer none): the earliest event's payload; the queue must not be empty. */
static inline const AfdEvent *
afd_event_queue_top_event (const AfdEventQueue *self)
{
  return &self->pool[afd_event_queue_key_slot (&self->heap[0])];
}

/* Removes the earliest event; the queue must not be empty. */
static inline void
afd_event_queue_remove_top (AfdEventQueue *self)
{
  self->free_slots[self->n_free++] = afd_event_queue_key_slot (&self->heap[0]);
  gsize n = --self->len;
  if (n > 0)
    afd_event_queue_sift_down (self->heap, n, 0, self->heap[n], self->pool);
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
    *out_time_ns = afd_event_queue_top_time (self);
  if (out_event != NULL)
    *out_event = *afd_event_queue_top_event (self);
  afd_event_queue_remove_top (self);
  return TRUE;
}

/**
 * afd_event_queue_replace_top:
 *
 * Removes the earliest event and pushes (@time_ns, @event) with one sift from the root,
 * reusing the removed event's payload slot; the same order as pop then push, at about half
 * the cost. The queue must not be empty.
 */
static inline void
afd_event_queue_replace_top (AfdEventQueue *self, AfdTime time_ns, const AfdEvent *event)
{
  guint32 slot = afd_event_queue_key_slot (&self->heap[0]);
  self->pool[slot] = *event;
  AfdQueueKey key = { time_ns, afd_event_queue_next_tie (self, slot) };
  afd_event_queue_sift_down (self->heap, self->len, 0, key, self->pool);
}

/* Returns: the number of events waiting. */
static inline gsize
afd_event_queue_len (const AfdEventQueue *self)
{
  return self->len;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdEventQueue, afd_event_queue_free)

G_END_DECLS

#endif /* AFD_SIM_EVENT_QUEUE_H */
