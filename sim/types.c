/* SPDX-License-Identifier: MIT */
/* types.c - the single seconds-to-nanoseconds rounding rule (see sim/types.h). */
#include "config.h"

#include <math.h>

#include "sim/types.h"

AfdTime
afd_time_from_seconds (double seconds)
{
  g_return_val_if_fail (isfinite (seconds), 0);
  double ns = round (seconds * 1e9);
  /* 2^63 is exactly representable as a double; anything at or above it saturates. */
  if (ns >= 9223372036854775808.0)
    return AFD_TIME_MAX;
  if (ns <= -9223372036854775808.0)
    return G_MININT64;
  return (AfdTime) ns;
}

gboolean
afd_time_within_horizon (double seconds)
{
  /* 2^62 ns is exactly representable; seconds * 1e9 is rounded as afd_time_from_seconds(). */
  return isfinite (seconds) && seconds >= 0 && round (seconds * 1e9) <= 4611686018427387904.0;
}
