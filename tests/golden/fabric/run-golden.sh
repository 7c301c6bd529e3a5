#!/usr/bin/env bash
# Golden checks for `netplace fabric topology` on a real ibnetdiscover dump (fat-tree-4x2: taken
# from ibsim running fat-tree-4x2.net). Expected files were written from the net file by hand:
# leafNN carries node[4NN-3 .. 4NN], both spines carry every leaf, node004's second HCA is on
# leaf02. Block syntax per Slurm's topology.conf(5): BlockName=<name> Nodes=<hostlist>.
#   run-golden.sh NETPLACE
set -uo pipefail
cli=${1:?netplace binary}
here=$(cd "$(dirname "$0")" && pwd)
dump=$here/fat-tree-4x2.ibnetdiscover
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check NAME EXPECTED-FILE ARGS...
  local name=$1 want=$2; shift 2
  if (cd "$here" && "$cli" fabric topology "$@") >"$tmp/out" 2>"$tmp/err" && diff -u "$want" "$tmp/out"; then
    echo "ok: $name"
  else
    echo "FAIL: $name"; cat "$tmp/err"; fails=$((fails + 1))
  fi
}
check tree "$here/expected/fat-tree-4x2.tree.conf" fat-tree-4x2.ibnetdiscover
check rail1 "$here/expected/fat-tree-4x2.rail1.tree.conf" fat-tree-4x2.ibnetdiscover --rail 1
check block "$here/expected/fat-tree-4x2.block.conf" fat-tree-4x2.ibnetdiscover --format block
check guid "$here/expected/fat-tree-4x2.guid.tree.conf" fat-tree-4x2.ibnetdiscover --switch-names guid
# stdin, and the output file written atomically
if "$cli" fabric topology -o "$tmp/t.conf" <"$dump" 2>/dev/null &&
   diff <(sed 's/from stdin/from fat-tree-4x2.ibnetdiscover/' "$tmp/t.conf") "$here/expected/fat-tree-4x2.tree.conf" >/dev/null; then
  echo "ok: stdin + --output"
else
  echo "FAIL: stdin + --output"; fails=$((fails + 1))
fi
# Errors: exit status 2, one line naming file:line:col.
bad() {  # bad NAME EXPECTED-SUBSTRING FILE ARGS...
  local name=$1 want=$2 rc; shift 2
  "$cli" fabric topology "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc = 2 ] && grep -qF -- "$want" "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; then
    echo "ok: $name -> $(cat "$tmp/err")"
  else
    echo "FAIL: $name (rc $rc): $(cat "$tmp/err")"; fails=$((fails + 1))
  fi
}
head -c 3000 "$dump" >"$tmp/truncated.txt"
bad truncated "truncated dump?" "$tmp/truncated.txt"
sed '60s/.*/garbage here/' "$dump" >"$tmp/garbage.txt"
bad unknown-line "garbage.txt:60:1: unknown line 'garbage here'" "$tmp/garbage.txt"
sed 's/# "MF0;spine01:MQM8700\/U1" base/# "" base/' "$dump" >"$tmp/nameless.txt"
bad nameless "nameless.txt:57:1: switch 'S-0000000000200004' has no name" "$tmp/nameless.txt"
bad pattern "needs a named group (?<node>...)" "$dump" --node-pattern '^(\S+)'
# gres --dir: one <node>.xml per node; identical nodes fold into one hostlist line each, as Slurm
# reads gres.conf (JUWELS Booster: 4 GPUs without a model, 4 HDR HCAs; DGX-2: 16 V100).
shared=${NETPLACE_SHARED_DATA:-}
if [ -n "$shared" ] && [ -f "$shared/hwloc/psmgmt-topo.jwb0004.xml" ]; then
  mkdir -p "$tmp/xmls"
  for n in jwb0001 jwb0002 jwb0003; do cp "$shared/hwloc/psmgmt-topo.jwb0004.xml" "$tmp/xmls/$n.xml"; done
  cp "$shared/hwloc/hwloc-nvidiaDGX2.xml" "$tmp/xmls/dgx01.xml"
  if "$cli" fabric gres --dir "$tmp/xmls" >"$tmp/gres.conf" 2>"$tmp/gres.err" &&
     [ "$(grep -c '^NodeName=jwb\[0001-0003\] Name=gpu File=/dev/nvidia[0-3] Cores=' "$tmp/gres.conf")" = 4 ] &&
     grep -qx 'NodeName=jwb\[0001-0003\] Name=nic File=/dev/infiniband/uverbs0 Cores=18-23' "$tmp/gres.conf" &&
     [ "$(grep -c '^NodeName=dgx01 Name=gpu Type=v100 ' "$tmp/gres.conf")" = 16 ] &&
     grep -qx '#   NodeName=jwb\[0001-0003\] Gres=gpu:4,nic:4' "$tmp/gres.conf" &&
     grep -qx '#   NodeName=dgx01 Gres=gpu:v100:16' "$tmp/gres.conf" &&
     [ "$(wc -l <"$tmp/gres.conf")" = 29 ]; then
    echo "ok: gres --dir (3 JUWELS Booster nodes folded, 1 DGX-2)"
  else
    echo "FAIL: gres --dir"; cat "$tmp/gres.conf" "$tmp/gres.err"; fails=$((fails + 1))
  fi
else
  echo "note: NETPLACE_SHARED_DATA/hwloc absent: gres --dir check skipped"
fi
echo "golden fabric: $fails failure(s)"
[ $fails = 0 ]
