# SPDX-License-Identifier: MIT
# tests/cuda.mk - the measured side: the profile backend and the CUDA backend's bad-environment
# behaviour (runs everywhere; GPU-only tests skip and say why).
check_PROGRAMS += tests/test-profile tests/test-cuda-nogpu
tests_test_profile_SOURCES = %reldir%/test-profile.c %reldir%/test-helpers.h
tests_test_profile_CPPFLAGS = $(afd_test_cppflags)
tests_test_profile_LDADD = $(afd_test_libs)
tests_test_cuda_nogpu_SOURCES = %reldir%/test-cuda-nogpu.c %reldir%/test-helpers.h
tests_test_cuda_nogpu_CPPFLAGS = $(afd_test_cppflags)
tests_test_cuda_nogpu_LDADD = $(afd_test_libs)
TESTS += tests/test-profile tests/test-cuda-nogpu
check_PROGRAMS += tests/test-validate-stats tests/test-fit
tests_test_validate_stats_SOURCES = %reldir%/test-validate-stats.c
tests_test_validate_stats_CPPFLAGS = $(afd_test_cppflags)
tests_test_validate_stats_LDADD = $(afd_test_libs)
tests_test_fit_SOURCES = %reldir%/test-fit.c %reldir%/test-helpers.h
tests_test_fit_CPPFLAGS = $(afd_test_cppflags)
tests_test_fit_LDADD = $(afd_test_libs)
TESTS += tests/test-validate-stats tests/test-fit %reldir%/test-fit-cli.sh
EXTRA_DIST += %reldir%/test-fit-cli.sh
TESTS += %reldir%/test-calibrate.sh
EXTRA_DIST += %reldir%/test-calibrate.sh
