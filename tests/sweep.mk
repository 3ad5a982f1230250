# SPDX-License-Identifier: MIT
# tests/sweep.mk - `afdsim sweep` (issue #6): unit tests, the AFD HFU-vs-roofline property,
# SIGKILL + resume, and mpirun -np 2 against a local run (skipped without --with-mpi).
afd_sweep_tests = tests/test-sweep tests/test-sweep-hfu
check_PROGRAMS += $(afd_sweep_tests)
tests_test_sweep_SOURCES = %reldir%/test-sweep.c %reldir%/test-helpers.h
tests_test_sweep_CPPFLAGS = $(afd_test_cppflags)
tests_test_sweep_LDADD = $(afd_test_libs)
tests_test_sweep_hfu_SOURCES = %reldir%/test-sweep-hfu.c %reldir%/test-helpers.h
tests_test_sweep_hfu_CPPFLAGS = $(afd_test_cppflags)
tests_test_sweep_hfu_LDADD = $(afd_test_libs)
TESTS += $(afd_sweep_tests) %reldir%/test-sweep-cli.sh %reldir%/test-sweep-kill.sh \
	%reldir%/test-sweep-mpi.sh
EXTRA_DIST += %reldir%/test-sweep-cli.sh %reldir%/test-sweep-kill.sh %reldir%/test-sweep-mpi.sh
