# SPDX-License-Identifier: MIT
# sim/network.mk - GPU specs, clusters, the network model (analytic and flow-level) and
# NCCL-like collectives, with their commands (issue #3).
libafdsim_a_SOURCES += \
	%reldir%/gpu-spec.h %reldir%/gpu-spec.c \
	$(NULL)
libafdsim_a_SOURCES += \
	%reldir%/cluster.h %reldir%/cluster.c \
	$(NULL)
libafdsim_a_SOURCES += \
	%reldir%/network.h %reldir%/network.c %reldir%/netsim.c \
	$(NULL)
libafdsim_a_SOURCES += \
	%reldir%/collective.h %reldir%/collective-private.h %reldir%/collective.c \
	%reldir%/collective-flow.c \
	$(NULL)
