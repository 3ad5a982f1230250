# SPDX-License-Identifier: MIT
# tests/local.mk - Criterion unit tests, shell checks, golden experiments.
# Each area keeps its tests in its own fragment (tests/*.mk) to keep edits apart.
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = CRITERION_OUTPUTS='tap:-'; export CRITERION_OUTPUTS; \
	G_DEBUG=fatal-warnings; export G_DEBUG; \
	AFDSIM_DATA_DIR='$(abs_top_srcdir)'; export AFDSIM_DATA_DIR; \
	AFDSIM='$(abs_top_builddir)/afdsim'; export AFDSIM; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir;

afd_test_cppflags = $(AM_CPPFLAGS) $(CRITERION_CFLAGS) -DTEST_DATA='"$(abs_top_srcdir)/tests/data"'
afd_test_libs = $(afd_libs) $(CRITERION_LIBS)

EXTRA_DIST += tests/data tests/lsan.supp tests/test-cli-doc.sh tests/check-layering.sh tests/check-symbols.sh tests/test-cli.sh

check_PROGRAMS += tests/test-json tests/test-cli-parse
tests_test_json_SOURCES = %reldir%/test-json.c %reldir%/test-helpers.h
tests_test_json_CPPFLAGS = $(afd_test_cppflags)
tests_test_json_LDADD = $(afd_test_libs)
tests_test_cli_parse_SOURCES = %reldir%/test-cli-parse.c %reldir%/test-helpers.h
tests_test_cli_parse_CPPFLAGS = $(afd_test_cppflags)
tests_test_cli_parse_LDADD = $(afd_test_libs)

TESTS += tests/test-json tests/test-cli-parse \
	%reldir%/check-layering.sh %reldir%/check-symbols.sh %reldir%/test-cli.sh \
	%reldir%/test-cli-doc.sh %reldir%/test-first-hour.sh %reldir%/test-install-docs.sh \
	%reldir%/test-docs-commands.sh %reldir%/test-plots.sh
EXTRA_DIST += tests/test-first-hour.sh tests/test-install-docs.sh tests/test-docs-commands.sh \
	tests/test-plots.sh

include tests/engine.mk
include tests/network.mk
include tests/models.mk
include tests/roofline.mk
include tests/cuda.mk
include tests/strategies.mk
include tests/robustness.mk
include tests/sweep.mk
include tests/exec.mk
include tests/faults.mk
include tests/fidelity.mk
include tests/outputs.mk
include tests/shared.mk
include tests/economics.mk
include tests/serve.mk
