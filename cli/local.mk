# SPDX-License-Identifier: MIT
# cli/local.mk - every afdsim command (cli/cmd-*.c), the command table and option parsing
# (cli/cli.c), and the composition root cli/main.c. cli/ may include sim/, models/ and
# backends/; nothing outside cli/ includes cli/ (tests/check-layering.sh).
libafdsim_a_SOURCES += \
	%reldir%/cli.h %reldir%/cli.c \
	%reldir%/commands.h \
	%reldir%/cmd-demo.c %reldir%/cmd-bench-engine.c \
	%reldir%/cmd-run.c %reldir%/cmd-bench-strategies.c \
	%reldir%/cmd-sweep.c %reldir%/cmd-serve.c \
	%reldir%/cmd-collective.c %reldir%/cmd-bench-network.c %reldir%/cmd-gen-cluster.c \
	%reldir%/cmd-show-model.c %reldir%/cmd-cost.c %reldir%/cmd-roofline.c \
	%reldir%/cmd-calibrate.c %reldir%/cmd-validate.c %reldir%/cmd-fit.c \
	$(NULL)

bin_PROGRAMS += afdsim
afdsim_SOURCES = %reldir%/main.c
afdsim_LDADD = $(afd_libs)
