# SPDX-License-Identifier: MIT
# sim/sweep.mk - `afdsim sweep`: axes, points, parallel and MPI runs, resumable JSONL/CSV
# output (issue #6). MPI only in sim/mpi-sweep.c, built with --with-mpi; sim/mpi-stub.c otherwise.
libafdsim_a_SOURCES += \
	%reldir%/sweep.h %reldir%/sweep.c %reldir%/sweep-csv.c \
	$(NULL)
if WITH_MPI
libafdsim_a_SOURCES += %reldir%/mpi-sweep.c
EXTRA_DIST += %reldir%/mpi-stub.c
else
libafdsim_a_SOURCES += %reldir%/mpi-stub.c
EXTRA_DIST += %reldir%/mpi-sweep.c
endif
