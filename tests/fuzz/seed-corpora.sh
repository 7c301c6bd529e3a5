#!/usr/bin/env bash
# (Re)creates the seed part of tests/fuzz/corpus/ from the files the project ships (etc/) and its
# golden inputs, so the fuzzers start from real, valid documents. Reproducers and inputs the
# campaign keeps (scripts/fuzz-campaign.sh) live next to the seeds and are left alone.
# Usage: tests/fuzz/seed-corpora.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
c=tests/fuzz/corpus
seed() {  # seed HARNESS FILE...
  local h=$1
  shift
  mkdir -p "$c/$h"
  for f in "$@"; do
    cp "$f" "$c/$h/seed-$(echo "$f" | tr '/' '_')"
  done
}
seed federation etc/federation.yaml etc/sim/lcg20-federation.yaml tests/golden/policies/fed.yaml \
  tests/golden/sim/solo.yaml
seed policy etc/policy.yaml etc/policies/*.yaml tests/golden/policies/scenarios/*/policy.yaml \
  tests/golden/sim/policies.yaml tests/golden/policies/bad/bad-*.yaml \
  tests/golden/policies/bad/unknown-*.yaml tests/golden/policies/bad/not-a-list.yaml
seed job_yaml etc/job.yaml tests/golden/policies/scenarios/*/job.yaml \
  tests/golden/policies/bad/job-*.yaml
seed job_json tests/golden/policies/scenarios/json-job/job.json tests/golden/policies/bad/job-syntax.json
seed site_state tests/golden/policies/scenarios/*/sites.json
seed link_state tests/golden/policies/scenarios/*/links.json
seed swf tests/golden/sim/easy.swf tests/golden/sim/broken.swf
seed data_model etc/sim/lcg-data-model.yaml tests/golden/sim/bad-model.yaml
seed catalog etc/datasets.yaml
seed ibnetdiscover tests/golden/fabric/fat-tree-4x2.ibnetdiscover
# Hand-made (no shipped file of these kinds): ledger/, replicas/, peer_links/ (binary rows, made
# with Python's struct from the layout in topology/network/src/peer_links.cpp), snapshot/ (a
# signed payload; the harness signs it), directives/, units/, cpulist/, slurm_options/,
# plugstack_args/, controllers/, import_*/.
