/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the discrete-event engine: a clock, a pending-event set, a handler table and
 * seeded random streams.
 *
 * Events are small plain values (AfdEvent) copied into the engine's pooled memory; they are
 * ordered by (time_ns, sequence) where the sequence number is the push order, so events at
 * the same instant run in the order they were scheduled and every run is reproducible
 * bit-for-bit. A model registers handlers once (afd_engine_register) and schedules events
 * that name a handler by index (ROSS's tw_lptype, as a table). Payloads refer to long-lived
 * entities by index, never by pointer. The engine never frees what payloads point to.
 */
#ifndef AFD_SIM_ENGINE_H
#define AFD_SIM_ENGINE_H

#include <glib.h>

#include "sim/types.h"

G_BEGIN_DECLS

typedef struct _AfdEngine AfdEngine;

/* An event's payload: 16 bytes, copied by value. */
typedef struct {
  guint32 handler; /* index returned by afd_engine_register() */
  guint32 target;  /* entity index the handler interprets (GPU, flow, LP, …) */
  guint64 arg;     /* handler-defined argument (an op index, a generation counter, …) */
} AfdEvent;

/**
 * AfdEventHandlerFunc:
 * @engine: the engine; afd_engine_now() is the event's time
 * @event: (transfer none): the event; valid only during the call
 * @user_data: the pointer given to afd_engine_register()
 */
typedef void (*AfdEventHandlerFunc) (AfdEngine *engine, const AfdEvent *event, gpointer user_data);

/**
 * afd_engine_new:
 * @seed: the run's single seed; every random stream is derived from it
 *
 * Returns: (transfer full): an engine at time 0 with no events; free with afd_engine_free()
 */
AfdEngine *afd_engine_new (guint64 seed);

void afd_engine_free (AfdEngine *self);

/**
 * afd_engine_register:
 * @func: handler called for events that name the returned index
 * @user_data: (transfer none): passed to @func; must outlive the engine's run
 *
 * Returns: the handler index to put in AfdEvent.handler
 */
guint32 afd_engine_register (AfdEngine *self, AfdEventHandlerFunc func, gpointer user_data);

/**
 * afd_engine_schedule_at:
 * @time_ns: absolute simulated time, >= afd_engine_now()
 * @event: (transfer none): copied into the engine
 */
void afd_engine_schedule_at (AfdEngine *self, AfdTime time_ns, const AfdEvent *event);

/**
 * afd_engine_schedule:
 * @delay_ns: nanoseconds from now, >= 0
 */
void afd_engine_schedule (AfdEngine *self, AfdTime delay_ns, const AfdEvent *event);

/* Returns: the current simulated time in nanoseconds. */
AfdTime afd_engine_now (const AfdEngine *self);

/**
 * afd_engine_run:
 * @until_ns: stop before the first event later than this (AFD_TIME_MAX: run to empty)
 * @max_events: stop after this many events (0: no limit)
 *
 * Returns: the number of events processed by this call
 */
guint64 afd_engine_run (AfdEngine *self, AfdTime until_ns, guint64 max_events);

/* Asks a running afd_engine_run() to return after the current event. */
void afd_engine_stop (AfdEngine *self);

/* Returns: the number of events waiting. */
gsize afd_engine_pending (const AfdEngine *self);

/* Returns: the number of events processed since creation. */
guint64 afd_engine_processed (const AfdEngine *self);

/**
 * afd_engine_rng:
 * @name: the random source ("routing", "phold", …); the same name always gives the same
 *   stream for a given seed, whatever other streams exist or were used
 *
 * Returns: (transfer none): the stream, owned by the engine
 */
GRand *afd_engine_rng (AfdEngine *self, const char *name);

/**
 * afd_rng_seed_for:
 * Derives the 32-bit GRand seed of stream @name from the run seed (splitmix64 over the
 * seed mixed with the FNV-1a hash of @name). Useful for streams outside an engine.
 *
 * Returns: the stream's seed
 */
guint32 afd_rng_seed_for (guint64 seed, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdEngine, afd_engine_free)

G_END_DECLS

#endif /* AFD_SIM_ENGINE_H */
