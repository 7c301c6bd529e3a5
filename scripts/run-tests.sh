#!/usr/bin/env bash
# The whole test suite: installs every dependency (build + real Slurm, nginx, ...), builds the
# dev and asan presets and runs ctest on each, then builds the fuzz preset's libFuzzer harnesses
# (clang-14, ASan + UBSan; only the harnesses and the libraries they test) and runs its `fuzz`
# tests: every corpus replayed, each harness fuzzed for NETPLACE_FUZZ_SECONDS (4 s; see
# docs/fuzzing.md). Stops at the first failing preset.
# NETPLACE_TEST_PRESETS="dev" limits the presets; extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
for preset in ${NETPLACE_TEST_PRESETS:-dev asan fuzz}; do
  echo "=== netplace tests: preset $preset ==="
  scripts/build.sh "$preset"
  ctest --preset "$preset" -j"$(nproc)" --timeout 900 "$@"
done
