#!/usr/bin/env bash
# Turns a real topology.conf (topology/tree) into an ibsim net file with the same cabling, so the
# fabric of a real machine can be simulated, discovered with ibnetdiscover and turned back into a
# topology.conf by netplace. Every node gets one HCA "<node> mlx5_0" on each switch listing it;
# every Switches= entry becomes one cable. Hostlists are expanded by Slurm itself
# (`scontrol show hostnames`, so SLURM_CONF must name any valid slurm.conf).
#   topology-conf-to-net.sh topology.conf > net
set -euo pipefail
conf=${1:?topology.conf}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# One "switch kind member" line per child, in file order.
grep -E '^[[:space:]]*SwitchName=' "$conf" | while read -r line; do
  name=$(sed -E 's/.*SwitchName=([^ ]+).*/\1/' <<<"$line")
  for kind in Nodes Switches; do
    expr=$(grep -oE "(^| )$kind=[^ ]+" <<<"$line" | sed -E "s/^ ?$kind=//" || true)
    [ -n "$expr" ] || continue
    timeout 10 scontrol show hostnames "$expr" | sed "s/^/$name $kind /"
  done
done >"$tmp"
awk '
  { sw[$1] = 1; if (!($1 in order)) { order[$1] = ++nsw; names[nsw] = $1 }
    nchild[$1]++; child[$1, nchild[$1]] = $3; kind[$1, nchild[$1]] = $2
    if ($2 == "Switches") { nparent[$3]++; parent[$3, nparent[$3]] = $1; pidx[$3, $1] = nparent[$3] }
    else { hcas[++nh] = $3; hsw[nh] = $1; hport[nh] = nchild[$1] }
    cidx[$1, $3] = nchild[$1] }
  END {
    for (i = 1; i <= nsw; i++) {
      s = names[i]; ports = nchild[s] + nparent[s]
      printf "Switch\t%d \"%s\"\n", ports, s
      for (c = 1; c <= nchild[s]; c++) {
        m = child[s, c]
        if (kind[s, c] == "Nodes") printf "[%d]\t\"%s mlx5_0\"[1]\n", c, m
        else printf "[%d]\t\"%s\"[%d]\n", c, m, nchild[m] + pidx[m, s]
      }
      for (p = 1; p <= nparent[s]; p++) {
        up = parent[s, p]
        printf "[%d]\t\"%s\"[%d]\n", nchild[s] + p, up, cidx[up, s]
      }
      print ""
    }
    for (h = 1; h <= nh; h++)
      printf "Hca\t1 \"%s mlx5_0\"\n[1]\t\"%s\"[%d]\n\n", hcas[h], hsw[h], hport[h]
  }' "$tmp"
