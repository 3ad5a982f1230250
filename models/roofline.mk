# SPDX-License-Identifier: MIT
# models/roofline.mk - the AFD communication-level roofline (docs/models/afd-roofline.md)
# and its command, `afdsim roofline`.
libafdsim_a_SOURCES += \
	%reldir%/roofline.h %reldir%/roofline.c \
	$(NULL)
