#!/usr/bin/env bash
# Whole-process benchmark of the libcurl probes on real tbf-shaped links in network namespaces:
# accuracy against the shaped rate and against iperf3 on the same link, bytes spent per probe,
# and wall time of `netplace probe run --once` for N sites. Needs root; not part of ctest.
# usage: bench/netns/probe_accuracy.sh [path/to/netplace] [repeats]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETPLACE=${1:-$ROOT/build/dev/tools/netplace/netplace}
REPEATS=${2:-3}
source "$ROOT/tests/integration/netns/lib.sh"
np_require_root
trap np_cleanup EXIT
command -v iperf3 >/dev/null || np_fail "iperf3 is needed for the comparison"

np_local alpha
RATES=(10 20 50 100 200 500 1000)
idx=1
for r in "${RATES[@]}"; do
    np_site "r$r" "$idx" "$r"
    np_nginx "$(np_tmpdir)" "10.231.$idx.2" 8080 "${NP_PREFIX}-r$r" >/dev/null
    idx=$((idx + 1))
done

printf '%-10s %-12s %-10s %-12s %-10s %-10s %-10s %-8s\n' shaped netplace err% iperf3 err% vs-iperf MiB seconds
idx=1
for r in "${RATES[@]}"; do
    want=$((r * 1000000))
    sum=0; bytes=0; secs=0
    for _ in $(seq "$REPEATS"); do
        out=$(np_in "$NETPLACE" probe url --json "http://10.231.$idx.2:8080/netplace/probe.bin")
        sum=$(jq -n "$sum + $(jq .bandwidth_bps <<<"$out")")
        bytes=$(jq -n "$bytes + $(jq .bytes <<<"$out")")
        secs=$(jq -n "$secs + $(jq .seconds <<<"$out")")
    done
    mean=$(jq -n "$sum / $REPEATS")
    ip netns exec "${NP_PREFIX}-r$r" iperf3 -s -B "10.231.$idx.2" -p 5201 -1 >/dev/null 2>&1 &
    np_track_pid $! iperf3
    for _ in $(seq 50); do [ -n "$(ip netns exec "${NP_PREFIX}-r$r" ss -Hltn 'sport = :5201')" ] && break; sleep 0.1; done
    ip=$(np_in iperf3 -c "10.231.$idx.2" -p 5201 -R -P 4 -t 5 -J | jq '.end.sum_received.bits_per_second')
    wait $! 2>/dev/null || true
    printf '%-10s %-12s %-10s %-12s %-10s %-10s %-10s %-8s\n' "${r}M" \
        "$(jq -n "$mean / 1e6 | . * 10 | round / 10")" "$(jq -n "($mean - $want) / $want * 100 | . * 10 | round / 10")" \
        "$(jq -n "$ip / 1e6 | . * 10 | round / 10")" "$(jq -n "($ip - $want) / $want * 100 | . * 10 | round / 10")" \
        "$(jq -n "($mean - $ip) / $ip * 100 | . * 10 | round / 10")" \
        "$(jq -n "$bytes / $REPEATS / 1048576 | . * 10 | round / 10")" "$(jq -n "$secs / $REPEATS | . * 100 | round / 100")"
    idx=$((idx + 1))
done

# Wall time to probe N sites (latency + bandwidth each, one bandwidth probe at a time), 100 Mbit/s links.
echo
printf '%-6s %-10s\n' sites seconds
work=$(np_tmpdir)
for n in 1 2 4 7; do
    {
        echo "federation: wall"; echo "local_site: alpha"; echo "sites:"; echo "  - {name: alpha}"
        for i in $(seq "$n"); do echo "  - {name: s$i, probe: http://10.231.$i.2:8080/netplace/probe.bin}"; done
        echo "probing: {state_file: $work/links-$n.json}"
    } >"$work/fed-$n.yaml"
    t0=$(date +%s.%N)
    np_in "$NETPLACE" probe run --once -f "$work/fed-$n.yaml" >/dev/null
    t1=$(date +%s.%N)
    printf '%-6s %-10s\n' "$n" "$(jq -n "$t1 - $t0 | . * 100 | round / 100")"
done
echo "(the N-site runs use the shaped links above: 10, 20, 50, 100, 200, 500, 1000 Mbit/s in that order)"
