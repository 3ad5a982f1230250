#!/bin/sh
# SPDX-License-Identifier: MIT
# check-symbols.sh - every global symbol defined in libafdsim.a starts with afd_ (or is a
# gcov/sanitizer artefact), so the library can never clash with a user's code.
set -u
lib=${top_builddir:-.}/libafdsim.a
[ -f "$lib" ] || { echo "check-symbols: $lib not built"; exit 1; }
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF >= 3 { print $3 }' \
      | grep -v -E '^(afd_|_?_?gcov|__asan|__ubsan|__odr_asan|__sancov)' | sort -u)
if [ -n "$bad" ]; then
  echo "check-symbols: global symbols without the afd_ prefix in $lib:"
  echo "$bad"
  exit 1
fi
echo "check-symbols: ok ($(nm -g --defined-only "$lib" | awk 'NF >= 3' | wc -l) symbols)"
