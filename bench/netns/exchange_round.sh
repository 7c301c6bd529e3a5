#!/usr/bin/env bash
# Exchange round against PEERS peers (default "100 1000"), their signed snapshots served by one
# local nginx on loopback: wall time and bytes of a round when nothing changed (all 304) and when
# everything changed (all 200 + verify + merge), and the merge's share.
# usage: bench/netns/exchange_round.sh [BUILD_DIR] [PEERS...]
# Needs nginx (as for the netns tests); loopback only, no namespaces.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build/dev}
shift || true
PEERS=("${@:-100 1000}")
PEERS=(${PEERS[*]})
NETPLACE=$BUILD/tools/netplace/netplace
GEN=$BUILD/bench/bench_exchange
source "$HERE/../../tests/integration/netns/lib.sh"
trap np_cleanup EXIT
command -v nginx >/dev/null || { echo "nginx not installed" >&2; exit 77; }

round() {  # round FED [--no-merge]: prints "wall_s round_s bytes ok unchanged rejected"
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$("$NETPLACE" exchange round -f "$@" 2>/dev/null || true)
    t1=$(date +%s.%N)
    jq -r --argjson w "$(jq -n "$t1 - $t0")" \
        '"\($w) \(.round_s) \(.round_bytes) \([.peers[] | select(.verdict == "ok")] | length) \([.peers[] | select(.verdict == "unchanged")] | length) \([.peers[] | select(.verdict == "rejected")] | length)"' <<<"$out"
}

port=18$((RANDOM % 900 + 100))
printf '| peers | case | wall s | round s | bytes | ok | 304 | rejected |\n|---|---|---|---|---|---|---|---|\n'
for n in "${PEERS[@]}"; do
    dir=$(np_tmpdir)
    "$GEN" gen "$dir" "$n" "$port" >&2
    pid=$(np_nginx "$dir" 127.0.0.1 "$port")
    chmod 600 "$dir"/keys/*.key  # np_nginx made the tree world-readable
    fed=$dir/fed.yaml
    read -r w r b ok un rej < <(round "$fed" --no-merge)  # first contact (no validators yet)
    printf '| %s | first fetch, verify (no merge) | %.2f | %.2f | %s | %s | %s | %s |\n' "$n" "$w" "$r" "$b" "$ok" "$un" "$rej"
    read -r w r b ok un rej < <(round "$fed" --no-merge)
    printf '| %s | nothing changed | %.2f | %.2f | %s | %s | %s | %s |\n' "$n" "$w" "$r" "$b" "$ok" "$un" "$rej"
    "$GEN" gen "$dir" "$n" "$port" >&2  # every snapshot re-signed with a higher sequence
    # The merge writes the compact peers file ("<state>.peers"): fine at 1,000 peers too.
    read -r w r b ok un rej < <(round "$fed")
    printf '| %s | all changed, verify + merge | %.2f | %.2f | %s | %s | %s | %s |\n' "$n" "$w" "$r" "$b" "$ok" "$un" "$rej"
    np_kill_pid "$pid" nginx
done
