#!/usr/bin/env bash
# The Prometheus textfile netplace writes (docs/network.md, "Prometheus textfile") must pass
# `promtool check metrics` (syntax and Prometheus' naming/lint rules), written both ways netplace
# writes it:
#  1. the probe round's own writer (`netplace probe run --once --prometheus FILE`, what
#     netplace-probed does after every state write), with links that fail (closed loopback port:
#     failures, `down`, no bandwidth) next to links with static figures;
#  2. `netplace probe show --prometheus` over the real Skyplane throughput grid imported into a
#     link state (380 measured links of the 20-site LCG federation); skipped without ../shared/data.
# Environment (set by ctest): NETPLACE_BINARY_DIR, NETPLACE_SOURCE_DIR, NETPLACE_SHARED_DATA.
set -uo pipefail
src=${NETPLACE_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${NETPLACE_BINARY_DIR:?NETPLACE_BINARY_DIR: the build directory}
shared=${NETPLACE_SHARED_DATA:-$src/../shared/data}
cli=$bin/tools/netplace/netplace
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (Debian: prometheus; scripts/install-deps.sh test)"; exit 77; }
[ -x "$cli" ] || { echo "FAIL: $cli not built"; exit 1; }

tmp=$(mktemp -d /tmp/netplace-prom.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
promcheck() {  # promcheck NAME FILE: promtool accepts it and it carries every documented family
  local name=$1 f=$2 out
  if ! out=$(promtool check metrics <"$f" 2>&1); then
    echo "FAIL $name: promtool check metrics rejects the textfile:"; echo "$out"; head -20 "$f"
    fails=$((fails + 1)); return
  fi
  echo "ok   $name: promtool check metrics accepts it ($(grep -vc '^#' "$f") samples)"
  local m
  for m in netplace_link_bandwidth_bytes_per_second netplace_link_latency_seconds \
           netplace_link_measured netplace_link_state netplace_link_consecutive_failures; do
    grep -q "^$m{" "$f" || { echo "FAIL $name: no $m samples"; fails=$((fails + 1)); }
  done
}

# 1. Probe round against endpoints that refuse connections (a port nothing listens on).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$tmp/fed.yaml" <<YAML
federation: promtest
local_site: here
sites:
  - {name: here, probe: "http://127.0.0.1:$port/netplace/probe.bin"}
  - {name: there, probe: "http://127.0.0.1:$port/netplace/probe.bin"}
  - {name: far, probe: "http://127.0.0.1:$port/netplace/probe.bin"}
links:
  - {from: far, to: here, bandwidth: 2Gbit/s, latency: 150ms}
probing:
  state_file: $tmp/links.json
  connect_timeout: 1s
  timeout: 2s
  failures_down: 1
YAML
"$cli" probe run --once -f "$tmp/fed.yaml" --prometheus "$tmp/round.prom" >"$tmp/round.log" 2>&1
rc=$?
if [ $rc -ne 1 ] || [ ! -s "$tmp/round.prom" ]; then
  echo "FAIL probe run --once against a closed port: exit $rc (want 1: probes failed) and a textfile"
  cat "$tmp/round.log"; fails=$((fails + 1))
else
  promcheck "probe round textfile (failed links)" "$tmp/round.prom"
  grep -q 'netplace_link_state{.*state="down".*} 1' "$tmp/round.prom" ||
    { echo "FAIL the failed link is not down in the textfile"; fails=$((fails + 1)); }
  # Series only for pairs something is known about: the static link has them, a pair nobody
  # measures and no links: entry names (there -> far, on the federation's defaults) has none.
  grep -q '^netplace_link_bandwidth_bytes_per_second{federation="promtest",from="far",to="here"} ' \
    "$tmp/round.prom" || { echo "FAIL the static link far -> here has no series"; fails=$((fails + 1)); }
  if grep -q 'from="there",to="far"' "$tmp/round.prom"; then
    echo "FAIL a pair on the federation's defaults (there -> far) has series in the textfile"
    fails=$((fails + 1))
  fi
fi

# 2. Real measurements: the Skyplane grid imported into a link state.
fed=$src/etc/sim/lcg20-federation.yaml
csv=$shared/network/skyplane-throughput.csv
if [ -r "$csv" ]; then
  if "$cli" probe import csv "$csv" -f "$fed" --state "$tmp/grid.json" >"$tmp/import.log" 2>&1 &&
     "$cli" probe show --prometheus -f "$fed" --state "$tmp/grid.json" >"$tmp/grid.prom" 2>"$tmp/show.log"; then
    promcheck "Skyplane grid textfile" "$tmp/grid.prom"
  else
    echo "FAIL importing/showing the Skyplane grid"; cat "$tmp/import.log" "$tmp/show.log"; fails=$((fails + 1))
  fi
else
  echo "note: $csv absent: the real-data half is skipped"
fi

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
