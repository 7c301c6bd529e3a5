# Sourced by test_rest.sh and bench/slurm/rest.sh: a home multi-cluster (alpha, beta; shared
# slurmdbd, netplace's SPANK plugin and cli_filter) plus an independent centre delta
# (restsite.sh: own munge key, slurmrestd + JWT) behind fault_proxy.py, and the federation that
# ties them. Everything is stopped by PID on exit (rig_stop).
#
# Needs: src, bin, base (a fresh private dir under /tmp). Sets: fed, state, proxy_port,
# rest_port, delta_conf, home_env. Port base: NETPLACE_SLURM_PORT_BASE (default 26800); the home
# multi-cluster uses +0..+31, delta +40..+42, the proxy +43, +44 stays closed ("D down").

rig_here=$src/tests/integration/rest
rig_port0=${NETPLACE_SLURM_PORT_BASE:-26800}
rest_port=$((rig_port0 + 42))
proxy_port=$((rig_port0 + 43))
closed_port=$((rig_port0 + 44))
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
    "$rig_here/restsite.sh" stop "$base/delta" || true
    "$src/tests/integration/slurm/cluster.sh" stop "$base/home" || true
  fi
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
  rig_federation home "http://127.0.0.1:$proxy_port"
  export NETPLACE_SPANK_SO=$bin/plugins/slurm/spank_netplace.so
  export NETPLACE_CLI_FILTER=$bin/plugins/slurm/cli_filter.lua
  export NETPLACE_PLUGSTACK_ARGS="federation=$fed policy=$base/policy.yaml state_dir=$state topology_cache=none"
  rig_started=1
  NETPLACE_CLUSTERS="alpha beta" "$src/tests/integration/slurm/cluster.sh" start "$base/home" || return 1
  NETPLACE_REST_PORT_BASE=$((rig_port0 + 40)) "$rig_here/restsite.sh" start "$base/delta" || return 1
  delta_conf=$base/delta/delta/etc/slurm.conf
  home_env=$base/home/env.sh
  # The centre's admin issues tokens; users and the collector keep them in 0600 files.
  local tok
  tok=$("$rig_here/restsite.sh" token "$base/delta" root 3600) || return 1
  (umask 077; printf '%s\n' "$tok" >"$base/home-dirs/root/.netplace/tokens/delta.jwt"
   printf '%s\n' "$tok" >"$base/collector/delta.jwt")
  : >"$base/proxy.count"
  setsid "$(rig_python)" "$rig_here/fault_proxy.py" "$proxy_port" "127.0.0.1:$rest_port" \
    "$base/proxy.mode" "$base/proxy.count" </dev/null >"$base/proxy.log" 2>&1 &
  rig_proxy_pid=$!
  local i
  for i in $(seq 1 100); do
    ss -Hltn "sport = :$proxy_port" | grep -q . && break
    sleep 0.1
  done
  ss -Hltn "sport = :$proxy_port" | grep -q . || { echo "fault proxy did not start" >&2; return 1; }
}

# Jobs at the centre, by its own controller (the centre admin's view, munge of delta).
rig_delta_jobs() {
  SLURM_CONF=$delta_conf timeout 10 squeue -h -t all -o '%i|%T|%k' 2>/dev/null
}
