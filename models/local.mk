# SPDX-License-Identifier: MIT
# models/local.mk - LLM operators, routing, memory footprint and `show model`.
# models/roofline.mk and models/strategies.mk hold the other areas.
libafdsim_a_SOURCES += \
	%reldir%/ops.h %reldir%/ops.c \
	%reldir%/routing.h %reldir%/routing.c \
	%reldir%/memory.h %reldir%/memory.c \
	%reldir%/cost-ops.h %reldir%/cost-ops.c \
	$(NULL)
