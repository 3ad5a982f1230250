# SPDX-License-Identifier: MIT
# tests/strategies.mk - op graph, replay and strategy tests, and the golden experiments (issue #5).
afd_strategy_tests = tests/test-opgraph tests/test-replay tests/test-strategies
check_PROGRAMS += $(afd_strategy_tests)
tests_test_opgraph_SOURCES = %reldir%/test-opgraph.c %reldir%/test-helpers.h
tests_test_opgraph_CPPFLAGS = $(afd_test_cppflags)
tests_test_opgraph_LDADD = $(afd_test_libs)
tests_test_replay_SOURCES = %reldir%/test-replay.c %reldir%/test-helpers.h
tests_test_replay_CPPFLAGS = $(afd_test_cppflags)
tests_test_replay_LDADD = $(afd_test_libs)
tests_test_strategies_SOURCES = %reldir%/test-strategies.c %reldir%/test-helpers.h
tests_test_strategies_CPPFLAGS = $(afd_test_cppflags)
tests_test_strategies_LDADD = $(afd_test_libs)
TESTS += $(afd_strategy_tests) %reldir%/golden.sh %reldir%/test-run.sh \
	%reldir%/test-strategy-params.sh %reldir%/test-golden-derivations.sh
EXTRA_DIST += %reldir%/golden.sh %reldir%/test-run.sh %reldir%/test-strategy-params.sh \
	%reldir%/test-golden-derivations.sh
