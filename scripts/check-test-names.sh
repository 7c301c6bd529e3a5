#!/usr/bin/env bash
# Fails when a Catch2 TEST_CASE name contains ';': catch_discover_tests splits such a name into
# several ctest entries that match no case. Run by ctest (label lint) and by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'tests/*.cpp' 'tests/*.hpp')
# Whole files (-0): a name may start on the line after TEST_CASE(.
report=$(perl -0ne '
  while (/TEST_CASE(?:_METHOD)?\(\s*(?:\w+,\s*)?"((?:[^"\\]|\\.)*)"/g) {
    $n++; print "BAD $ARGV: \"$1\"\n" if index($1, ";") >= 0;
  }
  END { print "COUNT $n\n" }' "${files[@]}")
if grep -q '^BAD' <<<"$report"; then
  echo "Catch2 test names must not contain ';' (ctest splits them into names that match nothing):"
  grep '^BAD' <<<"$report" | sed 's/^BAD /  /'
  exit 1
fi
echo "no ';' in $(sed -n 's/^COUNT //p' <<<"$report") Catch2 test names"
