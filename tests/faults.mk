# SPDX-License-Identifier: MIT
# tests/faults.mk - fault injection tests (issue #8).
check_PROGRAMS += tests/test-fault
tests_test_fault_SOURCES = %reldir%/test-fault.c %reldir%/fault-test-helpers.h %reldir%/test-helpers.h
tests_test_fault_CPPFLAGS = $(afd_test_cppflags)
tests_test_fault_LDADD = $(afd_test_libs)
TESTS += tests/test-fault %reldir%/test-faults-cli.sh
EXTRA_DIST += %reldir%/test-faults-cli.sh
check_PROGRAMS += tests/test-fault-ep
tests_test_fault_ep_SOURCES = %reldir%/test-fault-ep.c %reldir%/fault-test-helpers.h %reldir%/test-helpers.h
tests_test_fault_ep_CPPFLAGS = $(afd_test_cppflags)
tests_test_fault_ep_LDADD = $(afd_test_libs)
TESTS += tests/test-fault-ep
check_PROGRAMS += tests/test-fault-time
tests_test_fault_time_SOURCES = %reldir%/test-fault-time.c %reldir%/fault-test-helpers.h %reldir%/test-helpers.h
tests_test_fault_time_CPPFLAGS = $(afd_test_cppflags)
tests_test_fault_time_LDADD = $(afd_test_libs)
TESTS += tests/test-fault-time
check_PROGRAMS += tests/test-fault-matrix
tests_test_fault_matrix_SOURCES = %reldir%/test-fault-matrix.c %reldir%/fault-test-helpers.h %reldir%/test-helpers.h
tests_test_fault_matrix_CPPFLAGS = $(afd_test_cppflags)
tests_test_fault_matrix_LDADD = $(afd_test_libs)
TESTS += tests/test-fault-matrix
