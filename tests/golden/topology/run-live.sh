#!/usr/bin/env bash
# Live discovery on the machine running the tests: netplace's counts must agree with nproc and
# with hwloc's own command-line tools.
set -uo pipefail
netplace=$1 subset=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$netplace" topology show --json >"$tmp/host.json" || { echo "FAIL: netplace topology show"; exit 1; }
get() { "$subset" --get "$1" "$tmp/host.json"; }
fail=0
want() {  # what, netplace's value, reference value
  if [[ $2 != "$3" ]]; then echo "FAIL $1: netplace says $2, reference says $3"; fail=1
  else echo "ok   $1 = $2"; fi
}
want "PUs vs nproc" "$(get pus)" "$(nproc)"
if command -v hwloc-calc >/dev/null; then
  want "packages vs hwloc-calc" "$(get packages)" "$(hwloc-calc --number-of package all)"
  cores=$(hwloc-calc --number-of core all); [[ $cores -eq 0 ]] && cores=$(hwloc-calc --number-of pu all)
  want "cores vs hwloc-calc" "$(get cores)" "$cores"
  want "PUs vs hwloc-calc" "$(get pus)" "$(hwloc-calc --number-of pu all)"
  want "NUMA nodes vs hwloc-calc" "$(( $(get numa_nodes) + $(get memory_numa_nodes) ))" \
       "$(hwloc-calc --number-of numa all)"
else
  echo "note: hwloc-calc not installed (package hwloc-nox); only nproc compared"
fi
if command -v lstopo-no-graphics >/dev/null; then
  want "PUs vs lstopo" "$(get pus)" "$(lstopo-no-graphics --only pu | wc -l)"
  want "cores vs lstopo" "$(get cores)" "$(lstopo-no-graphics --only core | wc -l | sed "s/^0$/$(get pus)/")"
fi
exit $fail
