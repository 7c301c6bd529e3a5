#!/usr/bin/env bash
# Configures and builds one CMake preset (default: dev), installing build dependencies first.
# Usage: scripts/build.sh [dev|release|asan|fuzz]  (fuzz: the libFuzzer harnesses only)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
scripts/install-deps.sh build
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" -G Ninja >/dev/null
fi
cmake --build --preset "$preset" -j"$(nproc)"
