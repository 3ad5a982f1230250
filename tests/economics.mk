# SPDX-License-Identifier: MIT
# tests/economics.mk - cost and energy per token (docs/models/cost.md) and multi-token
# prediction (docs/models/mtp.md); issue #18.
afd_economics_tests = tests/test-economics tests/test-mtp
check_PROGRAMS += $(afd_economics_tests)
tests_test_economics_SOURCES = %reldir%/test-economics.c %reldir%/fault-test-helpers.h \
	%reldir%/test-helpers.h
tests_test_economics_CPPFLAGS = $(afd_test_cppflags)
tests_test_economics_LDADD = $(afd_test_libs)
tests_test_mtp_SOURCES = %reldir%/test-mtp.c %reldir%/fault-test-helpers.h %reldir%/test-helpers.h
tests_test_mtp_CPPFLAGS = $(afd_test_cppflags)
tests_test_mtp_LDADD = $(afd_test_libs)
TESTS += $(afd_economics_tests) %reldir%/test-mtp-cli.sh
EXTRA_DIST += %reldir%/test-mtp-cli.sh
