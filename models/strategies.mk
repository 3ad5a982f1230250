# SPDX-License-Identifier: MIT
# models/strategies.mk - deployment strategies (TP x PP, EP, MA Separation, AFD) and their
# registry (issue #5; docs/models/strategies.md).
libafdsim_a_SOURCES += \
	%reldir%/placement.h %reldir%/placement.c \
	%reldir%/strategy-masep.c \
	%reldir%/strategy-tppp.c \
	%reldir%/strategy-ep.c \
	%reldir%/strategy-afd.c \
	%reldir%/registry.h %reldir%/registry.c \
	$(NULL)
