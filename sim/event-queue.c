/* SPDX-License-Identifier: MIT */
/*
 * event-queue.c - storage of the pending-event heap and pool (see sim/event-queue.h).
 *
 * Only the cold paths live here: creation, growth, renumbering, release. The key array is
 * placed so that heap[1] starts on a 64-byte boundary; then every family of four children
 * (4i+1 … 4i+4, 4 × 16 bytes) is exactly one cache line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sim/event-queue.h"

#define CACHE_LINE_BYTES 64
#define INITIAL_CAPACITY 64

/* Allocates room for @capacity keys and returns the aligned array start in @out_heap. */
static gpointer
alloc_keys (gsize capacity, AfdQueueKey **out_heap)
{
  gsize bytes = capacity * sizeof (AfdQueueKey) + 2 * CACHE_LINE_BYTES;
  guint8 *block = g_malloc (bytes);
  guintptr p = (guintptr) block + sizeof (AfdQueueKey);
  p = (p + CACHE_LINE_BYTES - 1) & ~(guintptr) (CACHE_LINE_BYTES - 1);
  *out_heap = (AfdQueueKey *) (p - sizeof (AfdQueueKey));
  return block;
}

void
afd_event_queue_init (AfdEventQueue *self)
{
  memset (self, 0, sizeof *self);
  self->capacity = INITIAL_CAPACITY;
  self->block = alloc_keys (self->capacity, &self->heap);
  self->pool = g_new (AfdEvent, self->capacity);
  self->free_slots = g_new (guint32, self->capacity);
}

void
afd_event_queue_clear (AfdEventQueue *self)
{
  g_free (self->block);
  g_free (self->pool);
  g_free (self->free_slots);
  memset (self, 0, sizeof *self);
}

AfdEventQueue *
afd_event_queue_new (void)
{
  AfdEventQueue *self = g_new (AfdEventQueue, 1);
  afd_event_queue_init (self);
  return self;
}

void
afd_event_queue_free (AfdEventQueue *self)
{
  if (self == NULL)
    return;
  afd_event_queue_clear (self);
  g_free (self);
}

void
afd_event_queue_grow (AfdEventQueue *self)
{
  /* Slots are 32-bit: at most 2^32 events pending. */
  g_assert (self->capacity <= G_MAXUINT32 / 2);
  gsize capacity = MAX (self->capacity * 2, INITIAL_CAPACITY);
  AfdQueueKey *heap = NULL;
  gpointer block = alloc_keys (capacity, &heap);
  if (self->len > 0)
    memcpy (heap, self->heap, self->len * sizeof (AfdQueueKey));
  g_free (self->block);
  self->block = block;
  self->heap = heap;
  self->pool = g_renew (AfdEvent, self->pool, capacity);
  self->free_slots = g_renew (guint32, self->free_slots, capacity);
  self->capacity = capacity;
}

/* qsort order of keys: (time_ns, seq). */
static int
key_cmp (const void *a, const void *b)
{
  const AfdQueueKey *x = a, *y = b;
  return (int) afd_event_queue_before (y, x) - (int) afd_event_queue_before (x, y);
}

void
afd_event_queue_renumber (AfdEventQueue *self)
{
  /* A sorted array is a valid heap; renumbering in sorted order keeps every tie's order. */
  qsort (self->heap, self->len, sizeof (AfdQueueKey), key_cmp);
  for (gsize i = 0; i < self->len; i++)
    self->heap[i].tie = ((guint64) i << 32) | afd_event_queue_key_slot (&self->heap[i]);
  self->next_seq = self->len;
}
