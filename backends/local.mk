# SPDX-License-Identifier: MIT
# backends/local.mk - cost providers. backends/cuda.mk holds the optional CUDA/NCCL part.
libafdsim_a_SOURCES += \
	%reldir%/registry.h %reldir%/registry.c \
	%reldir%/analytic.c \
	$(NULL)
