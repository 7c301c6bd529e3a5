#!/usr/bin/env bash
# Runs `netplace topology show --json` (and `plan` where an expectation exists) on every hwloc
# XML in $NETPLACE_SHARED_DATA/hwloc and compares with expected/<file>.show.json and
# expected/<file>.plan-<T>x<G>.json. An XML without an expectation fails the test: every
# shared topology must be checked. Exit 77 (skip) when the shared data is absent.
set -uo pipefail
netplace=$1 subset=$2 expected=$3
data=${NETPLACE_SHARED_DATA:-}/hwloc
if [[ -z ${NETPLACE_SHARED_DATA:-} || ! -d $data ]]; then
  echo "SKIP: no hwloc XMLs at '${data}' (set NETPLACE_SHARED_DATA to ../shared/data)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 checked=0
for xml in "$data"/*.xml; do
  name=$(basename "$xml" .xml)
  if [[ ! -f $expected/$name.show.json ]]; then
    echo "FAIL $name: no expected/$name.show.json (derive it from lstopo, see docs/topology.md)"
    fail=1; continue
  fi
  if ! "$netplace" topology show --input "$xml" --json >"$tmp/show.json" 2>"$tmp/err"; then
    echo "FAIL $name: netplace topology show failed: $(cat "$tmp/err")"; fail=1; continue
  fi
  if ! "$subset" "$expected/$name.show.json" "$tmp/show.json" >"$tmp/diff"; then
    echo "FAIL $name (show):"; sed 's/^/    /' "$tmp/diff"; fail=1
  else
    checked=$((checked + 1))
  fi
  for plan in "$expected/$name".plan-*.json; do
    [[ -e $plan ]] || continue
    spec=${plan##*.plan-}; spec=${spec%.json}; tasks=${spec%x*}; gpus=${spec#*x}
    if ! "$netplace" topology plan --input "$xml" --tasks "$tasks" --gpus-per-task "$gpus" --json \
        >"$tmp/plan.json" 2>"$tmp/err"; then
      echo "FAIL $name (plan $spec): $(cat "$tmp/err")"; fail=1; continue
    fi
    if ! "$subset" "$plan" "$tmp/plan.json" >"$tmp/diff"; then
      echo "FAIL $name (plan $spec):"; sed 's/^/    /' "$tmp/diff"; fail=1
    else
      checked=$((checked + 1))
    fi
  done
done
# Impossible plans: exit status 2 and one line naming the input.
jwb=$data/psmgmt-topo.jwb0004.xml
if [[ -f $jwb ]]; then
  "$netplace" topology plan --input "$jwb" --tasks 49 >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [[ $rc -ne 2 || $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -q "psmgmt-topo.jwb0004.xml: 49 tasks but only 48 cores" "$tmp/err"; then
    echo "FAIL: 49 tasks on JUWELS Booster: want exit 2 and one line, got $rc: $(cat "$tmp/err")"; fail=1
  fi
  "$netplace" topology plan --input "$jwb" --tasks 1 --gpus-per-task 5 >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [[ $rc -ne 2 ]] || ! grep -q "only 4 GPUs" "$tmp/err"; then
    echo "FAIL: 5 GPUs per task on JUWELS Booster: want exit 2, got $rc: $(cat "$tmp/err")"; fail=1
  fi
fi
printf '<topology><object type="Machine">' >"$tmp/broken.xml"
"$netplace" topology show --input "$tmp/broken.xml" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [[ $rc -ne 2 || $(wc -l <"$tmp/err") -ne 1 ]] || ! grep -q "broken.xml" "$tmp/err"; then
  echo "FAIL: truncated XML: want exit 2 and one line naming the file, got $rc: $(cat "$tmp/err")"; fail=1
fi
echo "checked $checked expectations over $(ls "$data"/*.xml | wc -l) XML files"
exit $fail
