# SPDX-License-Identifier: MIT
# sim/local.mk - the engine core, config loading, writers, command-line number parsing. sim/network.mk holds the
# cluster/network/collective part.
libafdsim_a_SOURCES += \
	%reldir%/types.h %reldir%/types.c \
	%reldir%/random.h %reldir%/random.c \
	%reldir%/error.h %reldir%/error.c \
	%reldir%/json.h %reldir%/json.c \
	%reldir%/files.h %reldir%/files.c \
	%reldir%/cli.h %reldir%/cli.c \
	%reldir%/duration.h %reldir%/duration.c \
	%reldir%/provenance.h %reldir%/provenance.c \
	%reldir%/experiment-keys.h %reldir%/experiment-keys.c \
	%reldir%/data-dir.h %reldir%/data-dir.c \
	$(NULL)

