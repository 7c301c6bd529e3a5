#!/usr/bin/env bash
# netplace-probed lifecycle: SIGTERM during a bandwidth probe (clean, prompt exit, complete
# state), SIGHUP (reloads the federation; a broken file is refused and the old one kept), and
# kill -9 while it writes state, many times, with readers running all along: every read must see
# a complete file (old or new).
set -euo pipefail
NETPLACE=$1
PROBED=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
np_require_root
trap np_cleanup EXIT

np_local alpha
np_site slow 1 20
np_site fast 2 100
np_nginx "$(np_tmpdir)" 10.231.1.2 8080 "${NP_PREFIX}-slow" >/dev/null
np_nginx "$(np_tmpdir)" 10.231.2.2 8080 "${NP_PREFIX}-fast" >/dev/null
work=$(np_tmpdir)
state=$work/links.json

federation() {  # federation SITES-YAML LATENCY-INTERVAL MAX-BYTES
    cat >"$work/fed.yaml" <<YAML
federation: daemon
local_site: alpha
sites:
  - {name: alpha}
$1
probing:
  state_file: $state
  interval: 1s
  latency_interval: $2
  jitter: 0.1
  max_bytes: $3
  latency_samples: 2
  connect_timeout: 2s
  timeout: 10s
YAML
}
SLOW='  - {name: slow, probe: http://10.231.1.2:8080/netplace/probe.bin}'
FAST='  - {name: fast, probe: http://10.231.2.2:8080/netplace/probe.bin}'

start_daemon() {
    # Not through a shell function: $! must be the daemon itself (ip netns exec execs it).
    ip netns exec "$NP_LOCAL" "$PROBED" --federation "$work/fed.yaml" --log-level info >>"$work/daemon.log" 2>&1 &
    DAEMON=$!
    np_track_pid "$DAEMON" netplace-probed
}
wait_for() {  # wait_for SECONDS COMMAND...
    local until=$(( $(date +%s) + $1 )); shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || return 1
        sleep 0.1
    done
}
has_link() { jq -e --arg s "$1" '.links[] | select(.from==$s and .to=="alpha" and .samples > 0)' "$state"; }

# --- SIGTERM while a bandwidth probe of a 20 Mbit/s link runs ---
federation "$SLOW" 10m 64MiB
start_daemon
wait_for 20 grep -q "slow -> alpha: bandwidth probe via .* started" "$work/daemon.log" ||
    np_fail "daemon never started a bandwidth probe: $(cat "$work/daemon.log")"
sleep 0.3  # well inside the probe: at 20 Mbit/s it needs at least 1.2 s to settle
t0=$(date +%s.%N)
kill -TERM "$DAEMON"
rc=0
wait "$DAEMON" || rc=$?
t1=$(date +%s.%N)
np_log "SIGTERM: exit $rc after $(jq -n "$t1 - $t0 | . * 1000 | round") ms"
[ "$rc" = 0 ] || np_fail "daemon exited $rc on SIGTERM: $(tail -5 "$work/daemon.log")"
jq -e -n "$t1 - $t0 < 3" >/dev/null || np_fail "daemon took more than 3 s to stop"
"$NETPLACE" probe show --json --strict -f "$work/fed.yaml" >/dev/null || np_fail "state unreadable after SIGTERM"
has_link slow >/dev/null || np_fail "the finished latency probe was not saved on SIGTERM"
jq -e '.links[] | select(.from=="slow") | .recent_bps | not' "$state" >/dev/null ||
    np_fail "the aborted bandwidth probe left a sample"
grep -q "netplace-probed: stopped" "$work/daemon.log" || np_fail "no clean-stop message"

# --- SIGHUP: add a site; then a broken file must be refused and the daemon keep going ---
rm -f "$state"
federation "$FAST" 200ms 4MiB
start_daemon
wait_for 20 has_link fast || np_fail "fast never measured"
federation "$FAST
$SLOW" 200ms 4MiB
kill -HUP "$DAEMON"
wait_for 20 has_link slow || np_fail "after SIGHUP the new site was not probed: $(tail -5 "$work/daemon.log")"
grep -q "reloaded" "$work/daemon.log" || np_fail "no reload message"
echo "sites: [unclosed" >"$work/fed.yaml"
kill -HUP "$DAEMON"
wait_for 10 grep -q "reload failed" "$work/daemon.log" || np_fail "a broken federation on SIGHUP was not reported"
[ -e "/proc/$DAEMON" ] || np_fail "daemon died on a broken federation"
kill -TERM "$DAEMON"; wait "$DAEMON" || true

# --- kill -9 while writing, repeatedly; readers run all along ---
# A large state (1,560 imported links) makes each write take a while, so kills land mid-write.
sites="$FAST"$'\n'"$SLOW"
csv="$work/matrix.csv"
echo "from,to,bandwidth_bps,latency_ms" >"$csv"
for i in $(seq 40); do
    sites+=$'\n'"  - {name: pad$i}"
    for j in $(seq 40); do [ "$i" = "$j" ] || echo "pad$i,pad$j,$((i * 1000000 + j)),$i.5" >>"$csv"; done
done
federation "$sites" 50ms 1MiB
rm -f "$state"
"$NETPLACE" probe import csv "$csv" -f "$work/fed.yaml" >/dev/null
np_log "state file: $(stat -c %s "$state") bytes"

reads=0
( n=0; bad=0
  while [ ! -e "$work/stop-readers" ]; do
      if ! "$NETPLACE" probe show --json --strict -f "$work/fed.yaml" >"$work/read.json" 2>"$work/read.err"; then
          bad=$((bad + 1)); cp "$work/read.err" "$work/bad-read.$bad"
      elif ! jq -e '.links | length == 43 * 42' "$work/read.json" >/dev/null; then
          bad=$((bad + 1)); cp "$work/read.json" "$work/bad-read.$bad"
      fi
      n=$((n + 1)); echo "$n" >"$work/reader.count"
  done
  echo "$n $bad" >"$work/reader.result" ) &
READER=$!
np_track_pid "$READER" bash

start_samples=$(jq '[.links[] | select(.to=="alpha") | .samples] | add // 0' "$state")
caught=0
# At least 25 kill cycles, and as many more (up to 100) as it takes for the readers to have run
# 25 times while the kills go on: under ASan on 2 busy cores one read can take a second or more.
i=0
while [ "$i" -lt 25 ] || { [ "$(cat "$work/reader.count" 2>/dev/null || echo 0)" -lt 25 ] && [ "$i" -lt 100 ]; }; do
    i=$((i + 1))
    start_daemon
    if [ $((i % 2)) = 0 ]; then
        sleep "0.$(( RANDOM % 6 + 2 ))"  # anywhere in its cycle
    else
        # Aim at a write: kill as soon as its temp file shows up (compgen: no fork, so fast).
        until=$(( $(date +%s) + 5 ))
        while ! compgen -G "$state.tmp.*" >/dev/null && [ "$(date +%s)" -lt "$until" ]; do :; done
    fi
    kill -KILL "$DAEMON" 2>/dev/null || true
    wait "$DAEMON" 2>/dev/null || true
    if compgen -G "$state.tmp.*" >/dev/null; then
        caught=$((caught + 1))
        rm -f "$state".tmp.*  # the daemon would only remove them after 60 s
    fi
done
touch "$work/stop-readers"
wait "$READER" || true
read -r n bad <"$work/reader.result"
end_samples=$(jq '[.links[] | select(.to=="alpha") | .samples] | add // 0' "$state")
np_log "kill -9 x$i: $n reads, $bad bad; $caught kills landed mid-write; samples $start_samples -> $end_samples"
[ "$bad" = 0 ] || np_fail "a reader saw an incomplete state file: $(cat "$work"/bad-read.* | head -c 600)"
[ "$n" -ge 25 ] || np_fail "readers ran only $n times"
[ "$caught" -ge 3 ] || np_fail "only $caught kills interrupted a write: the test did not test what it claims"
[ "$end_samples" -gt "$start_samples" ] || np_fail "no progress across restarts"
jq -e '[.links[] | select(.source=="csv")] | length == 1560' "$state" >/dev/null ||
    np_fail "the daemon lost imported links while merging"
np_log "daemon: OK"
