# SPDX-License-Identifier: MIT
# sim/faults.mk - fault injection: fault specs and the inputs they derive (issue #8).
libafdsim_a_SOURCES += \
	%reldir%/fault.h %reldir%/fault.c \
	$(NULL)
