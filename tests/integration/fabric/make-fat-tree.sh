#!/usr/bin/env bash
# Writes an ibsim net file (ibnetdiscover's own text format) for a two-level fat tree:
# LEAVES leaf switches, SPINES spine switches (every leaf cabled to every spine), HOSTS nodes per
# leaf with one HCA each ("nodeNNN mlx5_0"). With DUAL=1 the last node of leaf 1 has a second HCA
# ("... mlx5_1") cabled to leaf 2: a node on two rails.
#   make-fat-tree.sh LEAVES SPINES HOSTS [DUAL] > net
# Switch descriptions follow Mellanox firmware ("MF0;leafNN:MQM8700/U1"), as on real fabrics.
set -euo pipefail
L=${1:?leaves} S=${2:?spines} H=${3:?hosts per leaf} DUAL=${4:-0}
width=$(( ${#L} > 2 ? ${#L} : 2 ))
nw=$(( ${#L} + ${#H} > 3 ? ${#L} + ${#H} : 3 ))
leaf() { printf "MF0;leaf%0${width}d:MQM8700/U1" "$1"; }
spine() { printf "MF0;spine%0${width}d:MQM8700/U1" "$1"; }
node() { printf "node%0${nw}d" $(( ($1 - 1) * H + $2 )); }
ports=$(( H + S + 1 ))
[ "$L" -gt "$ports" ] && ports=$L
for l in $(seq 1 "$L"); do
  printf 'Switch\t%d "%s"\n' "$ports" "$(leaf "$l")"
  for h in $(seq 1 "$H"); do printf '[%d]\t"%s mlx5_0"[1]\n' "$h" "$(node "$l" "$h")"; done
  for s in $(seq 1 "$S"); do printf '[%d]\t"%s"[%d]\n' $((H + s)) "$(spine "$s")" "$l"; done
  if [ "$DUAL" = 1 ] && [ "$l" = 2 ]; then printf '[%d]\t"%s mlx5_1"[1]\n' $((H + S + 1)) "$(node 1 "$H")"; fi
  echo
done
for s in $(seq 1 "$S"); do
  printf 'Switch\t%d "%s"\n' "$ports" "$(spine "$s")"
  for l in $(seq 1 "$L"); do printf '[%d]\t"%s"[%d]\n' "$l" "$(leaf "$l")" $((H + s)); done
  echo
done
for l in $(seq 1 "$L"); do
  for h in $(seq 1 "$H"); do
    printf 'Hca\t1 "%s mlx5_0"\n[1]\t"%s"[%d]\n\n' "$(node "$l" "$h")" "$(leaf "$l")" "$h"
  done
done
if [ "$DUAL" = 1 ]; then
  printf 'Hca\t1 "%s mlx5_1"\n[1]\t"%s"[%d]\n\n' "$(node 1 "$H")" "$(leaf 2)" $((H + S + 1))
fi
