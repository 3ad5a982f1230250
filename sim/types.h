/* SPDX-License-Identifier: MIT */
/*
 * types.h - simulated time and the unit conversions every room shares.
 *
 * Simulated time is a gint64 count of nanoseconds (AfdTime). Cost models compute in double
 * seconds; afd_time_from_seconds() is the one place that rounds seconds to nanoseconds.
 * This header allocates nothing and has no state.
 */
#ifndef AFD_SIM_TYPES_H
#define AFD_SIM_TYPES_H

#include <glib.h>

G_BEGIN_DECLS

/* Simulated time in nanoseconds since the start of the simulation. */
typedef gint64 AfdTime;

#define AFD_TIME_NS_PER_US G_GINT64_CONSTANT (1000)
#define AFD_TIME_NS_PER_MS G_GINT64_CONSTANT (1000000)
#define AFD_TIME_NS_PER_S G_GINT64_CONSTANT (1000000000)
#define AFD_TIME_MAX G_MAXINT64

/*
 * The simulated-time horizon: 2^62 ns, about 146 years. Every duration that becomes
 * nanoseconds is checked against it where it is made (an op's or a collective's price, a
 * whole iteration, a faulted run's iterations), so two times within it add up without
 * overflowing the gint64 clock (docs/reliability.md).
 */
#define AFD_TIME_HORIZON_NS (G_GINT64_CONSTANT (1) << 62)
#define AFD_TIME_HORIZON_TEXT "2^62 ns, about 146 years"

/**
 * afd_time_within_horizon:
 * @seconds: a duration
 *
 * Returns: %TRUE when @seconds is finite, >= 0 and at most AFD_TIME_HORIZON_NS once rounded
 */
gboolean afd_time_within_horizon (double seconds);

/**
 * afd_time_from_seconds:
 * @seconds: a finite, non-negative duration in seconds
 *
 * Rounds to the nearest nanosecond (half away from zero). Values beyond the range of
 * AfdTime saturate at AFD_TIME_MAX; callers validate their inputs before this point.
 *
 * Returns: the duration in nanoseconds
 */
AfdTime afd_time_from_seconds (double seconds);

/**
 * afd_time_to_seconds:
 * @time_ns: nanoseconds
 *
 * Returns: @time_ns in seconds (exact for |time_ns| < 2^53)
 */
static inline double
afd_time_to_seconds (AfdTime time_ns)
{
  return (double) time_ns / 1e9;
}

G_END_DECLS

#endif /* AFD_SIM_TYPES_H */
