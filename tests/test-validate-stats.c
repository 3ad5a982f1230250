/* SPDX-License-Identifier: MIT */
/*
 * Tests for backends/validate-stats.c: `afdsim validate`'s error statistics on synthetic
 * timings (no GPU). Each expected value is worked out by hand in the comment above it.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>

#include "backends/validate-stats.h"

#define EPS 1e-12

/* Ten ops, simulated 10 % … 100 % above (or below) their real times: |errors| are 0.1 … 1.0.
 * Median of an even count: (0.5 + 0.6)/2 = 0.55; p90 nearest rank ⌈0.9·10⌉ = 9th: 0.9;
 * worst 1.0. Order of the input does not matter. */
Test (validate_stats, median_p90_worst_of_ten)
{
  double real[10], sim[10], err[10];
  const int order[10] = { 3, 9, 0, 7, 1, 5, 8, 2, 6, 4 };
  for (int i = 0; i < 10; i++)
    {
      real[i] = 1e-3 * (i + 1);
      double e = 0.1 * (order[i] + 1);
      sim[i] = real[i] * (i % 2 ? 1 + e : 1 - e);
    }
  guint n = afd_validate_stats_abs_errors (sim, real, NULL, 10, err);
  cr_assert_eq (n, 10);
  AfdValidateStats s;
  afd_validate_stats_summarise (err, n, &s);
  cr_assert_eq (s.n, 10);
  cr_assert_float_eq (s.median, 0.55, EPS);
  cr_assert_float_eq (s.p90, 0.9, EPS);
  cr_assert_float_eq (s.worst, 1.0, EPS);
}

/* An odd count takes the middle value: |errors| {0.3, 0.1, 0.2} -> median 0.2; p90 rank
 * ⌈2.7⌉ = 3rd = 0.3. One value: all three statistics are it (p90 rank ⌈0.9⌉ = 1). */
Test (validate_stats, odd_count_and_single_value)
{
  double v[] = { 0.3, 0.1, 0.2 };
  AfdValidateStats s;
  afd_validate_stats_summarise (v, 3, &s);
  cr_assert_float_eq (s.median, 0.2, EPS);
  cr_assert_float_eq (s.p90, 0.3, EPS);
  double one[] = { 0.07 };
  afd_validate_stats_summarise (one, 1, &s);
  cr_assert_float_eq (s.median, 0.07, EPS);
  cr_assert_float_eq (s.p90, 0.07, EPS);
  cr_assert_float_eq (s.worst, 0.07, EPS);
}

/* Ops not included (no kernel) and ops with no real time are left out: of four ops only the
 * two counted enter, |(1.2 − 1)/1| = 0.2 and |(0.5 − 1)/1| = 0.5; median 0.35. No ops: all 0. */
Test (validate_stats, excluded_ops_and_empty_set)
{
  const double real[] = { 1.0, 0.0, 1.0, 1.0 };
  const double sim[] = { 1.2, 5.0, 9.0, 0.5 };
  const gboolean include[] = { TRUE, TRUE, FALSE, TRUE };
  double err[4];
  guint n = afd_validate_stats_abs_errors (sim, real, include, 4, err);
  cr_assert_eq (n, 2);
  AfdValidateStats s;
  afd_validate_stats_summarise (err, n, &s);
  cr_assert_float_eq (s.median, 0.35, EPS);
  cr_assert_float_eq (s.worst, 0.5, EPS);
  afd_validate_stats_summarise (NULL, 0, &s);
  cr_assert_eq (s.n, 0);
  cr_assert_float_eq (s.median + s.p90 + s.worst, 0.0, EPS);
}

/* End-to-end error is signed: 10.35 ms simulated for 9.0 ms real is +15 %; 8.1 ms is −10 %. */
Test (validate_stats, end_to_end_error_is_signed)
{
  cr_assert_float_eq (afd_validate_stats_error_rel (10.35e-3, 9.0e-3), 0.15, EPS);
  cr_assert_float_eq (afd_validate_stats_error_rel (8.1e-3, 9.0e-3), -0.1, EPS);
  cr_assert_float_eq (afd_validate_stats_error_rel (1.0, 0.0), 0.0, EPS);
}
