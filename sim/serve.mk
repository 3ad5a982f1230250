# SPDX-License-Identifier: MIT
# sim/serve.mk - request-level serving (`afdsim serve`): workload, step-time cache, scheduler.
libafdsim_a_SOURCES += \
	%reldir%/serve-workload.h %reldir%/serve-workload.c \
	%reldir%/serve-steps.h %reldir%/serve-steps.c \
	%reldir%/serve.h %reldir%/serve.c \
	$(NULL)
