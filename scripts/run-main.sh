#!/usr/bin/env bash
# The main job on the built-in default: place the example job on the example federation with
# the example policy and explain the choice. Installs dependencies and builds as needed.
# Extra arguments go to `netplace place` (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh dev >&2
exec build/dev/tools/netplace/netplace place --federation etc/federation.yaml \
  --policy etc/policy.yaml --job etc/job.yaml --explain "$@"
