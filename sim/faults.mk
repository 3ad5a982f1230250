# SPDX-License-Identifier: MIT
# sim/faults.mk - fault injection (specs, derived inputs) and the simulator's resource budget
# (issue #8).
libafdsim_a_SOURCES += \
	%reldir%/fault.h %reldir%/fault.c \
	%reldir%/limits.h %reldir%/limits.c \
	$(NULL)
