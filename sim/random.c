/* SPDX-License-Identifier: MIT */
/* random.c - normal and Gamma deviates from a GRand stream (see sim/random.h). */
#include "config.h"

#include <math.h>

#include "sim/random.h"

double
afd_random_normal (GRand *rng)
{
  double u1 = 1.0 - g_rand_double (rng); /* (0, 1] keeps the log finite */
  double u2 = g_rand_double (rng);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

double
afd_random_gamma (GRand *rng, double shape)
{
  if (shape < 1.0)
    {
      double u = 1.0 - g_rand_double (rng);
      return afd_random_gamma (rng, shape + 1.0) * pow (u, 1.0 / shape);
    }
  const double d = shape - 1.0 / 3.0, c = 1.0 / sqrt (9.0 * d);
  for (;;)
    {
      double x = afd_random_normal (rng), v = 1.0 + c * x;
      if (v <= 0)
        continue;
      v = v * v * v;
      double u = 1.0 - g_rand_double (rng);
      if (log (u) < 0.5 * x * x + d - d * v + d * log (v))
        return d * v;
    }
}
