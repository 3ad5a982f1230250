/* SPDX-License-Identifier: MIT */
/*
 * validate-stats.h - the error statistics of `afdsim validate` (cli/cmd-validate.c),
 * apart from any GPU so that tests can feed them synthetic timings.
 *
 *   error_rel(sim, real) = (sim − real) / real          (signed; end-to-end)
 *   |error| of op i      = |sim_i − real_i| / real_i    over the ops with include_i and real_i > 0
 *   median               = the middle value (mean of the two middle ones for an even count)
 *   p90                  = nearest rank: the ⌈0.9·n⌉-th smallest value
 *   worst                = the largest value
 * Checked by tests/test-validate-stats.c; docs/validation.md states the method.
 */
#ifndef AFD_BACKENDS_VALIDATE_STATS_H
#define AFD_BACKENDS_VALIDATE_STATS_H

#include <glib.h>

G_BEGIN_DECLS

/* Summary of a set of |relative errors|; all 0 when n is 0. */
typedef struct {
  guint n;       /* values summarised */
  double median; /* median |error| */
  double p90;    /* 90th percentile, nearest rank */
  double worst;  /* largest |error| */
} AfdValidateStats;

/**
 * afd_validate_stats_summarise:
 * @values: (array length=n) (inout): |errors|; sorted in place
 *
 * Fills @out with the median, p90 (nearest rank) and maximum of @values.
 */
void afd_validate_stats_summarise (double *values, guint n, AfdValidateStats *out);

/**
 * afd_validate_stats_abs_errors:
 * @sim_s: (array length=n): simulated durations
 * @real_s: (array length=n): measured durations
 * @include: (array length=n) (nullable): which ops count (%NULL: all)
 * @out_errors: (array length=n): receives the |errors| of the counted ops, packed
 *
 * Returns: how many ops were counted (those included with real_s > 0)
 */
guint afd_validate_stats_abs_errors (const double *sim_s, const double *real_s,
                                     const gboolean *include, guint n, double *out_errors);

/* Returns: (sim − real) / real, or 0 when real <= 0. */
double afd_validate_stats_error_rel (double sim_s, double real_s);

G_END_DECLS

#endif /* AFD_BACKENDS_VALIDATE_STATS_H */
