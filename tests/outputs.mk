# SPDX-License-Identifier: MIT
# tests/outputs.mk - issue #8: every output file survives unwritable paths and a full disk
# (tests/test-outputs.sh), and resource limits refuse huge inputs up front
# (tests/test-limits.sh); docs/reliability.md.
TESTS += %reldir%/test-outputs.sh %reldir%/test-limits.sh
EXTRA_DIST += %reldir%/test-outputs.sh %reldir%/test-limits.sh
