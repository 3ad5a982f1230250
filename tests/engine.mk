# SPDX-License-Identifier: MIT
# tests/engine.mk - unit tests of the engine, event queue, streams and trace writer, and the
# pending-event-set variants benchmark (built by `make bench`, not part of `make check`).
afd_engine_tests = tests/test-event-queue tests/test-engine tests/test-stream tests/test-trace
check_PROGRAMS += $(afd_engine_tests)
tests_test_event_queue_SOURCES = %reldir%/test-event-queue.c %reldir%/test-helpers.h
tests_test_event_queue_CPPFLAGS = $(afd_test_cppflags)
tests_test_event_queue_LDADD = $(afd_test_libs)
tests_test_engine_SOURCES = %reldir%/test-engine.c %reldir%/test-helpers.h
tests_test_engine_CPPFLAGS = $(afd_test_cppflags)
tests_test_engine_LDADD = $(afd_test_libs)
tests_test_stream_SOURCES = %reldir%/test-stream.c %reldir%/test-helpers.h
tests_test_stream_CPPFLAGS = $(afd_test_cppflags)
tests_test_stream_LDADD = $(afd_test_libs)
tests_test_trace_SOURCES = %reldir%/test-trace.c %reldir%/test-helpers.h
tests_test_trace_CPPFLAGS = $(afd_test_cppflags)
tests_test_trace_LDADD = $(afd_test_libs)
TESTS += $(afd_engine_tests)

# `make bench` builds and runs this (tools/bench.sh); it is not a test.
EXTRA_PROGRAMS += tests/bench-queue-variants
tests_bench_queue_variants_SOURCES = %reldir%/bench-queue-variants.c
tests_bench_queue_variants_LDADD = $(afd_libs)
CLEANFILES += tests/bench-queue-variants
