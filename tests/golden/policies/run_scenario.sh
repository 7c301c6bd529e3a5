#!/usr/bin/env bash
# One golden placement scenario through the real CLI:
#   run_scenario.sh NETPLACE GOLDEN_CHECK SCENARIO_DIR [SOURCE_DIR]
# The directory holds job.yaml (or job.json), optionally federation.yaml (else ../../fed.yaml),
# or a file `use-etc`: then SOURCE_DIR/etc/{federation,policy,job}.yaml (the README's example);
# policy.yaml, links.json, sites.json, catalog.yaml (with transfers.json / replicas.json beside
# it), args (extra CLI arguments), and the expectations:
#   expect.json  subset the --json output must match (numbers computed by hand)
#   expect.txt   lines that must each appear in the --explain output (stdout + stderr)
#   absent.txt   lines that must not appear in it (a link the job's data does not take, ...)
#   expect-explain.json  subset the --json --explain output must match
#   exit         expected exit status (default 0)
set -euo pipefail
netplace=$1 check=$2 dir=$3 src=${4:-}
fed=$dir/federation.yaml; [[ -f $fed ]] || fed=$dir/../../fed.yaml
job=$dir/job.yaml; [[ -f $job ]] || job=$dir/job.json
policy=$dir/policy.yaml
if [[ -f $dir/use-etc ]]; then fed=$src/etc/federation.yaml job=$src/etc/job.yaml policy=$src/etc/policy.yaml; fi
args=(place --federation "$fed" --job "$job" --now 1764000000)
[[ -f $policy ]] && args+=(--policy "$policy")
# No links.json: point at a file that cannot exist so static figures are used, whatever the host has.
if [[ -f $dir/links.json ]]; then args+=(--links "$dir/links.json"); else args+=(--links "$dir/no-such-links.json"); fi
[[ -f $dir/sites.json ]] && args+=(--sites-state "$dir/sites.json")
[[ -f $dir/args ]] && read -r -a extra < "$dir/args" && args+=("${extra[@]}")
want_exit=0; [[ -f $dir/exit ]] && want_exit=$(cat "$dir/exit")

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# catalog.yaml: the dataset catalog, its @DIR@ replaced by the scenario's directory (where its
# staging state, transfers.json and replicas.json, lives).
if [[ -f $dir/catalog.yaml ]]; then
  sed "s#@DIR@#$dir#g" "$dir/catalog.yaml" > "$tmp/catalog.yaml"
  args+=(--catalog "$tmp/catalog.yaml")
fi
status=0
if [[ -f $dir/expect.json ]]; then
  "$netplace" "${args[@]}" --json > "$tmp/out.json" 2> "$tmp/err.txt" || status=$?
  if [[ $status != "$want_exit" ]]; then
    echo "FAIL: exit status $status, expected $want_exit"; cat "$tmp/err.txt"; exit 1
  fi
  if ! "$check" "$dir/expect.json" "$tmp/out.json"; then
    echo "--- actual JSON:"; cat "$tmp/out.json"; exit 1
  fi
fi
# --json --explain: the same decision plus the explanation (expect-explain.json: a subset).
if [[ -f $dir/expect-explain.json ]]; then
  status=0
  "$netplace" "${args[@]}" --json --explain > "$tmp/out-explain.json" 2> "$tmp/err.txt" || status=$?
  if [[ $status != "$want_exit" ]]; then
    echo "FAIL: --json --explain exit status $status, expected $want_exit"; cat "$tmp/err.txt"; exit 1
  fi
  if ! "$check" "$dir/expect-explain.json" "$tmp/out-explain.json"; then
    echo "--- actual JSON (--json --explain):"; cat "$tmp/out-explain.json"; exit 1
  fi
fi
status=0
"$netplace" "${args[@]}" --explain > "$tmp/explain.txt" 2>&1 || status=$?
if [[ $status != "$want_exit" ]]; then
  echo "FAIL: --explain exit status $status, expected $want_exit"; cat "$tmp/explain.txt"; exit 1
fi
if [[ -f $dir/expect.txt ]]; then
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    if ! grep -qF -- "$line" "$tmp/explain.txt"; then
      echo "FAIL: explanation lacks: $line"; echo "--- actual:"; cat "$tmp/explain.txt"; exit 1
    fi
  done < "$dir/expect.txt"
fi
if [[ -f $dir/absent.txt ]]; then
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    if grep -qF -- "$line" "$tmp/explain.txt"; then
      echo "FAIL: explanation has what it must not: $line"; echo "--- actual:"; cat "$tmp/explain.txt"; exit 1
    fi
  done < "$dir/absent.txt"
fi
cat "$tmp/explain.txt"
