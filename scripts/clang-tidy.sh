#!/usr/bin/env bash
# clang-tidy 14 with the repository's .clang-tidy (a short list of bug-finding checks, each
# justified there) over the project's C++ sources, using a configured build's
# compile_commands.json. Not run by ctest: it parses every translation unit again, ~15 min on a
# busy 2-core host. Usage:
#   scripts/clang-tidy.sh [BUILD_DIR] [FILE...]     (default: build/dev, every source file)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
shift || true
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
[[ -n $tidy ]] || { echo "clang-tidy not installed (scripts/install-deps.sh test)"; exit 1; }
[[ -f $build/compile_commands.json ]] || { echo "$build/compile_commands.json missing: scripts/build.sh dev first"; exit 1; }
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files --cached --others --exclude-standard \
    'core/*.cpp' 'policies/*.cpp' 'topology/*.cpp' 'plugins/*.cpp' 'tools/*.cpp')
fi
status=0
for f in "${files[@]}"; do
  "$tidy" -p "$build" --quiet "$f" 2>/dev/null || status=1
done
[[ $status == 0 ]] && echo "clang-tidy: ${#files[@]} files clean"
exit $status
