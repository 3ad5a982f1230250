# SPDX-License-Identifier: MIT
# sim/replay.mk - the operator graph, the strategy interface, the replay on the simulated
# cluster, metrics, experiments and the run/compare/bench-strategies commands (issue #5).
libafdsim_a_SOURCES += \
	%reldir%/opgraph.h %reldir%/opgraph.c \
	%reldir%/strategy.h %reldir%/strategy.c \
	%reldir%/replay.h %reldir%/replay.c \
	%reldir%/metrics.h %reldir%/metrics.c \
	%reldir%/economics.h %reldir%/economics.c \
	%reldir%/experiment.h %reldir%/experiment.c \
	%reldir%/experiment-private.h %reldir%/experiment-run.c %reldir%/experiment-faults.c \
	%reldir%/run-options.h %reldir%/run-options.c \
	$(NULL)
