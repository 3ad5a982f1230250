# SPDX-License-Identifier: MIT
# tests/models.mk - tests of the LLM loader, operators, analytic backend, routing, memory and
# the cost-backend registry contract.
afd_models_tests = tests/test-llm tests/test-ops tests/test-cost-analytic tests/test-routing \
	tests/test-memory tests/test-registries
check_PROGRAMS += $(afd_models_tests)
TESTS += $(afd_models_tests)

tests_test_llm_SOURCES = %reldir%/test-llm.c %reldir%/test-helpers.h
tests_test_llm_CPPFLAGS = $(afd_test_cppflags)
tests_test_llm_LDADD = $(afd_test_libs)
tests_test_ops_SOURCES = %reldir%/test-ops.c %reldir%/test-helpers.h
tests_test_ops_CPPFLAGS = $(afd_test_cppflags)
tests_test_ops_LDADD = $(afd_test_libs)
tests_test_cost_analytic_SOURCES = %reldir%/test-cost-analytic.c %reldir%/test-helpers.h
tests_test_cost_analytic_CPPFLAGS = $(afd_test_cppflags)
tests_test_cost_analytic_LDADD = $(afd_test_libs)
tests_test_routing_SOURCES = %reldir%/test-routing.c %reldir%/test-helpers.h
tests_test_routing_CPPFLAGS = $(afd_test_cppflags)
tests_test_routing_LDADD = $(afd_test_libs)
tests_test_memory_SOURCES = %reldir%/test-memory.c %reldir%/test-helpers.h
tests_test_memory_CPPFLAGS = $(afd_test_cppflags)
tests_test_memory_LDADD = $(afd_test_libs)
tests_test_registries_SOURCES = %reldir%/test-registries.c %reldir%/test-helpers.h
tests_test_registries_CPPFLAGS = $(afd_test_cppflags)
tests_test_registries_LDADD = $(afd_test_libs)

TESTS += %reldir%/test-show-model.sh %reldir%/test-cost-cli.sh
check_PROGRAMS += tests/test-cost-ops
TESTS += tests/test-cost-ops
tests_test_cost_ops_SOURCES = %reldir%/test-cost-ops.c
tests_test_cost_ops_CPPFLAGS = $(afd_test_cppflags)
tests_test_cost_ops_LDADD = $(afd_test_libs)
EXTRA_DIST += %reldir%/test-show-model.sh %reldir%/test-cost-cli.sh

# `make bench` builds and runs this (tools/bench.sh); it is not a test.
EXTRA_PROGRAMS += tests/bench-models
tests_bench_models_SOURCES = %reldir%/bench-models.c
tests_bench_models_LDADD = $(afd_libs)
CLEANFILES += tests/bench-models
