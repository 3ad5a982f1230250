/* SPDX-License-Identifier: MIT */
/* validate-stats.c - `afdsim validate`'s error statistics (formulas in validate-stats.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "backends/validate-stats.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

void
afd_validate_stats_summarise (double *values, guint n, AfdValidateStats *out)
{
  g_return_if_fail (out != NULL && (values != NULL || n == 0));
  *out = (AfdValidateStats) { n, 0, 0, 0 };
  if (n == 0)
    return;
  qsort (values, n, sizeof (double), cmp_double);
  out->median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  guint rank = (guint) ceil (0.9 * n);
  out->p90 = values[MAX (rank, 1u) - 1];
  out->worst = values[n - 1];
}

guint
afd_validate_stats_abs_errors (const double *sim_s, const double *real_s,
                               const gboolean *include, guint n, double *out_errors)
{
  guint k = 0;
  for (guint i = 0; i < n; i++)
    if ((include == NULL || include[i]) && real_s[i] > 0)
      out_errors[k++] = fabs (sim_s[i] - real_s[i]) / real_s[i];
  return k;
}

double
afd_validate_stats_error_rel (double sim_s, double real_s)
{
  return real_s > 0 ? (sim_s - real_s) / real_s : 0.0;
}
