#!/usr/bin/env bash
# The whole test suite: installs every dependency (build + real Slurm, nginx, ...), builds the
# dev and asan presets and runs ctest on each. Stops at the first failing preset.
# NETPLACE_TEST_PRESETS="dev" limits the presets; extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
for preset in ${NETPLACE_TEST_PRESETS:-dev asan}; do
  echo "=== netplace tests: preset $preset ==="
  scripts/build.sh "$preset"
  ctest --preset "$preset" -j"$(nproc)" --timeout 900 "$@"
done
