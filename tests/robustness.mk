# SPDX-License-Identifier: MIT
# tests/robustness.mk - hostile-input regression tests (issue #8, docs/reliability.md), the
# fuzzing harness (tests/fuzz/, built with clang outside automake) and the valgrind check.
check_PROGRAMS += tests/test-robustness
tests_test_robustness_SOURCES = %reldir%/test-robustness.c %reldir%/test-helpers.h
tests_test_robustness_CPPFLAGS = $(afd_test_cppflags)
tests_test_robustness_LDADD = $(afd_test_libs)
TESTS += tests/test-robustness
EXTRA_DIST += tests/fuzz tests/valgrind-default.sh
