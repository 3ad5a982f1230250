# SPDX-License-Identifier: MIT
# tests/exec.mk - real execution (afdsim run --backend cuda, afdsim validate): the op-graph ->
# execution-plan translation and the bad-environment paths; runs everywhere (no GPU needed).
check_PROGRAMS += tests/test-exec-nogpu
tests_test_exec_nogpu_SOURCES = %reldir%/test-exec-nogpu.c %reldir%/test-helpers.h
tests_test_exec_nogpu_CPPFLAGS = $(afd_test_cppflags)
tests_test_exec_nogpu_LDADD = $(afd_test_libs)
TESTS += tests/test-exec-nogpu %reldir%/test-validate-cli.sh
EXTRA_DIST += %reldir%/test-validate-cli.sh
