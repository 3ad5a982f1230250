# SPDX-License-Identifier: MIT
# sim/workload.mk - the model architecture, the operator value and the cost-model interface.
libafdsim_a_SOURCES += \
	%reldir%/llm.h %reldir%/llm.c \
	%reldir%/op.h %reldir%/op.c \
	%reldir%/cost-model.h %reldir%/cost-model.c \
	$(NULL)
