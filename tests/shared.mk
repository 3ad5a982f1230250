# SPDX-License-Identifier: MIT
# tests/shared.mk - tests of the pieces every command shares: the duration parser, the
# provenance writer, the experiment key table.
check_PROGRAMS += tests/test-duration
tests_test_duration_SOURCES = %reldir%/test-duration.c %reldir%/test-helpers.h
tests_test_duration_CPPFLAGS = $(afd_test_cppflags)
tests_test_duration_LDADD = $(afd_test_libs)
TESTS += tests/test-duration
check_PROGRAMS += tests/test-provenance
tests_test_provenance_SOURCES = %reldir%/test-provenance.c %reldir%/test-helpers.h
tests_test_provenance_CPPFLAGS = $(afd_test_cppflags)
tests_test_provenance_LDADD = $(afd_test_libs)
TESTS += tests/test-provenance %reldir%/test-provenance-cli.sh
EXTRA_DIST += %reldir%/test-provenance-cli.sh
check_PROGRAMS += tests/test-experiment-keys
tests_test_experiment_keys_SOURCES = %reldir%/test-experiment-keys.c
tests_test_experiment_keys_CPPFLAGS = $(afd_test_cppflags)
tests_test_experiment_keys_LDADD = $(afd_test_libs)
TESTS += tests/test-experiment-keys
