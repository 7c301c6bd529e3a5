# Helpers for the netns integration tests and bench/netns: private nginx instances, namespaces
# with tbf-shaped veth links, and cleanup by PID that survives failing tests. Source it.
# Everything created here carries $NP_PREFIX (unique per run) so parallel or leftover runs
# never collide, and only processes whose /proc/PID/comm matches what we started are killed.

NP_PREFIX=${NP_PREFIX:-np$$}
NP_PIDS=()       # "pid:comm" of every process we started
NP_NETNS=()      # namespaces we created
NP_LINKS=()      # host-side veth devices we created
NP_DIRS=()

np_log() { echo "[netns-test] $*" >&2; }
np_fail() { echo "[netns-test] FAIL: $*" >&2; exit 1; }

np_require_root() {
    if [ "$(id -u)" != 0 ]; then echo "needs root for ip netns (CI runs as root): skipping" >&2; exit 77; fi
    for t in ip tc nginx; do
        command -v "$t" >/dev/null || { echo "$t not installed (scripts/install-deps.sh test): skipping" >&2; exit 77; }
    done
    ip netns add "${NP_PREFIX}-probe" 2>/dev/null || { echo "cannot create network namespaces here: skipping" >&2; exit 77; }
    ip netns del "${NP_PREFIX}-probe"
}

np_track_pid() { NP_PIDS+=("$1:$2"); }

# Kills a process we started, by PID, only if it is still the program we started.
np_kill_pid() {
    local pid=$1 comm=$2 sig=${3:-TERM}
    [ -r "/proc/$pid/comm" ] || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || return 0; sleep 0.1; done
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && kill -KILL "$pid" 2>/dev/null || true
}

np_cleanup() {
    local rc=$?
    set +e
    for entry in "${NP_PIDS[@]}"; do np_kill_pid "${entry%%:*}" "${entry#*:}"; done
    for ns in "${NP_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    for l in "${NP_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
    for d in "${NP_DIRS[@]}"; do rm -rf "$d"; done
    return $rc
}

np_tmpdir() {
    local d
    d=$(mktemp -d "/tmp/${NP_PREFIX}.XXXXXX")
    chmod 755 "$d"
    NP_DIRS+=("$d")
    echo "$d"
}

# np_nginx DIR ADDR PORT [NETNS]: serves DIR/www/ (probe.bin: 256 MiB sparse file) on ADDR:PORT.
np_nginx() {
    local dir=$1 addr=$2 port=$3 ns=${4:-}
    mkdir -p "$dir/www/netplace" "$dir/tmp" "$dir/logs"
    chmod -R 755 "$dir"
    [ -e "$dir/www/netplace/probe.bin" ] || truncate -s 256M "$dir/www/netplace/probe.bin"
    chmod 644 "$dir/www/netplace/probe.bin"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user nobody nogroup;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 512; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen $addr:$port;
        root $dir/www;
        location = /status/500 { return 500; }
    }
}
CONF
    if [ -n "$ns" ]; then
        ip netns exec "$ns" nginx -p "$dir" -c "$dir/nginx.conf" &
    else
        nginx -p "$dir" -c "$dir/nginx.conf" &
    fi
    local pid=$!
    np_track_pid "$pid" nginx
    for _ in $(seq 50); do
        if [ -n "$ns" ]; then
            ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null && break
        else
            bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null && break
        fi
        sleep 0.1
    done
    echo "$pid"
}

# np_site NAME INDEX RATE_MBIT: a namespace NAME holding a server at 10.231.INDEX.2, joined to the
# host (the probing site) by a veth pair; traffic leaving the namespace is shaped to RATE.
np_site() {
    local name=$1 idx=$2 rate=$3
    local ns="${NP_PREFIX}-$name" host="${NP_PREFIX:0:8}h$idx" peer="${NP_PREFIX:0:8}p$idx"
    ip netns add "$ns" && NP_NETNS+=("$ns")
    ip link add "$host" type veth peer name "$peer" && NP_LINKS+=("$host")
    ip link set "$peer" netns "$ns"
    ip addr add "10.231.$idx.1/24" dev "$host"
    ip link set "$host" up
    ip netns exec "$ns" ip addr add "10.231.$idx.2/24" dev "$peer"
    ip netns exec "$ns" ip link set "$peer" up
    ip netns exec "$ns" ip link set lo up
    np_shape "$name" "$idx" "$rate"
}

# Token bucket on the namespace's egress (server -> host). The burst is sized for the rate
# (at least 10 ms of traffic) so the shaper itself does not cap below the configured rate.
np_shape() {
    local name=$1 idx=$2 rate=$3
    local ns="${NP_PREFIX}-$name" peer="${NP_PREFIX:0:8}p$idx"
    local burst=$(( rate * 1000000 / 8 / 100 ))
    [ "$burst" -lt 32768 ] && burst=32768
    ip netns exec "$ns" tc qdisc replace dev "$peer" root tbf rate "${rate}mbit" burst "$burst" latency 50ms
}
