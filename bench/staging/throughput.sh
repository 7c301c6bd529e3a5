#!/usr/bin/env bash
# Staging throughput on tbf-shaped links in network namespaces (the staging test's rig): for each
# rate, `netplace stage in` of a fresh dataset against `iperf3 -R -P 4` and a single `curl` on the
# same link; then resume overhead: bytes the server sent beyond the file size when the stager is
# SIGKILLed at ~50 % and rerun, and when the source is killed at ~50 % and restarted.
# Needs root; not part of ctest.   usage: bench/staging/throughput.sh [path/to/netplace] [rates...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETPLACE=${1:-$ROOT/build/dev/tools/netplace/netplace}
shift || true
RATES=(${@:-50 200 500})
source "$ROOT/tests/integration/netns/lib.sh"
np_require_root
trap np_cleanup EXIT
command -v iperf3 >/dev/null && command -v curl >/dev/null || np_fail "iperf3 and curl are needed"

np_local alpha
np_site beta 2 "${RATES[0]}"
BETA=10.231.2.2
dir=$(np_tmpdir)
mkdir -p "$dir/www/netplace/data"
mkdir -p "$dir/server.d" "$dir/logs"; : >"$dir/logs/access.log"
echo "access_log $dir/logs/access.log;" >"$dir/server.d/access-log.conf"   # combined: $7 URI, $10 bytes
start_beta() { np_nginx "$dir" "$BETA" 8080 "${NP_PREFIX}-beta" >/dev/null; BETA_PID=${NP_PIDS[-1]%%:*}; }
kill_beta() {  # the source dies: workers and master SIGKILLed
  # The master first, else it forks a new worker for each one killed.
  local w workers
  workers=$(pgrep -P "$BETA_PID" || true)
  np_kill_pid "$BETA_PID" nginx KILL
  for w in $workers; do np_kill_pid "$w" nginx KILL; done
}
start_beta
work=$(np_tmpdir)
CHUNK=$((8 << 20))
catalog() {  # catalog NAME SIZE_BYTES
  local f=$dir/www/netplace/data/$1
  [ -e "$f" ] || head -c "$2" /dev/urandom >"$f"
  chmod 644 "$f"
  cat >"$work/datasets.yaml" <<EOF
datasets:
  - {name: $1, size: $2, sha256: $(sha256sum "$f" | cut -d' ' -f1), replicas: [{site: beta, url: "http://$BETA:8080/netplace/data/$1"}]}
staging: {data_dir: $work/data, state_dir: $work/state, chunk: $CHUNK, streams: 4, quota: 8GiB}
EOF
}
export NETPLACE_CATALOG=$work/datasets.yaml NETPLACE_FEDERATION=$ROOT/tests/integration/staging/federation.yaml
export NETPLACE_POLICY_FILE=$ROOT/tests/integration/staging/policy.yaml
fresh() { rm -rf "$work/data" "$work/state"; }
sent() { awk -v f="${2:-1}" -v d="$1" 'NR >= f && $7 ~ ("/" d "$") {s += $10} END {print s + 0}' "$dir/logs/access.log"; }
lines() { wc -l <"$dir/logs/access.log"; }

printf '%-8s %-9s %-14s %-14s %-14s %-10s %-10s\n' Mbit/s MiB netplace iperf3-R-P4 curl np/iperf3 np/curl
for r in "${RATES[@]}"; do
  np_shape beta 2 "$r"
  size=$(( (r * 10 / 8) << 20 ))   # ~10 s at the shaped rate
  [ $size -lt $((32 << 20)) ] && size=$((32 << 20))
  name=d$r
  catalog "$name" "$size"
  fresh
  np=$(np_in "$NETPLACE" stage in --json "$name" | jq '.[0].goodput_bps')
  ip netns exec "${NP_PREFIX}-beta" iperf3 -s -B "$BETA" -p 5201 -1 >/dev/null 2>&1 &
  np_track_pid $! iperf3
  for _ in $(seq 50); do [ -n "$(ip netns exec "${NP_PREFIX}-beta" ss -Hltn 'sport = :5201')" ] && break; sleep 0.1; done
  ip=$(np_in iperf3 -c "$BETA" -p 5201 -R -P 4 -t 8 -J | jq '.end.sum_received.bits_per_second')
  cu=$(np_in curl -s -o /dev/null -w '%{speed_download}' "http://$BETA:8080/netplace/data/$name")
  cu=$(jq -n "$cu * 8")
  printf '%-8s %-9s %-14s %-14s %-14s %-10s %-10s\n' "$r" $((size >> 20)) \
    "$(jq -n "$np / 1e6 | . * 10 | round / 10")" "$(jq -n "$ip / 1e6 | . * 10 | round / 10")" \
    "$(jq -n "$cu / 1e6 | . * 10 | round / 10")" "$(jq -n "$np / $ip | . * 1000 | round / 1000")" \
    "$(jq -n "$np / $cu | . * 1000 | round / 1000")"
done

# Resume overhead at the middle rate, chunk 8 MiB, 4 streams.
r=${RATES[1]:-${RATES[0]}}
np_shape beta 2 "$r"
size=$(( (r * 10 / 8) << 20 )); [ $size -lt $((32 << 20)) ] && size=$((32 << 20))
name=resume$r
catalog "$name" "$size"
descendant() {  # descendant PID COMM: the first process below PID whose name is COMM
  local c
  for c in $(pgrep -P "$1" || true); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return 0; }
    descendant "$c" "$2" && return 0
  done
  return 1
}
half() {  # waits until the ledger says at most half is left
  for _ in $(seq 600); do
    left=$(jq -r --argjson t "$size" '[.transfers[]? | select(.dataset == "'"$name"'") | .bytes_left][0] // $t' "$work/state/transfers.json" 2>/dev/null || echo "$size")
    [ "$left" -le $((size / 2)) ] && return 0
    sleep 0.05
  done
  np_fail "no progress"
}
# Bytes re-fetched = what the rerun fetched minus what was really missing. What the killed run had
# received is what it had written into the sparse partial file: its allocated blocks (a few KiB of
# block rounding per chunk). The server's count also includes what it had sent into sockets and
# the shaper that never arrived (lost with the connection, not fetched twice); a SIGKILLed nginx
# logs nothing for its open requests, so that figure is only given for the stager kill.
for how in stager-sigkill source-killed; do
  fresh
  from=$(( $(lines) + 1 ))
  np_in "$NETPLACE" stage in "$name" >/dev/null 2>&1 &
  stager=$!
  half
  if [ $how = stager-sigkill ]; then
    # The netplace process itself (the background job is the shell running np_in).
    np_kill_pid "$(descendant "$stager" netplace)" netplace KILL
  else
    kill_beta
  fi
  wait $stager 2>/dev/null || true
  part=$work/data/.partial/$name
  received=$(( $(stat -c %b "$part") * $(stat -c %B "$part") ))
  kept=$(jq '[.have[]] | add' "$part.ranges")
  [ $how = source-killed ] && start_beta
  out=$(np_in "$NETPLACE" stage in --json "$name")
  fetched=$(jq '.[0].fetched_bytes' <<<"$out")
  refetched=$((fetched - (size - received)))
  printf 'resume after %-15s at %d%%: received %d, range map kept %d, rerun fetched %d: re-fetched %d bytes (%.3f chunks of %d)' \
    "$how" $((kept * 100 / size)) "$received" "$kept" "$fetched" "$refetched" "$(jq -n "$refetched / $CHUNK")" $CHUNK
  [ $how = stager-sigkill ] && printf '; server sent %d for %d (%d never arrived)' "$(sent "$name" "$from")" "$size" \
    $(( $(sent "$name" "$from") - size - refetched ))
  echo
done
