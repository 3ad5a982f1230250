# SPDX-License-Identifier: MIT
# sim/engine.mk - the discrete-event engine, GPU streams, the trace writer and their commands.
libafdsim_a_SOURCES += \
	%reldir%/engine.h %reldir%/engine.c \
	%reldir%/event-queue.h %reldir%/event-queue.c \
	%reldir%/gpu-set.h %reldir%/gpu-set.c \
	%reldir%/trace.h %reldir%/trace.c \
	$(NULL)
