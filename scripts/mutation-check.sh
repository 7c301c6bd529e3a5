#!/usr/bin/env bash
# Proves the unit tests can fail: applies one-line mutations, one at a time, to a scratch copy of
# the sources, rebuilds the unit-test binary there and runs the tests that guard the mutated
# rule. Fails unless every mutation turns at least one of them red.
#
#   scripts/mutation-check.sh [SCRATCH_DIR]      (default: build/mutation)
#
# The scratch copy keeps the repository's layout (SCRATCH/src, built in SCRATCH/src/build/dev)
# so ccache (CCACHE_BASEDIR above the checkout) serves its first build from the dev build's
# objects; later runs rebuild only what changed. Not part of scripts/run-tests.sh: a third
# build of the unit tests plus one recompile and relink per mutation is ~10-20 min on a busy
# 2-core host (docs/testing.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/build/mutation}
src=$work/src
mkdir -p "$src"

# Sync the scratch copy: only files whose content differs are copied, and they get a fresh
# mtime, so ninja rebuilds exactly those (never trusting an object built from a mutant).
echo "mutation-check: syncing sources into $src"
(cd "$root" && git ls-files --cached --others --exclude-standard -z) |
  while IFS= read -r -d '' f; do
    [[ -f $root/$f ]] || continue
    if ! cmp -s "$root/$f" "$src/$f"; then
      mkdir -p "$(dirname "$src/$f")"
      cp "$root/$f" "$src/$f"
    fi
  done

build() {
  if [[ ! -f $src/build/dev/build.ninja ]]; then
    (cd "$src" && cmake --preset dev -G Ninja -DNETPLACE_BUILD_BENCH=OFF >/dev/null)
  fi
  cmake --build "$src/build/dev" --target netplace_unit_tests -j"${NETPLACE_JOBS:-2}" >"$work/build.log" 2>&1
}
unit=$src/build/dev/tests/netplace_unit_tests
run_tests() {  # $1: Catch2 test spec; on failure prints the failed cases, one per line
  local out
  if out=$(NETPLACE_SHARED_DATA="${NETPLACE_SHARED_DATA:-$root/../shared/data}" \
             "$unit" "$1" -r junit 2>&1); then
    return 0
  fi
  # The name is kept before the second match: it would reset $1 to "failure".
  perl -0ne 'for (split /<testcase /) { next unless /^[^>]*\bname="([^"]*)"/; my $n = $1; print "\"$n\"\n" if /<(?:failure|error)\b/ }' <<<"$out"
  return 1
}

echo "mutation-check: building the unmutated scratch copy"
build || { echo "mutation-check: the scratch copy does not build, see $work/build.log"; exit 1; }

# file | Catch2 test spec | original line (exact, once in the file) | mutant | what it breaks
mutations=(
  "topology/network/src/estimator.cpp|[network][estimator]|    if (now - *r.last_success > p.max_age_s) return LinkHealth::stale;|    if (now - *r.last_success < p.max_age_s) return LinkHealth::stale;|estimator: stale check inverted"
  "topology/network/src/throughput.cpp|[network][probe]|            std::fabs(e - estimates_[k - 1 - rule_.stable_windows]) / e < rule_.stable_change)|            std::fabs(e - estimates_[k - 1 - rule_.stable_windows]) / e > rule_.stable_change)|probe: bandwidth stop rule inverted"
  "policies/src/load_inputs.cpp|[policies][inputs]|                      [&](const SiteLoad& l) { return l.age_s && *l.age_s > src.max_state_age_s; });|                      [&](const SiteLoad& l) { return l.age_s && *l.age_s < src.max_state_age_s; });|loader: stale site-load filter inverted"
  "policies/src/engine.cpp|[policies]|            r.sites ? contains(*r.sites, c.site->name) : r.dataset->site == c.site->name;|            r.sites ? !contains(*r.sites, c.site->name) : r.dataset->site == c.site->name;|engine: residency check inverted"
  "policies/src/engine.cpp|[policies]|    if (contains(f.acl->deny, site)) return fmt::format(\"account '{}' may not use this site\", acct);|    if (!contains(f.acl->deny, site)) return fmt::format(\"account '{}' may not use this site\", acct);|engine: account ACL deny inverted"
  "tools/sim/src/simulator.cpp|EASY*|                    shadow = std::max(end, now_);|                    shadow = std::numeric_limits<double>::infinity();|simulator: EASY shadow time (head reservation) ignored"
  "topology/network/src/link_state.cpp|[peers]|            if (!peer_link_row_ok(r, remap.size(), nsrc)) throw peer_links_bad_row(name, k);|            if (false) throw peer_links_bad_row(name, k);|decision path: peers-file rows used unchecked"
  "topology/network/src/link_state.cpp|[network][link_state]|            if (which == LinkPairs::known && !row && !recorded && !statics(i, j)) return;|            if (which == LinkPairs::known && !row && !statics(i, j)) return;|placement links: own records left out of the known pairs"
  "policies/src/inputs.cpp|[policies][inputs]|    m.rest_defaults_ = rest == Rest::defaults && n >= 2;|    m.rest_defaults_ = false;|placement links: unknown pairs not the federation's defaults"
  "plugins/slurm/src/node_cache.cpp|[slurm][cache]|           *plan_mtime >= *topology_mtime;|           *plan_mtime < *topology_mtime;|SPANK: plan cache validity inverted"
)

echo "mutation-check: the guarding tests pass unmutated"
for m in "${mutations[@]}"; do
  IFS='|' read -r file spec _ <<<"$m"
  run_tests "$spec" >/dev/null || { echo "mutation-check: $spec fails unmutated"; exit 1; }
done

survived=0
for m in "${mutations[@]}"; do
  IFS='|' read -r file spec original mutant what <<<"$m"
  count=$(grep -cxF -- "$original" "$src/$file" || true)
  if [[ $count != 1 ]]; then
    echo "STALE    $what: the original line occurs $count times in $file (update this list)"
    survived=1
    continue
  fi
  ORIG="$original" MUT="$mutant" perl -i -pe 'if ($_ eq "$ENV{ORIG}\n") { $_ = "$ENV{MUT}\n" }' "$src/$file"
  if ! build; then
    echo "NOBUILD  $what: the mutant does not compile (see $work/build.log)"
    survived=1
  elif failed=$(run_tests "$spec"); then
    echo "SURVIVED $what ($file): $spec stays green"
    survived=1
  else
    echo "KILLED   $what ($file) by: $(paste -sd, <<<"$failed")"
  fi
  cp "$root/$file" "$src/$file"  # fresh mtime: the next build recompiles the original
done
build || true
if [[ $survived != 0 ]]; then
  echo "mutation-check: FAILED (a mutation survived or could not be applied)"
  exit 1
fi
echo "mutation-check: all ${#mutations[@]} mutations killed"
