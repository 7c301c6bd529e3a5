# Helpers for the netns integration tests and bench/netns: private nginx instances, namespaces
# with tbf-shaped veth links, and cleanup by PID that survives failing tests. Source it.
# Everything created here carries $NP_PREFIX (unique per run) so parallel or leftover runs
# never collide, and only processes whose /proc/PID/comm matches what we started are killed.

NP_PREFIX=${NP_PREFIX:-np$$}
NP_PIDS=()       # "pid:comm" of every process we started
NP_NETNS=()      # namespaces we created
NP_DIRS=()

np_log() { echo "[netns-test] $*" >&2; }
np_fail() { echo "[netns-test] FAIL: $*" >&2; exit 1; }

np_require_root() {
    if [ "$(id -u)" != 0 ]; then echo "needs root for ip netns (CI runs as root): skipping" >&2; exit 77; fi
    for t in ip tc nginx jq perl; do
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
    for _ in $(seq 50); do
        [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ] && break  # exited, not yet reaped
        [ -e "/proc/$pid" ] || break
        sleep 0.1
    done
    if [ -e "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true  # reap it when it is our child
}

np_cleanup() {
    local rc=$?
    set +e
    for entry in "${NP_PIDS[@]}"; do np_kill_pid "${entry%%:*}" "${entry#*:}"; done
    for ns in "${NP_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    # np_tmpdir mostly runs as d=$(np_tmpdir), a subshell whose NP_DIRS+= never reaches this
    # shell: its directories are found by their name (the prefix is unique per run).
    for d in "${NP_DIRS[@]}" "/tmp/${NP_PREFIX}".??????; do
        [ -d "$d" ] && [ ! -L "$d" ] && rm -rf "$d"
    done
    return $rc
}

np_tmpdir() {
    local d
    d=$(mktemp -d "/tmp/${NP_PREFIX}.XXXXXX")
    chmod 755 "$d"
    NP_DIRS+=("$d")
    echo "$d"
}

# np_nginx DIR ADDR PORT [NETNS]: serves DIR/www/ (probe.bin: 256 MiB sparse file) on ADDR:PORT,
# and over HTTPS on ADDR:8443 when DIR/tls.pem and DIR/tls.key exist.
np_nginx() {
    local dir=$1 addr=$2 port=$3 ns=${4:-}
    mkdir -p "$dir/www/netplace" "$dir/tmp" "$dir/logs" "$dir/server.d"
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
        include $dir/server.d/*.conf;   # extra locations (federation rig users: DAV, proxies)
    }
$( [ -e "$dir/tls.pem" ] && printf '    server {\n        listen %s:8443 ssl;\n        ssl_certificate %s/tls.pem;\n        ssl_certificate_key %s/tls.key;\n        root %s/www;\n    }\n' "$addr" "$dir" "$dir" "$dir")
}
CONF
    if [ -n "$ns" ]; then
        ip netns exec "$ns" nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/logs/nginx.out" 2>&1 &
    else
        nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/logs/nginx.out" 2>&1 &
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

# np_local NAME: the probing site's own namespace ($NP_LOCAL); probes run inside it with np_in.
np_local() {
    NP_LOCAL="${NP_PREFIX}-$1"
    ip netns add "$NP_LOCAL" && NP_NETNS+=("$NP_LOCAL")
    ip netns exec "$NP_LOCAL" ip link set lo up
}

np_in() { ip netns exec "$NP_LOCAL" "$@"; }

# np_site NAME INDEX RATE_MBIT: a namespace for site NAME, its server address 10.231.INDEX.2,
# joined to the local site's namespace (10.231.INDEX.1) by a veth pair; traffic leaving the
# site's namespace (server -> prober) is shaped to RATE. Nothing touches the host's own network.
np_site() {
    local name=$1 idx=$2 rate=$3
    local ns="${NP_PREFIX}-$name" a="l$idx" b="r$idx"
    ip netns add "$ns" && NP_NETNS+=("$ns")
    ip netns exec "$ns" ip link set lo up
    ip link add "$a" netns "$NP_LOCAL" type veth peer name "$b" netns "$ns"
    ip netns exec "$NP_LOCAL" ip addr add "10.231.$idx.1/24" dev "$a"
    ip netns exec "$NP_LOCAL" ip link set "$a" up
    ip netns exec "$ns" ip addr add "10.231.$idx.2/24" dev "$b"
    ip netns exec "$ns" ip link set "$b" up
    np_shape "$name" "$idx" "$rate"
}

# Token bucket on the site's egress. The burst holds at least 10 ms of traffic so the shaper
# itself does not cap below the configured rate at high rates.
np_shape() {
    local name=$1 idx=$2 rate=$3
    local burst=$(( rate * 1000000 / 8 / 100 ))
    [ "$burst" -lt 32768 ] && burst=32768
    ip netns exec "${NP_PREFIX}-$name" tc qdisc replace dev "r$idx" root tbf rate "${rate}mbit" burst "$burst" latency 50ms
}
