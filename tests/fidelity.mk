# SPDX-License-Identifier: MIT
# tests/fidelity.mk - predicted vs published nccl-tests busbw (issue #3 acceptance: median
# |error| <= 10 %; analytic 9.4 %, flow 13.8 % held to 15 %: docs/models/collectives.md).
TESTS += %reldir%/test-fidelity.sh
EXTRA_DIST += %reldir%/test-fidelity.sh
