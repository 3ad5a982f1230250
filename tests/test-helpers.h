/* SPDX-License-Identifier: MIT */
/* test-helpers.h - assertions that show the GError text on failure. */
#ifndef AFD_TESTS_TEST_HELPERS_H
#define AFD_TESTS_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <glib.h>

#include "sim/error.h"

#define afd_assert_no_error(err) \
  cr_assert_null ((err), "unexpected error: %s", (err) ? (err)->message : "")

#define afd_assert_error(err, domain, code)                                                  \
  cr_assert (g_error_matches ((err), (domain), (code)), "expected error code %d, got %s", \
             (int) (code), (err) ? (err)->message : "no error")

/* Asserts that @err's message contains @needle (messages must name file, key and problem). */
#define afd_assert_error_contains(err, needle)                                          \
  cr_assert ((err) != NULL && strstr ((err)->message, (needle)) != NULL,             \
             "expected an error mentioning '%s', got '%s'", (needle),                \
             (err) ? (err)->message : "no error")

#endif /* AFD_TESTS_TEST_HELPERS_H */
