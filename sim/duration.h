/* SPDX-License-Identifier: MIT */
/*
 * duration.h - the one parser of durations written by a user: "12.5ms", "250us", "1.5s", "7ns".
 *
 * A duration is a decimal number (afd_cli_parse_double's rules: no hex, no spaces, finite)
 * followed by a unit s, ms, us or ns; where the caller allows it a bare number means seconds.
 * Used by fault specs (@t=TIME, sim/fault.c) and roofline's --slo and --gap
 * (cli/cmd-roofline.c). Parses only; it never reads a clock.
 */
#ifndef AFD_SIM_DURATION_H
#define AFD_SIM_DURATION_H

#include <glib.h>

#include "sim/types.h"

G_BEGIN_DECLS

/**
 * afd_duration_parse:
 * @what: names the value at the start of every message ("--slo '5xs'",
 *   "fault 'gpu:1@t=5': TIME '5'")
 * @text: the duration
 * @bare_seconds: %TRUE: a number without a unit is seconds; %FALSE: it is an error
 * @max_s: the largest accepted duration, seconds (0 <= duration <= @max_s)
 * @code: the AFD_ERROR code of every error (AFD_ERROR_USAGE for a flag, AFD_ERROR_CONFIG for
 *   a file)
 * @out_ns: (out) (optional): the duration rounded to the nearest nanosecond
 * @out_s: (out) (optional): the duration in seconds (number × unit, no rounding)
 *
 * Returns: %FALSE with @code and @what for an empty text, a missing unit (unless
 *   @bare_seconds), an unknown unit, no number, junk, NaN or infinity, a negative value, or
 *   more than @max_s; outputs untouched then
 */
gboolean afd_duration_parse (const char *what, const char *text, gboolean bare_seconds,
                             double max_s, int code, AfdTime *out_ns, double *out_s,
                             GError **error);

G_END_DECLS

#endif /* AFD_SIM_DURATION_H */
