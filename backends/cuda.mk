# SPDX-License-Identifier: MIT
# backends/cuda.mk - the measured side: the `profile` cost backend and `afdsim calibrate`
# (always built), the CUDA/NCCL measurement backend (--enable-cuda [--with-nccl]) or its stub.
# docs/backends/cuda.md explains the build; STYLE §2.5: a stub file, not #ifdef.
libafdsim_a_SOURCES += \
	%reldir%/profile.h %reldir%/profile.c \
	%reldir%/calibrate-nodes.h %reldir%/calibrate-nodes.c \
	%reldir%/cuda/cuda-calibrate.h \
	%reldir%/cuda/cuda-exec.h %reldir%/cuda/exec-plan.c \
	%reldir%/validate-stats.h %reldir%/validate-stats.c \
	%reldir%/fit.h %reldir%/fit.c \
	$(NULL)
if ENABLE_CUDA
libafdsim_a_SOURCES += \
	%reldir%/cuda/cuda-check.h %reldir%/cuda/cuda-private.h \
	%reldir%/cuda/cuda-context.c %reldir%/cuda/cuda-gemm.c \
	%reldir%/cuda/cuda-attention.c %reldir%/cuda/cuda-calibrate.c \
	%reldir%/cuda/cuda-backend.c \
	%reldir%/cuda/exec-private.h %reldir%/cuda/cuda-exec.c \
	$(NULL)
if WITH_NCCL
libafdsim_a_SOURCES += %reldir%/cuda/cuda-nccl.c %reldir%/cuda/exec-nccl.c
# nccl-probe: nccl-tests' timing in one-thread (-g G) and thread-per-GPU form, for the
# harness measurements of docs/models/collectives.md; not part of afdsim (no GLib).
noinst_PROGRAMS += nccl-probe
nccl_probe_SOURCES = %reldir%/cuda/nccl-probe.c
nccl_probe_CPPFLAGS = -I$(top_builddir) $(CUDA_CPPFLAGS) $(NCCL_CPPFLAGS)
nccl_probe_LDFLAGS = $(NCCL_LDFLAGS) $(CUDA_LDFLAGS)
nccl_probe_LDADD = $(NCCL_LIBS) $(CUDA_LIBS) -lpthread
else
libafdsim_a_SOURCES += %reldir%/cuda/cuda-nccl-none.c %reldir%/cuda/exec-nccl-none.c
endif
else
libafdsim_a_SOURCES += %reldir%/cuda-stub.c
endif
EXTRA_DIST += %reldir%/cuda/nccl-probe.c %reldir%/cuda/cuda-nccl.c %reldir%/cuda/cuda-nccl-none.c %reldir%/cuda-stub.c
EXTRA_DIST += %reldir%/cuda/exec-private.h %reldir%/cuda/cuda-exec.c %reldir%/cuda/exec-nccl.c \
	%reldir%/cuda/exec-nccl-none.c
