# SPDX-License-Identifier: MIT
# tests/serve.mk - `afdsim serve` (issue #19): workload, step-time cache, scheduler checks, the
# command line and the serve experiments' golden outputs.
check_PROGRAMS += tests/test-serve
tests_test_serve_SOURCES = %reldir%/test-serve.c %reldir%/test-helpers.h
tests_test_serve_CPPFLAGS = $(afd_test_cppflags)
tests_test_serve_LDADD = $(afd_test_libs)
TESTS += tests/test-serve
TESTS += %reldir%/test-serve-golden.sh %reldir%/test-serve-cli.sh
EXTRA_DIST += %reldir%/test-serve-golden.sh %reldir%/test-serve-cli.sh
