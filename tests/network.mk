# SPDX-License-Identifier: MIT
# tests/network.mk - tests of GPU specs, clusters, the network model and collectives.
network_tests = tests/test-gpu-spec tests/test-cluster tests/test-network \
	tests/test-collective
check_PROGRAMS += $(network_tests)
tests_test_gpu_spec_SOURCES = %reldir%/test-gpu-spec.c %reldir%/test-helpers.h
tests_test_gpu_spec_CPPFLAGS = $(afd_test_cppflags)
tests_test_gpu_spec_LDADD = $(afd_test_libs)
tests_test_cluster_SOURCES = %reldir%/test-cluster.c %reldir%/cluster-test-helpers.h \
  %reldir%/test-helpers.h
tests_test_cluster_CPPFLAGS = $(afd_test_cppflags)
tests_test_cluster_LDADD = $(afd_test_libs)
tests_test_network_SOURCES = %reldir%/test-network.c %reldir%/cluster-test-helpers.h \
  %reldir%/test-helpers.h
tests_test_network_CPPFLAGS = $(afd_test_cppflags)
tests_test_network_LDADD = $(afd_test_libs)
tests_test_collective_SOURCES = %reldir%/test-collective.c %reldir%/cluster-test-helpers.h \
  %reldir%/test-helpers.h
tests_test_collective_CPPFLAGS = $(afd_test_cppflags)
tests_test_collective_LDADD = $(afd_test_libs)
TESTS += $(network_tests) %reldir%/test-network-cli.sh
EXTRA_DIST += %reldir%/test-network-cli.sh
