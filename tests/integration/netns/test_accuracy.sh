#!/usr/bin/env bash
# Real links: one namespace per site, tbf-shaped veth pairs to the probing site (alpha), nginx
# serving the probe file in each. Asserts each measured rate is within 10 % of the shaped rate,
# the ranking is right, the `probe url` JSON contract, the Prometheus export, and that our figure
# agrees with iperf3 (a real tool) on the same link.
set -euo pipefail
NETPLACE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
np_require_root
trap np_cleanup EXIT

np_local alpha
declare -A RATE=([beta]=20 [gamma]=100 [delta]=500)
idx=1
for s in beta gamma delta; do
    np_site "$s" "$idx" "${RATE[$s]}"
    np_nginx "$(np_tmpdir)" "10.231.$idx.2" 8080 "${NP_PREFIX}-$s" >/dev/null
    idx=$((idx + 1))
done
work=$(np_tmpdir)
cat >"$work/fed.yaml" <<YAML
federation: acc
local_site: alpha
sites:
  - {name: alpha}
  - {name: beta, probe: http://10.231.1.2:8080/netplace/probe.bin}
  - {name: gamma, probe: http://10.231.2.2:8080/netplace/probe.bin}
  - {name: delta, probe: http://10.231.3.2:8080/netplace/probe.bin}
probing:
  state_file: $work/links.json
  prometheus_file: $work/netplace.prom
YAML

# check_round: every link up, measured and within 10 % of its shaped rate.
check_round() {
    local ok=0
    for s in beta gamma delta; do
        want=$((RATE[$s] * 1000000))
        got=$(jq -r ".links[] | select(.from==\"$s\" and .to==\"alpha\") | .bandwidth_bps" "$work/show.json")
        state=$(jq -r ".links[] | select(.from==\"$s\" and .to==\"alpha\") | .state" "$work/show.json")
        measured=$(jq -r ".links[] | select(.from==\"$s\" and .to==\"alpha\") | .measured" "$work/show.json")
        err=$(jq -n "($got - $want) / $want * 100 | . * 10 | round / 10")
        np_log "$s -> alpha: shaped ${RATE[$s]} Mbit/s, measured $got bit/s (error $err %), state $state"
        [ "$state" = up ] || { np_log "$s -> alpha state is $state, expected up"; ok=1; }
        [ "$measured" = true ] || { np_log "$s -> alpha not marked measured"; ok=1; }
        jq -e -n "($got - $want | fabs) <= 0.10 * $want" >/dev/null || { np_log "$s: not within 10 % of $want"; ok=1; }
    done
    return $ok
}
# A CI host running other suites beside this one can starve the receiving process for a moment;
# one fresh round (new state file) is allowed, and said so, before failing.
for attempt in 1 2; do
    rm -f "$work/links.json"
    np_in "$NETPLACE" probe run --once -f "$work/fed.yaml"
    np_in "$NETPLACE" probe show -f "$work/fed.yaml"
    np_in "$NETPLACE" probe show --json --strict -f "$work/fed.yaml" >"$work/show.json"
    check_round && break
    [ "$attempt" = 2 ] && np_fail "measured rates not within 10 % of the shaped rates in two rounds"
    np_log "round $attempt outside 10 %: trying one more round"
done
order=$(jq -r '[.links[] | select(.to=="alpha")] | sort_by(-.bandwidth_bps) | map(.from) | join(" ")' "$work/show.json")
[ "$order" = "delta gamma beta" ] || np_fail "ranking by bandwidth is '$order', expected 'delta gamma beta'"

grep -q '^netplace_link_bandwidth_bytes_per_second{federation="acc",from="delta",to="alpha"} ' "$work/netplace.prom" ||
    np_fail "Prometheus file lacks the delta -> alpha bandwidth series"
grep -q '^netplace_link_state{federation="acc",from="beta",to="alpha",state="up"} 1$' "$work/netplace.prom" ||
    np_fail "Prometheus file lacks beta -> alpha state=up"
[ "$(stat -c %a "$work/links.json")" = 644 ] || np_fail "state file mode is not 0644"

# The one-shot contract.
out=$(np_in "$NETPLACE" probe url --json --streams 2 --max-bytes 16MiB http://10.231.2.2:8080/netplace/probe.bin)
echo "$out"
echo "$out" | jq -e 'has("url") and has("rtt_ms") and has("bandwidth_bps") and has("bytes") and has("seconds")' >/dev/null ||
    np_fail "probe url --json lacks a contract field: $out"
echo "$out" | jq -e '.bytes <= 16*1048576 + 65536 and .rtt_ms > 0 and .rtt_ms < 50' >/dev/null ||
    np_fail "probe url used more than its byte cap or reported an odd RTT: $out"

# Cross-check with iperf3 on the gamma link (server in gamma, client in alpha, data gamma -> alpha).
if command -v iperf3 >/dev/null; then
    ip netns exec "${NP_PREFIX}-gamma" iperf3 -s -B 10.231.2.2 -p 5201 -1 >/dev/null 2>&1 &
    np_track_pid $! iperf3
    # Wait for the listener without connecting: a connection would use up the one-off (-1) server.
    for _ in $(seq 50); do
        [ -n "$(ip netns exec "${NP_PREFIX}-gamma" ss -Hltn 'sport = :5201')" ] && break
        sleep 0.1
    done
    np_in iperf3 -c 10.231.2.2 -p 5201 -R -P 4 -t 3 -J >"$work/iperf3.json"
    ip=$(jq '.end.sum_received.bits_per_second' "$work/iperf3.json")
    [ "$ip" != null ] || np_fail "iperf3 gave no result: $(jq -c .error "$work/iperf3.json")"
    ours=$(jq -r '.links[] | select(.from=="gamma" and .to=="alpha") | .bandwidth_bps' "$work/show.json")
    np_log "gamma -> alpha: iperf3 $ip bit/s, netplace $ours bit/s"
    jq -e -n "($ours - $ip | fabs) <= 0.05 * $ip" >/dev/null || np_fail "netplace and iperf3 differ by more than 5 %"
    # ... and the importer reads the same file iperf3 wrote.
    "$NETPLACE" probe import iperf3 "$work/iperf3.json" --from gamma --to alpha -f "$work/fed.yaml" --state "$work/imported.json"
    got=$(jq '.links[] | select(.from=="gamma" and .to=="alpha") | .bandwidth_bps' "$work/imported.json")
    jq -e -n "$got == $ip" >/dev/null || np_fail "imported iperf3 figure $got != $ip"
fi
np_log "accuracy: OK"
