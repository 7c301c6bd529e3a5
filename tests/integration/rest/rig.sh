# Sourced by test_rest.sh and bench/slurm/rest.sh: a home multi-cluster (alpha, beta; shared
# slurmdbd, netplace's SPANK plugin and cli_filter) plus an independent centre delta
# (restsite.sh: own munge key, slurmrestd + JWT) behind fault_proxy.py, and the federation that
# ties them. Everything is stopped by PID on exit (rig_stop).
#
# delta lives in its own network namespace (munged, slurmctld, slurmd, slurmrestd and the fault
# proxy in front of it all run there), joined to this host by one veth pair: the home side reaches
# it only over HTTP at delta_addr, as an independent centre. The namespace is deleted on stop,
# with any process still in it (slurmstepd and job children included).
#
# Needs: src, bin, base (a fresh private dir under /tmp). Sets: fed, state, proxy_port,
# rest_port, delta_addr, delta_url (the proxy: what the federation names), delta_conf, home_env.
# Port base: NETPLACE_SLURM_PORT_BASE (default 26800); the home multi-cluster uses +0..+31, delta
# +40..+42, the proxy +43, +44 stays closed ("D down"). delta's /30 is 10.233.N.0 with N from
# the port base, so two rigs on different port bases do not collide.

rig_here=$src/tests/integration/rest
rig_port0=${NETPLACE_SLURM_PORT_BASE:-26800}
rest_port=$((rig_port0 + 42))
proxy_port=$((rig_port0 + 43))
closed_port=$((rig_port0 + 44))
rig_net=10.233.$(( (rig_port0 / 10) % 250 ))
delta_addr=$rig_net.2
delta_url=http://$delta_addr:$proxy_port
rig_ns=np-rest-delta-$$
rig_ns_made=0
rig_started=0
rig_proxy_pid=

rig_python() {
  # The distribution's interpreter: a user-level shim (pyenv) may take seconds to start.
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi
}

rig_stop() {
  if [ -n "$rig_proxy_pid" ] && [ -r "/proc/$rig_proxy_pid/cmdline" ] &&
     grep -q fault_proxy "/proc/$rig_proxy_pid/cmdline" 2>/dev/null; then
    kill "$rig_proxy_pid" 2>/dev/null || true
  fi
  if [ $rig_started = 1 ]; then
    NETPLACE_NETNS=$rig_ns "$rig_here/restsite.sh" stop "$base/delta" || true
    "$src/tests/integration/slurm/cluster.sh" stop "$base/home" || true
  fi
  if [ $rig_ns_made = 1 ]; then
    # Whatever still runs in delta's namespace is the rig's own (job steps, their children).
    local pid
    for pid in $(ip netns pids "$rig_ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$rig_ns" 2>/dev/null || true   # takes the veth pair with it
    rig_ns_made=0
  fi
}

# delta's namespace: lo up, one veth pair, $rig_net.1 here and $delta_addr there.
rig_netns() {
  local host_if=npd$$
  ip netns add "$rig_ns" || return 1
  rig_ns_made=1
  ip link add "$host_if" type veth peer name eth0 netns "$rig_ns" || return 1
  ip addr add "$rig_net.1/30" dev "$host_if" && ip link set "$host_if" up || return 1
  ip -n "$rig_ns" addr add "$delta_addr/30" dev eth0 || return 1
  ip -n "$rig_ns" link set eth0 up && ip -n "$rig_ns" link set lo up || return 1
}

# rig_federation ON_FAILURE URL: (re)writes the federation every submission reads.
rig_federation() {
  cat >"$fed" <<EOF
# Written by tests/integration/rest/rig.sh: home alpha (+ beta) is a Slurm multi-cluster;
# delta is an independent centre reached only through its slurmrestd.
federation: np-rest-test
local_site: alpha
defaults: {bandwidth: 1Gbit/s, latency: 20ms, intra_site_bandwidth: 100Gbit/s}
sites:
  - name: alpha
    cluster: alpha
    capacity: {nodes: 1, cores: 2, memory: 4G}
    static_wait: 10m
  - name: beta
    cluster: beta
    capacity: {nodes: 1, cores: 2, memory: 4G}
    static_wait: 10m
  - name: delta
    cluster: delta
    partitions: [batch]   # what the federation may use at the centre: the collector counts these
    access: rest
    rest:
      url: $2
      user_token: "$base/home-dirs/%u/.netplace/tokens/%s.jwt"
      service_token: $base/collector/delta.jwt
      service_user: root
      connect_timeout: 2s
      timeout: ${NETPLACE_REST_TIMEOUT:-8s}
      on_forward_failure: $1
    capacity: {nodes: 1, cores: 2, memory: 4G}
    static_wait: 10m
EOF
}

rig_start() {
  fed=$base/federation.yaml
  state=$base/state
  mkdir -p "$state" "$base/home-dirs/root/.netplace/tokens" "$base/collector"
  chmod 700 "$base/collector" "$base/home-dirs/root/.netplace"
  cat >"$base/policy.yaml" <<EOF
default: fastest
accounts:
  students: {deny: [delta]}
EOF
  rig_federation home "$delta_url"
  export NETPLACE_SPANK_SO=$bin/plugins/slurm/spank_netplace.so
  export NETPLACE_CLI_FILTER=$bin/plugins/slurm/cli_filter.lua
  export NETPLACE_PLUGSTACK_ARGS="federation=$fed policy=$base/policy.yaml state_dir=$state topology_cache=none"
  rig_started=1
  NETPLACE_CLUSTERS="alpha beta" "$src/tests/integration/slurm/cluster.sh" start "$base/home" || return 1
  rig_netns || { echo "delta's network namespace could not be made" >&2; return 1; }
  NETPLACE_NETNS=$rig_ns NETPLACE_REST_ADDR=$delta_addr NETPLACE_REST_PORT_BASE=$((rig_port0 + 40)) \
    "$rig_here/restsite.sh" start "$base/delta" || return 1
  delta_conf=$base/delta/delta/etc/slurm.conf
  home_env=$base/home/env.sh
  # The centre's admin issues tokens; users and the collector keep them in 0600 files.
  local tok
  tok=$(NETPLACE_NETNS=$rig_ns "$rig_here/restsite.sh" token "$base/delta" root 3600) || return 1
  (umask 077; printf '%s\n' "$tok" >"$base/home-dirs/root/.netplace/tokens/delta.jwt"
   printf '%s\n' "$tok" >"$base/collector/delta.jwt")
  : >"$base/proxy.count"
  # The proxy is delta's front door, inside its namespace (nsenter execs it: $! is python).
  setsid nsenter "--net=/run/netns/$rig_ns" "$(rig_python)" "$rig_here/fault_proxy.py" \
    "$delta_addr:$proxy_port" "$delta_addr:$rest_port" \
    "$base/proxy.mode" "$base/proxy.count" </dev/null >"$base/proxy.log" 2>&1 &
  rig_proxy_pid=$!
  local i
  for i in $(seq 1 100); do
    ip netns exec "$rig_ns" ss -Hltn "sport = :$proxy_port" | grep -q . && break
    sleep 0.1
  done
  ip netns exec "$rig_ns" ss -Hltn "sport = :$proxy_port" | grep -q . ||
    { echo "fault proxy did not start" >&2; return 1; }
  # delta is reachable from home only across the veth: a check, so a test never runs against a
  # centre that is not where the federation says.
  curl -s -o /dev/null -m 5 "http://$delta_addr:$proxy_port/" ||
    { echo "delta's front door $delta_url not reachable from home" >&2; return 1; }
}

# Jobs at the centre, by its own controller (the centre admin's view, munge of delta).
rig_delta_jobs() {
  SLURM_CONF=$delta_conf timeout 10 squeue -h -t all -o '%i|%T|%k' 2>/dev/null
}
