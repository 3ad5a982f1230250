/* SPDX-License-Identifier: MIT */
/*
 * random.h - deviates drawn from a GRand stream (STYLE.md: one stream per random source,
 * derived from the experiment's seed; never the global g_random_* functions).
 *
 * Shared by the routing generators (models/routing.c: Dirichlet weights from Gamma draws) and
 * the serving workload (sim/serve-workload.c: Gamma inter-arrival gaps, lognormal lengths).
 * Each function consumes a fixed, documented sequence of g_rand_double() calls, so a stream's
 * draws are reproducible bit for bit from its seed.
 */
#ifndef AFD_SIM_RANDOM_H
#define AFD_SIM_RANDOM_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * afd_random_normal:
 *
 * A standard normal deviate by Box-Muller, the cosine of the pair: two g_rand_double() calls,
 * u1 in (0, 1] (so the log stays finite) and u2 in [0, 1).
 */
double afd_random_normal (GRand *rng);

/**
 * afd_random_gamma:
 * @shape: k > 0
 *
 * A Gamma(k, 1) deviate by Marsaglia and Tsang (ACM TOMS 26(3), 2000): for k >= 1 the
 * squeeze-free rejection on (1 + c·x)³ with d = k − 1/3, c = 1/√(9d), x standard normal; for
 * k < 1 a Gamma(k + 1) draw times U^(1/k) (the same paper's boost, U drawn first).
 */
double afd_random_gamma (GRand *rng, double shape);

G_END_DECLS

#endif /* AFD_SIM_RANDOM_H */
