#!/usr/bin/env bash
# Federation in a box: >= 3 independent sites on one machine, for every cross-site test.
#
#   rig.sh start  BASE     build the sites, start their services, write BASE/env.sh
#   rig.sh stop   BASE     stop everything the rig (and its hook) started, by PID; delete namespaces
#   rig.sh status BASE     one line per site; exit 0 when every recorded process is alive
#
# Each site is a network namespace with its own address on a bridge that lives in a "wan"
# namespace, its own nginx (probe file, signed snapshots, a data directory) and its own
# netplace-probed with its own key pair. Every directed pair has its own shaped rate: the
# sender's egress has an htb class per destination (u32 match on the destination address) with a
# tbf child, so A->B and B->A are independent. Small TCP packets (ACKs) bypass the shaping, so
# that a transfer in one direction does not slow the reverse direction's ACK clock.
#
# Knobs (environment, read by `start`; see README.md):
#   RIG_SITES       site names (default "alpha beta gamma"; 3 to 9 sites)
#   RIG_RATES       overrides, "alpha>beta=40 beta>alpha=100" (Mbit/s, data flows left -> right)
#   RIG_NETPLACE    netplace binary      (default: build/dev/tools/netplace/netplace)
#   RIG_PROBED      netplace-probed      (default: build/dev/tools/netplace-probed/netplace-probed)
#   RIG_NO_PROBED=1 do not start netplace-probed (quiet links for transfer tests)
#   RIG_PROBE_INTERVAL  bandwidth probe period per link (default 10m: one round at start)
#   RIG_EXCHANGE_INTERVAL  signed-snapshot exchange period (default 5s)
#   RIG_FED_EXTRA   YAML appended to every site's federation file (top-level keys)
#   RIG_HOOK        executable run as `HOOK start SITE` after the site is up (env.sh exported;
#                   record its processes with `rig_track PID COMM`) and `HOOK stop SITE` at stop
#   RIG_PREFIX      name prefix of namespaces (default fed<PID>)
# Needs root, ip, tc, nginx, jq, perl (exit 77 otherwise, with the reason).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)

usage() { echo "usage: $0 start|stop|status BASE" >&2; exit 2; }
[ $# -eq 2 ] || usage
CMD=$1
BASE=$2
case "$BASE" in /*) ;; *) BASE="$PWD/$BASE" ;; esac

NP_PREFIX=${RIG_PREFIX:-fed$$}
source "$HERE/../netns/lib.sh"
rig_log() { echo "[rig] $*" >&2; }

PIDS_FILE=$BASE/rig.pids     # "pid comm" per line, in start order
NETNS_FILE=$BASE/rig.netns   # namespaces to delete
HOOK_FILE=$BASE/rig.hook     # the hook to call at stop

# Default shaped rate of src -> dst (Mbit/s): asymmetric, 20-90 Mbit/s, all different for <= 4 sites, so a busy
# 2-core host still shapes them accurately. Index-based so any site list gets a full matrix.
default_rate() {
    local i=$1 j=$2
    local table=(0 40 60 30 70 45 90 35 55
        90 0 30 50 25 65 40 85 20
        25 80 0 45 85 35 60 50 75
        55 35 75 0 40 70 20 65 45
        30 60 40 85 0 50 75 25 90
        65 25 50 35 90 0 45 80 30
        45 75 20 60 35 85 0 40 70
        80 40 70 25 55 30 90 0 60
        35 90 55 75 20 60 40 75 0)
    echo "${table[$((i * 9 + j))]}"
}

rate_of() {  # rate_of SRC DST I J
    local kv
    for kv in ${RIG_RATES:-}; do
        [ "${kv%%=*}" = "$1>$2" ] && { echo "${kv#*=}"; return; }
    done
    default_rate "$3" "$4"
}

do_stop() {
    set +e
    if [ -s "$HOOK_FILE" ] && [ -s "$BASE/env.sh" ]; then
        local hook s
        hook=$(cat "$HOOK_FILE")
        # shellcheck disable=SC1091
        for s in $(. "$BASE/env.sh"; echo "$RIG_SITES"); do
            (set -a; . "$BASE/env.sh"; set +a; "$hook" stop "$s") || rig_log "hook stop $s failed"
        done
    fi
    if [ -s "$PIDS_FILE" ]; then
        local pid comm
        # Reverse order: clients and daemons before the servers they use.
        while read -r pid comm; do np_kill_pid "$pid" "$comm"; done < <(tac "$PIDS_FILE")
    fi
    if [ -s "$NETNS_FILE" ]; then
        local ns
        while read -r ns; do ip netns del "$ns" 2>/dev/null; done <"$NETNS_FILE"
    fi
    rm -f "$PIDS_FILE" "$NETNS_FILE" "$HOOK_FILE"
    return 0
}

do_status() {
    [ -s "$BASE/env.sh" ] && [ -e "$PIDS_FILE" ] || { echo "no rig running at $BASE"; return 1; }
    # shellcheck disable=SC1091
    . "$BASE/env.sh"
    local ok=0 pid comm s
    while read -r pid comm; do
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$comm" ]; then
            echo "process $pid ($comm) is gone"; ok=1
        fi
    done <"$PIDS_FILE"
    for s in $RIG_SITES; do
        local ns=RIG_NS_$s addr=RIG_ADDR_$s state=RIG_STATE_$s measured=0
        ip netns list | grep -q "^${!ns}\b" || { echo "namespace ${!ns} missing"; ok=1; }
        [ -s "${!state}" ] && measured=$(jq '[.links[] | select(.bandwidth_bps != null)] | length' "${!state}" 2>/dev/null || echo 0)
        echo "$s: ns ${!ns}, ${!addr}, links measured in its state: $measured"
    done
    return $ok
}

do_start() {
    [ ! -s "$NETNS_FILE" ] || { rig_log "a rig is already running at $BASE (rig.sh stop $BASE)"; exit 1; }
    np_require_root
    command -v tac >/dev/null || { echo "tac not installed: skipping" >&2; exit 77; }
    local netplace=${RIG_NETPLACE:-$REPO/build/dev/tools/netplace/netplace}
    local probed=${RIG_PROBED:-$REPO/build/dev/tools/netplace-probed/netplace-probed}
    [ -x "$netplace" ] || { rig_log "netplace not built: $netplace"; exit 1; }
    [ -n "${RIG_NO_PROBED:-}" ] || [ -x "$probed" ] || { rig_log "netplace-probed not built: $probed"; exit 1; }
    local sites=(${RIG_SITES:-alpha beta gamma})
    local n=${#sites[@]}
    [ "$n" -ge 3 ] && [ "$n" -le 9 ] || { rig_log "RIG_SITES: 3 to 9 sites, got $n"; exit 2; }
    local s
    for s in "${sites[@]}"; do
        [[ "$s" =~ ^[a-z][a-z0-9]{0,11}$ ]] || { rig_log "site name '$s': lowercase letters and digits, <= 12"; exit 2; }
    done

    mkdir -p "$BASE/sites"
    chmod 755 "$BASE" "$BASE/sites"  # nginx workers run as nobody
    : >"$PIDS_FILE"
    : >"$NETNS_FILE"
    trap 'rc=$?; if [ $rc != 0 ]; then rig_log "start failed (exit $rc): cleaning up"; do_stop; fi' EXIT

    local wan="${NP_PREFIX}-wan"
    ip netns add "$wan"
    echo "$wan" >>"$NETNS_FILE"
    ip -n "$wan" link set lo up
    ip -n "$wan" link add br0 type bridge
    ip -n "$wan" link set br0 up

    local i j addr=() ns=()
    for i in "${!sites[@]}"; do
        s=${sites[$i]}
        ns[$i]="${NP_PREFIX}-$s"
        addr[$i]="10.232.0.$((11 + i))"
        ip netns add "${ns[$i]}"
        echo "${ns[$i]}" >>"$NETNS_FILE"
        ip -n "${ns[$i]}" link set lo up
        ip -n "$wan" link add "s$i" type veth peer name eth0 netns "${ns[$i]}"
        ip -n "$wan" link set "s$i" master br0 up
        ip -n "${ns[$i]}" addr add "${addr[$i]}/24" dev eth0
        ip -n "${ns[$i]}" link set eth0 up
    done

    # Shaping: per site egress, one htb class + tbf per destination.
    for i in "${!sites[@]}"; do
        local tcn="tc -n ${ns[$i]}"
        $tcn qdisc add dev eth0 root handle 1: htb default 999
        $tcn class add dev eth0 parent 1: classid 1:999 htb rate 1gbit quantum 15140
        # Small TCP packets (IP length < 128: ACKs with SACK blocks, SYN, FIN) go unshaped, so
        # data in one direction never queues the ACKs of a transfer in the other.
        $tcn filter add dev eth0 parent 1: protocol ip prio 1 u32 \
            match ip protocol 6 0xff match u16 0x0000 0xff80 at 2 flowid 1:999
        for j in "${!sites[@]}"; do
            [ "$i" = "$j" ] && continue
            local r cls burst
            r=$(rate_of "${sites[$i]}" "${sites[$j]}" "$i" "$j")
            cls=$((10 + j))
            burst=$((r * 1000000 / 8 / 100)); [ "$burst" -lt 32768 ] && burst=32768
            # htb's default burst (~1.6 kB) under-delivers at these rates when a busy host
            # delays the qdisc; give it the tbf's 10 ms and let the tbf keep the ceiling sharp.
            $tcn class add dev eth0 parent 1: classid "1:$cls" htb rate "${r}mbit" ceil "${r}mbit" \
                burst "$burst" cburst "$burst" quantum 15140
            $tcn qdisc add dev eth0 parent "1:$cls" handle "$cls:" tbf rate "${r}mbit" burst "$burst" latency 50ms
            $tcn filter add dev eth0 parent 1: protocol ip prio 2 u32 match ip dst "${addr[$j]}/32" flowid "1:$cls"
        done
    done

    # nginx per site (tests/integration/netns/lib.sh np_nginx): probe file, snapshots, data.
    for i in "${!sites[@]}"; do
        s=${sites[$i]}
        local d="$BASE/sites/$s"
        mkdir -p "$d/www/netplace/relay" "$d/www/data" "$d/keys"
        truncate -s 256M "$d/www/netplace/probe.bin"
        np_nginx "$d" "${addr[$i]}" 8080 "${ns[$i]}" >/dev/null
        echo "${NP_PIDS[-1]%%:*} nginx" >>"$PIDS_FILE"
    done
    for i in "${!sites[@]}"; do  # every site reaches every other site's nginx
        for j in "${!sites[@]}"; do
            [ "$i" = "$j" ] && continue
            local tries=0
            until ip netns exec "${ns[$i]}" bash -c "exec 3<>/dev/tcp/${addr[$j]}/8080" 2>/dev/null; do
                tries=$((tries + 1))
                [ "$tries" -lt 50 ] || { rig_log "${sites[$i]} cannot reach ${sites[$j]}'s nginx"; exit 1; }
                sleep 0.1
            done
        done
    done

    # A key pair per site (netplace keygen: private key 0600); the public keys go into every
    # site's federation file, the admins' trust anchor.
    local keyed=""
    if "$netplace" keygen --help >/dev/null 2>&1; then
        keyed=1
        for s in "${sites[@]}"; do
            "$netplace" keygen --out "$BASE/sites/$s/keys/site.key" >/dev/null 2>&1
        done
    else
        rig_log "$netplace has no keygen: sites do not exchange snapshots"
    fi

    # Federation file per site: same sites, its own local_site.
    for i in "${!sites[@]}"; do
        s=${sites[$i]}
        local d="$BASE/sites/$s" f="$BASE/sites/$s/federation.yaml"
        {
            echo "# written by tests/integration/federation/rig.sh for site $s"
            echo "federation: rig"
            echo "local_site: $s"
            echo "defaults: {bandwidth: 1Gbit/s, latency: 1ms}"
            echo "sites:"
            for j in "${!sites[@]}"; do
                echo "  - name: ${sites[$j]}"
                echo "    probe: http://${addr[$j]}:8080/netplace/probe.bin"
                if [ -n "$keyed" ]; then
                    echo "    public_key: $(cat "$BASE/sites/${sites[$j]}/keys/site.key.pub")"
                    [ "$i" = "$j" ] || echo "    snapshot: http://${addr[$j]}:8080/netplace/snapshot.json"
                fi
            done
            echo "probing:"
            echo "  state_file: $d/links.json"
            echo "  prometheus_file: $d/netplace.prom"
            echo "  interval: ${RIG_PROBE_INTERVAL:-10m}"
            echo "  latency_interval: 1m"
            echo "  jitter: 0.1"
            echo "  max_bytes: 24MiB"
            echo "  latency_samples: 3"
            echo "  connect_timeout: 2s"
            echo "  timeout: 20s"
            if [ -n "$keyed" ]; then
                echo "exchange:"
                echo "  private_key: $d/keys/site.key"
                echo "  publish_file: $d/www/netplace/snapshot.json"
                echo "  relay_dir: $d/www/netplace/relay"
                echo "  site_state: $d/sites.json"
                echo "  merged_site_state: $d/sites-merged.json"
                echo "  interval: ${RIG_EXCHANGE_INTERVAL:-5s}"
                echo "  jitter: 0.2"
                echo "  validity: 10m"
                echo "  connect_timeout: 1s"
                echo "  timeout: 3s"
            fi
            [ -z "${RIG_FED_EXTRA:-}" ] || printf '%s\n' "$RIG_FED_EXTRA"
        } >"$f"
    done

    # env.sh: everything other tests need, sourced by them.
    {
        echo "# federation rig at $BASE (tests/integration/federation/rig.sh); source me"
        echo "RIG_BASE=$BASE"
        echo "RIG_PREFIX=$NP_PREFIX"
        echo "RIG_WAN_NS=$wan"
        echo "RIG_SITES=\"${sites[*]}\""
        echo "RIG_NETPLACE=$netplace"
        echo "RIG_PROBED=$probed"
        echo "RIG_PORT=8080"
        for i in "${!sites[@]}"; do
            s=${sites[$i]}
            local d="$BASE/sites/$s"
            echo "RIG_NS_$s=${ns[$i]}"
            echo "RIG_ADDR_$s=${addr[$i]}"
            echo "RIG_URL_$s=http://${addr[$i]}:8080"
            echo "RIG_PROBE_URL_$s=http://${addr[$i]}:8080/netplace/probe.bin"
            echo "RIG_DIR_$s=$d"
            echo "RIG_WWW_$s=$d/www"
            echo "RIG_DATA_$s=$d/www/data"
            echo "RIG_DATA_URL_$s=http://${addr[$i]}:8080/data"
            echo "RIG_NGINX_CONF_D_$s=$d/server.d"
            echo "RIG_FED_$s=$d/federation.yaml"
            echo "RIG_STATE_$s=$d/links.json"
            echo "RIG_PROM_$s=$d/netplace.prom"
            echo "RIG_LOG_$s=$d/probed.log"
            echo "RIG_KEY_$s=$d/keys/site.key"
            echo "RIG_PUBKEY_$s=$d/keys/site.key.pub"
            echo "RIG_SNAPSHOT_URL_$s=http://${addr[$i]}:8080/netplace/snapshot.json"
            echo "RIG_SNAPSHOT_$s=$d/www/netplace/snapshot.json"
            echo "RIG_RELAY_URL_$s=http://${addr[$i]}:8080/netplace/relay"
            echo "RIG_EXCHANGE_STATUS_$s=$d/exchange.json"
            echo "RIG_SITE_STATE_$s=$d/sites.json"
            echo "RIG_MERGED_SITE_STATE_$s=$d/sites-merged.json"
            echo "RIG_CATALOG_$s=$d/datasets.yaml"
            for j in "${!sites[@]}"; do
                [ "$i" = "$j" ] && continue
                echo "RIG_RATE_${s}_${sites[$j]}=$(rate_of "$s" "${sites[$j]}" "$i" "$j")"
            done
        done
        cat <<'FUNCS'
# rig_in SITE CMD...: run CMD inside SITE's namespace
rig_in() { local v="RIG_NS_$1"; shift; ip netns exec "${!v}" "$@"; }
# rig_track PID COMM: `rig.sh stop` kills PID (only while /proc/PID/comm is COMM)
rig_track() { echo "$1 $2" >>"$RIG_BASE/rig.pids"; }
# rig_nginx_reload SITE: after adding files to $RIG_NGINX_CONF_D_<site>
rig_nginx_reload() { local p; p=$(cat "$RIG_BASE/sites/$1/nginx.pid") && kill -HUP "$p"; }
FUNCS
    } >"$BASE/env.sh"

    # netplace-probed per site, in its namespace (ip netns exec execs it: $! is the daemon).
    if [ -z "${RIG_NO_PROBED:-}" ]; then
        for i in "${!sites[@]}"; do
            s=${sites[$i]}
            ip netns exec "${ns[$i]}" "$probed" --federation "$BASE/sites/$s/federation.yaml" \
                --catalog "$BASE/sites/$s/datasets.yaml" --log-level info </dev/null >>"$BASE/sites/$s/probed.log" 2>&1 &
            echo "$! netplace-probed" >>"$PIDS_FILE"
            echo "RIG_PROBED_PID_$s=$!" >>"$BASE/env.sh"
        done
    fi

    if [ -n "${RIG_HOOK:-}" ]; then
        echo "$RIG_HOOK" >"$HOOK_FILE"
        for s in "${sites[@]}"; do
            (set -a; . "$BASE/env.sh"; set +a; "$RIG_HOOK" start "$s") </dev/null
        done
    fi
    trap - EXIT
    rig_log "started ${sites[*]} under prefix $NP_PREFIX; source $BASE/env.sh"
}

case "$CMD" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
