/* SPDX-License-Identifier: MIT */
/*
 * event-queue.c - storage of the pending-event heap (see sim/event-queue.h).
 *
 * Only the cold paths live here: creation, growth, release. The array is placed so that
 * heap[1] starts on a 64-byte boundary; then every family of four children (4i+1 … 4i+4,
 * 128 bytes) fills exactly two cache lines.
 */
#include "config.h"

#include <string.h>

#include "sim/event-queue.h"

#define CACHE_LINE_BYTES 64
#define INITIAL_CAPACITY 64

/* Allocates room for @capacity entries and returns the aligned array start in @out_heap. */
static gpointer
alloc_aligned (gsize capacity, AfdQueueEntry **out_heap)
{
  gsize bytes = capacity * sizeof (AfdQueueEntry) + 2 * CACHE_LINE_BYTES;
  guint8 *block = g_malloc (bytes);
  guintptr p = (guintptr) block + sizeof (AfdQueueEntry);
  p = (p + CACHE_LINE_BYTES - 1) & ~(guintptr) (CACHE_LINE_BYTES - 1);
  *out_heap = (AfdQueueEntry *) (p - sizeof (AfdQueueEntry));
  return block;
}

void
afd_event_queue_init (AfdEventQueue *self)
{
  memset (self, 0, sizeof *self);
  self->capacity = INITIAL_CAPACITY;
  self->block = alloc_aligned (self->capacity, &self->heap);
}

void
afd_event_queue_clear (AfdEventQueue *self)
{
  g_free (self->block);
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
  g_assert (self->capacity <= G_MAXSIZE / 2 / sizeof (AfdQueueEntry));
  gsize capacity = MAX (self->capacity * 2, INITIAL_CAPACITY);
  AfdQueueEntry *heap = NULL;
  gpointer block = alloc_aligned (capacity, &heap);
  memcpy (heap, self->heap, self->len * sizeof (AfdQueueEntry));
  g_free (self->block);
  self->block = block;
  self->heap = heap;
  self->capacity = capacity;
}
