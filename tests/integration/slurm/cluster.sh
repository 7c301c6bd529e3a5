#!/usr/bin/env bash
# A real Slurm multi-cluster on this one machine: munged, mariadbd, slurmdbd and three clusters
# (alpha, beta, gamma), each a slurmctld + one slurmd, all under a private base directory. No
# systemd, nothing in /etc is touched. Every daemon's PID and expected process name is recorded so
# `stop` kills exactly what `start` started, even after PIDs wrapped.
#
#   cluster.sh start   BASE   start everything (stops what it started if any step fails)
#   cluster.sh stop    BASE   stop everything recorded in BASE/pids (safe to run twice)
#   cluster.sh status  BASE   print each recorded daemon and whether it is alive
#   cluster.sh restart-ctld BASE CLUSTER [SIGNAL]  stop that cluster's slurmctld (SIGTERM, or
#                             SIGNAL: KILL for a crash) and start it again on its saved state
#
# Environment (all optional):
#   NETPLACE_SLURM_PORT_BASE  first TCP port (default 26800; uses +0..+31)
#   NETPLACE_SPANK_SO         spank_netplace.so to load (plugstack.conf); unset: no plugin
#   NETPLACE_PLUGSTACK_ARGS   arguments after the plugin path, for all clusters
#   NETPLACE_PLUGSTACK_ARGS_<cluster>  extra arguments for one cluster (e.g. a topology XML)
#   NETPLACE_CLI_FILTER       cli_filter.lua to install next to each slurm.conf; unset: none
#   NETPLACE_PLUGSTACK_INCLUDE  plugstack.conf gets `include <this>` instead of the plugin line
#                             (an installed plugstack.conf.d/*.conf, tests/integration/package)
#   NETPLACE_PLUGIN_DIR       PluginDir= (colon-separated; relative plugin paths resolve there)
#   NETPLACE_CLUSTERS         cluster names (default "alpha beta gamma")
#   NETPLACE_NODE_GRES_<cluster>  GPUs of that cluster's node as gpu:COUNT (device nodes under BASE/<cluster>/dev)
#   NETPLACE_BURST_BUFFER_LUA  burst_buffer.lua to install next to each slurm.conf, with
#                             BurstBufferType=burst_buffer/lua and a burst_buffer.conf
#                             (Flags=TeardownFailure, StageInTimeout=$NETPLACE_BB_STAGE_TIMEOUT or 600)
#
# Per cluster C: BASE/C/etc/slurm.conf (netplace loaded) and BASE/C/etc-plain/slurm.conf (the same
# cluster seen by a client without netplace: no plugstack, no cli_filter) for side-by-side runs.
# BASE/env.sh exports SLURM_CONF of the first cluster and the munge socket for client calls.
set -euo pipefail

cmd=${1:-}
base=${2:-}
[ -n "$cmd" ] && [ -n "$base" ] || { echo "usage: $0 start|stop|status BASE" >&2; exit 2; }

clusters=(${NETPLACE_CLUSTERS:-alpha beta gamma})
port0=${NETPLACE_SLURM_PORT_BASE:-26800}
host=$(hostname -s)
T=${NETPLACE_SLURM_TIMEOUT:-10}   # seconds for any single client call

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- PID bookkeeping -----------------------------------------------------------------------------
record() {  # record PID COMM NAME
  echo "$1 $2 $3" >>"$base/pids"
}
alive() {  # alive PID COMM: the PID exists and still is the process we started
  [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

stop_all() {
  [ -f "$base/pids" ] || return 0
  # Stage by stage, reverse start order, so slurmd/slurmctld still reach their peers during their
  # shutdown RPCs; within a stage all stop in parallel. slurmdbd, mariadbd and munged each take
  # ~2 s to exit and nothing needs them once the controllers are gone, so they go together.
  local stage pid comm name i i2 ts pids
  local comms
  for stage in slurmd slurmctld "slurmdbd mariadbd munged"; do
    pids=(); comms=()
    while read -r pid comm name; do
      [[ " $stage " == *" $comm "* ]] || continue
      if alive "$pid" "$comm"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); comms+=("$comm"); fi
    done <"$base/pids"
    [ ${#pids[@]} -gt 0 ] || continue
    ts=$(date +%s%N)
    for i in $(seq 1 100); do
      local any=0
      for i2 in "${!pids[@]}"; do alive "${pids[$i2]}" "${comms[$i2]}" && any=1; done
      [ $any = 0 ] && break
      sleep 0.05
    done
    for i2 in "${!pids[@]}"; do
      if alive "${pids[$i2]}" "${comms[$i2]}"; then
        log "${comms[$i2]} (${pids[$i2]}) ignored SIGTERM for 5 s; SIGKILL"
        kill -KILL "${pids[$i2]}" 2>/dev/null || true
      fi
    done
    log "${#pids[@]} $stage stopped in $(( ($(date +%s%N) - ts) / 1000000 )) ms"
  done
  rm -f "$base/pids"
}

# setsid: the daemon must not share our process group (ctest kills that) nor inherit our pipes
# (CI would wait on them forever).
spawn() {  # spawn NAME COMM LOGFILE cmd...
  local name=$1 comm=$2 logf=$3; shift 3
  setsid "$@" </dev/null >"$logf" 2>&1 &
  local pid=$!
  record "$pid" "$comm" "$name"
  # setsid execs the daemon in place; wait for that so `alive` checks see the right name.
  local i
  for i in $(seq 1 100); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && break
    [ -d "/proc/$pid" ] || break
    sleep 0.02
  done
  echo "$pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION PID COMM cmd...: poll cmd until it succeeds
  local secs=$1 what=$2 pid=$3 comm=$4; shift 4
  local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
  while ! "$@" >/dev/null 2>&1; do
    if ! alive "$pid" "$comm"; then die "$what: $comm ($pid) exited; see its log under $base"; fi
    [ "$(date +%s%N)" -lt "$deadline" ] || die "$what: not ready after ${secs}s; see logs under $base"
    sleep 0.05
  done
}

# --- configuration -------------------------------------------------------------------------------
write_configs() {
  local sock=$base/munge/munge.socket
  local mem
  # RealMemory below free memory, else slurmd registers the node as invalid.
  mem=$(awk '/MemAvailable/ {printf "%d", $2/1024/8}' /proc/meminfo)
  local layout
  # The node's real layout (slurmd -C), or slurmd complains about socket/core boundaries.
  layout=$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')

  mkdir -p "$base/db"
  cat >"$base/db/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$sock
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort=$((port0 + 1))
SlurmUser=root
LogFile=$base/db/slurmdbd.log
PidFile=$base/db/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$port0
StorageUser=slurm
StoragePass=netplace-test
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$base/db/slurmdbd.conf"

  local i=0 c
  for c in "${clusters[@]}"; do
    i=$((i + 1))
    local d=$base/$c
    local gres_var="NETPLACE_NODE_GRES_$c" gres
    gres=${!gres_var:-}
    mkdir -p "$d/etc" "$d/etc-plain" "$d/state" "$d/spool" "$d/log"
    cat >"$d/etc/slurm.conf" <<EOF
ClusterName=$c
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$((port0 + 10 * i))
SlurmdPort=$((port0 + 10 * i + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MailProg=/bin/true
MpiDefault=none
FirstJobId=$((i * 1000))
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((port0 + 1))
AccountingStoragePass=socket=$sock
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=2
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=${c}1 NodeHostname=$host NodeAddr=127.0.0.1 $layout RealMemory=$mem ${gres:+Gres=$gres }State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -n "$gres" ]; then
      # Slurm 22.05 drops GPUs without File= ("file-less GPU") and wants character devices: one
      # node per GPU with /dev/null's numbers (nothing opens them), so Slurm allocates GPUs by
      # index and sets SLURM_STEP_GPUS/CUDA_VISIBLE_DEVICES as on a real GPU node.
      local n=${gres##*:} k
      mkdir -p "$d/dev"
      for k in $(seq 0 $((n - 1))); do
        mknod "$d/dev/nvidia$k" c 1 3 2>/dev/null || : >"$d/dev/nvidia$k"
      done
      echo "GresTypes=${gres%%:*}" >>"$d/etc/slurm.conf"
      echo "NodeName=${c}1 Name=${gres%%:*} File=$d/dev/nvidia[0-$((n - 1))]" >"$d/etc/gres.conf"
    fi
    # The client-only twin: the same cluster without netplace, for side-by-side benchmarks.
    sed -e '/^PlugStackConfig=/d' -e '/^CliFilterPlugins=/d' "$d/etc/slurm.conf" >"$d/etc-plain/slurm.conf"
    echo "PlugStackConfig=$d/etc-plain/plugstack.conf" >>"$d/etc-plain/slurm.conf"
    : >"$d/etc-plain/plugstack.conf"

    echo "PlugStackConfig=$d/etc/plugstack.conf" >>"$d/etc/slurm.conf"
    if [ -n "${NETPLACE_PLUGIN_DIR:-}" ]; then
      echo "PluginDir=$NETPLACE_PLUGIN_DIR" >>"$d/etc/slurm.conf"
      echo "PluginDir=$NETPLACE_PLUGIN_DIR" >>"$d/etc-plain/slurm.conf"
    fi
    if [ -n "${NETPLACE_PLUGSTACK_INCLUDE:-}" ]; then
      echo "include $NETPLACE_PLUGSTACK_INCLUDE" >"$d/etc/plugstack.conf"
    elif [ -n "${NETPLACE_SPANK_SO:-}" ]; then
      local extra_var="NETPLACE_PLUGSTACK_ARGS_$c"
      echo "required ${NETPLACE_SPANK_SO} ${NETPLACE_PLUGSTACK_ARGS:-} ${!extra_var:-}" >"$d/etc/plugstack.conf"
    else
      : >"$d/etc/plugstack.conf"
    fi
    if [ -n "${NETPLACE_CLI_FILTER:-}" ]; then
      echo "CliFilterPlugins=cli_filter/lua" >>"$d/etc/slurm.conf"
      # cli_filter/lua reads cli_filter.lua from the directory of slurm.conf.
      cp "$NETPLACE_CLI_FILTER" "$d/etc/cli_filter.lua"
    fi
    if [ -n "${NETPLACE_BURST_BUFFER_LUA:-}" ]; then
      # Data staging (docs/staging.md): burst_buffer/lua reads both files next to slurm.conf.
      echo "BurstBufferType=burst_buffer/lua" >>"$d/etc/slurm.conf"
      cp "$NETPLACE_BURST_BUFFER_LUA" "$d/etc/burst_buffer.lua"
      printf 'Flags=TeardownFailure\nStageInTimeout=%s\nStageOutTimeout=%s\n' \
        "${NETPLACE_BB_STAGE_TIMEOUT:-600}" "${NETPLACE_BB_STAGE_TIMEOUT:-600}" >"$d/etc/burst_buffer.conf"
    fi
    # slurmdbd reads slurmdbd.conf from SLURM_CONF's directory; only the first cluster starts it.
    [ $i -eq 1 ] && ln -sf "$base/db/slurmdbd.conf" "$d/etc/slurmdbd.conf"
  done

  cat >"$base/env.sh" <<EOF
# Source this for client calls against the test multi-cluster.
export SLURM_CONF=$base/${clusters[0]}/etc/slurm.conf
export NETPLACE_SLURM_BASE=$base
export NETPLACE_MUNGE_SOCKET=$sock
EOF
}

# --- start ---------------------------------------------------------------------------------------
start_all() {
  local t0
  t0=$(date +%s%N)
  [ -f "$base/pids" ] && stop_all
  # A port held by someone else (another test cluster) would surface as an obscure daemon
  # failure half-way through; say it up front.
  local p busy
  busy=$(ss -Hltn 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for p in "$port0" $((port0 + 1)) $(for k in $(seq 1 ${#clusters[@]}); do echo $((port0 + 10 * k)) $((port0 + 10 * k + 1)); done); do
    if grep -qx "$p" <<<"$busy"; then
      die "TCP port $p is in use (another test cluster?); stop it or set NETPLACE_SLURM_PORT_BASE"
    fi
  done
  rm -rf "${base:?}/munge" "$base/mysql" "$base/db" "${clusters[@]/#/$base/}"
  mkdir -p "$base"
  write_configs

  # 1. munged with its own key and socket.
  mkdir -p "$base/munge/etc" "$base/munge/run"
  chmod 700 "$base/munge/etc"; chmod 755 "$base/munge" "$base/munge/run"
  head -c 1024 /dev/urandom >"$base/munge/etc/munge.key"; chmod 400 "$base/munge/etc/munge.key"
  local sock=$base/munge/munge.socket
  local pid
  pid=$(spawn munged munged "$base/munge/munged.out" /usr/sbin/munged --foreground --force \
        --key-file="$base/munge/etc/munge.key" --socket="$sock" --pid-file="$base/munge/munged.pid" \
        --log-file="$base/munge/munged.log" --seed-file="$base/munge/seed")
  step() { log "$1 ready at $(( ($(date +%s%N) - t0) / 1000000 )) ms"; }
  wait_for 10 munged "$pid" munged bash -c "munge -n -S '$sock' | unmunge -S '$sock'"

  step munged
  # 2. MariaDB for slurmdbd, private datadir and socket.
  mkdir -p "$base/mysql"
  timeout 60 mariadb-install-db --no-defaults --datadir="$base/mysql/data" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$base/mysql/install.log" 2>&1 \
    || die "mariadb-install-db failed; see $base/mysql/install.log"
  pid=$(spawn mariadbd mariadbd "$base/mysql/mariadbd.log" /usr/sbin/mariadbd --no-defaults --user=root \
        --datadir="$base/mysql/data" --socket="$base/mysql/sock" --pid-file="$base/mysql/pid" \
        --port="$port0" --bind-address=127.0.0.1 --innodb-buffer-pool-size=512M \
        --skip-log-bin --innodb-flush-log-at-trx-commit=0)
  wait_for 30 mariadbd "$pid" mariadbd mariadb-admin --no-defaults -S "$base/mysql/sock" ping
  step mariadbd
  timeout "$T" mariadb --no-defaults -S "$base/mysql/sock" -e "
    CREATE DATABASE slurm_acct_db;
    CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'netplace-test';
    CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'netplace-test';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || die "creating the accounting database"

  # 3. slurmdbd, then one cluster record per cluster.
  local c0=${clusters[0]}
  pid=$(SLURM_CONF=$base/$c0/etc/slurm.conf spawn slurmdbd slurmdbd "$base/db/slurmdbd.out" /usr/sbin/slurmdbd -D)
  export SLURM_CONF=$base/$c0/etc/slurm.conf
  wait_for 30 slurmdbd "$pid" slurmdbd timeout "$T" sacctmgr -n list cluster
  local c
  for c in "${clusters[@]}"; do
    timeout "$T" sacctmgr -i add cluster "$c" >/dev/null || die "sacctmgr add cluster $c"
  done

  step slurmdbd
  # 4. one slurmctld per cluster, 5. one slurmd per cluster.
  local ctld=()
  for c in "${clusters[@]}"; do
    pid=$(SLURM_CONF=$base/$c/etc/slurm.conf spawn "slurmctld-$c" slurmctld "$base/$c/log/slurmctld.out" \
          /usr/sbin/slurmctld -D -i)
    ctld+=("$pid")
  done
  local k=0
  for c in "${clusters[@]}"; do
    SLURM_CONF=$base/$c/etc/slurm.conf wait_for 30 "slurmctld $c" "${ctld[$k]}" slurmctld \
      bash -c "timeout $T scontrol ping | grep -q 'is UP'"
    k=$((k + 1))
  done
  step slurmctld
  for c in "${clusters[@]}"; do
    pid=$(SLURM_CONF=$base/$c/etc/slurm.conf spawn "slurmd-$c" slurmd "$base/$c/log/slurmd.out" \
          /usr/sbin/slurmd -D -N "${c}1")
    SLURM_CONF=$base/$c/etc/slurm.conf wait_for 30 "slurmd $c" "$pid" slurmd \
      bash -c "timeout $T sinfo -h -n ${c}1 -o %T | grep -qx idle"
  done
  step slurmd
  # `-M c` needs slurmctld's registration with slurmdbd (its control port) to be visible.
  for c in "${clusters[@]}"; do
    wait_for 30 "dbd registration of $c" "${ctld[0]}" slurmctld \
      bash -c "timeout $T sacctmgr -n -P list cluster $c format=controlport | grep -qv '^0*$'"
  done
  log "started ${clusters[*]} under $base in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

case "$cmd" in
  start)
    # Anything failing half-way leaves no daemon behind.
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed; stopping what was started"; stop_all; fi' EXIT
    start_all
    ;;
  stop)
    t0=$(date +%s%N)
    stop_all
    log "stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    ;;
  status)
    [ -f "$base/pids" ] || { echo "nothing recorded in $base/pids"; exit 0; }
    while read -r pid comm name; do
      if alive "$pid" "$comm"; then echo "$name $pid up"; else echo "$name $pid DOWN"; fi
    done <"$base/pids"
    ;;
  restart-ctld)
    c=${3:-}; sig=${4:-TERM}
    [ -n "$c" ] || die "usage: $0 restart-ctld BASE CLUSTER [SIGNAL]"
    read -r pid comm name < <(awk -v n="slurmctld-$c" '$3 == n' "$base/pids" | tail -1) ||
      die "no slurmctld-$c recorded in $base/pids"
    alive "$pid" "$comm" || die "slurmctld-$c ($pid) is not running"
    t0=$(date +%s%N)
    kill "-$sig" "$pid"
    for _ in $(seq 600); do alive "$pid" "$comm" || break; sleep 0.05; done
    alive "$pid" "$comm" && die "slurmctld-$c ($pid) still running 30 s after SIG$sig"
    grep -v "^$pid slurmctld slurmctld-$c\$" "$base/pids" >"$base/pids.new" || true
    mv "$base/pids.new" "$base/pids"
    # -i: the saved state is used even if the controller died while writing part of it.
    pid=$(SLURM_CONF=$base/$c/etc/slurm.conf spawn "slurmctld-$c" slurmctld "$base/$c/log/slurmctld.out" \
          /usr/sbin/slurmctld -D -i)
    SLURM_CONF=$base/$c/etc/slurm.conf wait_for 30 "slurmctld $c" "$pid" slurmctld \
      bash -c "timeout $T scontrol ping | grep -q 'is UP'"
    log "slurmctld-$c restarted (SIG$sig) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    ;;
  *) echo "usage: $0 start|stop|status|restart-ctld BASE" >&2; exit 2 ;;
esac
