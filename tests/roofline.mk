# SPDX-License-Identifier: MIT
# tests/roofline.mk - tests of models/roofline.c and `afdsim roofline`.
check_PROGRAMS += tests/test-roofline
tests_test_roofline_SOURCES = %reldir%/test-roofline.c %reldir%/test-helpers.h
tests_test_roofline_CPPFLAGS = $(afd_test_cppflags)
tests_test_roofline_LDADD = $(afd_test_libs)
EXTRA_DIST += %reldir%/test-roofline-cli.sh
TESTS += tests/test-roofline %reldir%/test-roofline-cli.sh
