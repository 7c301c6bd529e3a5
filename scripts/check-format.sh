#!/usr/bin/env bash
# Fails when a C++ file differs from the repository's .clang-format (clang-format 14, Debian's
# clang-format package). Fix with: clang-format -i FILE. Run by ctest (label lint) and by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $cf ]]; then
  echo "clang-format not installed (scripts/install-deps.sh build)"; exit 1
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.c')
if ! "$cf" --dry-run -Werror "${files[@]}"; then
  echo "unformatted C++ above: run clang-format -i on those files"
  exit 1
fi
echo "${#files[@]} C++ files formatted as .clang-format says"
