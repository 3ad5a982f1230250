# SPDX-License-Identifier: MIT
# tests/outputs.mk - issue #8: every output file survives unwritable paths and a full disk
# (tests/test-outputs.sh), and resource limits refuse huge inputs up front
# (tests/test-limits.sh); docs/reliability.md.
# Issue #14: outputs never clobber inputs, special files or each other; inputs cannot hang,
# overflow the clock or come out silently wrong (tests/test-no-clobber.sh).
TESTS += %reldir%/test-outputs.sh %reldir%/test-limits.sh %reldir%/test-no-clobber.sh
EXTRA_DIST += %reldir%/test-outputs.sh %reldir%/test-limits.sh %reldir%/test-no-clobber.sh
