#!/usr/bin/env bash
# An independent centre reachable only over HTTP: one Slurm cluster with its OWN munge key, no
# slurmdbd, JWT as alternative auth, and slurmrestd (openapi/v0.0.38, rest_auth/jwt) in front.
# Nothing is shared with the home multi-cluster (tests/integration/slurm/cluster.sh) but the host.
#
#   restsite.sh start  BASE   start munged, slurmctld, slurmd, slurmrestd (all or nothing)
#   restsite.sh stop   BASE   stop everything recorded in BASE/pids (safe to run twice)
#   restsite.sh token  BASE USER SECONDS   print a JWT for USER (the centre admin's `scontrol token`)
#
# Environment: NETPLACE_REST_CLUSTER (default delta), NETPLACE_REST_PORT_BASE (default 26840;
# uses +0 slurmctld, +1 slurmd, +2 slurmrestd), NETPLACE_NETNS (run every daemon inside this
# network namespace, e.g. a federation rig's site; default: none, loopback of this host).
# BASE/rest.env records REST_URL, SLURM_CONF and the munge socket of the centre.
set -euo pipefail

cmd=${1:-}
base=${2:-}
[ -n "$cmd" ] && [ -n "$base" ] || { echo "usage: $0 start|stop|token BASE" >&2; exit 2; }
c=${NETPLACE_REST_CLUSTER:-delta}
port0=${NETPLACE_REST_PORT_BASE:-26840}
host=$(hostname -s)
T=10
ns=()
# nsenter, not `ip netns exec`: that one also remounts /sys for the namespace, which leaves no
# /sys/fs/cgroup and slurmd then fails ("Unable to initialize cgroup plugin"). Only the network
# namespace changes; nsenter execs, so a recorded PID is the daemon's.
[ -n "${NETPLACE_NETNS:-}" ] && ns=(nsenter "--net=/run/netns/$NETPLACE_NETNS")

log() { printf '[restsite %s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
record() { echo "$1 $2 $3" >>"$base/pids"; }
alive() { [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

stop_all() {
  [ -f "$base/pids" ] || return 0
  local stage pid comm name i
  for stage in slurmrestd slurmd slurmctld munged; do
    while read -r pid comm name; do
      [ "$comm" = "$stage" ] || continue
      alive "$pid" "$comm" || continue
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do alive "$pid" "$comm" || break; sleep 0.05; done
      alive "$pid" "$comm" && kill -KILL "$pid" 2>/dev/null || true
    done <"$base/pids"
  done
  rm -f "$base/pids"
}

spawn() {  # spawn NAME COMM LOGFILE cmd...
  local name=$1 comm=$2 logf=$3; shift 3
  setsid "${ns[@]}" "$@" </dev/null >"$logf" 2>&1 &
  local pid=$! i
  record "$pid" "$comm" "$name"
  for i in $(seq 1 100); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && break
    [ -d "/proc/$pid" ] || break
    sleep 0.02
  done
  echo "$pid"
}

wait_for() {  # wait_for SECONDS WHAT PID COMM cmd...
  local secs=$1 what=$2 pid=$3 comm=$4; shift 4
  local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
  while ! "$@" >/dev/null 2>&1; do
    alive "$pid" "$comm" || die "$what: $comm ($pid) exited; see logs under $base"
    [ "$(date +%s%N)" -lt "$deadline" ] || die "$what: not ready after ${secs}s; see logs under $base"
    sleep 0.05
  done
}

start_all() {
  local t0 pid
  t0=$(date +%s%N)
  [ -f "$base/pids" ] && stop_all
  rm -rf "${base:?}/munge" "$base/$c"
  local d=$base/$c sock=$base/munge/munge.socket
  mkdir -p "$base/munge/etc" "$d/etc" "$d/state" "$d/spool" "$d/log" "$d/jwt"
  chmod 700 "$base/munge/etc"; chmod 755 "$base/munge"
  head -c 1024 /dev/urandom >"$base/munge/etc/munge.key"; chmod 400 "$base/munge/etc/munge.key"
  # The centre's JWT signing key: only slurmctld (root here) reads it.
  head -c 32 /dev/urandom >"$d/jwt/jwt_hs256.key"; chmod 600 "$d/jwt/jwt_hs256.key"
  local mem layout
  mem=$(awk '/MemAvailable/ {printf "%d", $2/1024/8}' /proc/meminfo)
  layout=$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')
  local addr=127.0.0.1
  [ -n "${NETPLACE_REST_ADDR:-}" ] && addr=$NETPLACE_REST_ADDR
  cat >"$d/etc/slurm.conf" <<CONF
ClusterName=$c
SlurmctldHost=$host($addr)
SlurmctldPort=$port0
SlurmdPort=$((port0 + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$d/jwt/jwt_hs256.key
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
FirstJobId=7000
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=2
MinJobAge=600
NodeName=${c}1 NodeHostname=$host NodeAddr=$addr $layout RealMemory=$mem State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PlugStackConfig=$d/etc/plugstack.conf
CONF
  : >"$d/etc/plugstack.conf"
  export SLURM_CONF=$d/etc/slurm.conf
  pid=$(spawn munged munged "$base/munge/munged.out" /usr/sbin/munged --foreground --force \
        --key-file="$base/munge/etc/munge.key" --socket="$sock" --pid-file="$base/munge/munged.pid" \
        --log-file="$base/munge/munged.log" --seed-file="$base/munge/seed")
  wait_for 10 munged "$pid" munged bash -c "munge -n -S '$sock' | unmunge -S '$sock'"
  pid=$(spawn slurmctld slurmctld "$d/log/slurmctld.out" /usr/sbin/slurmctld -D -i)
  wait_for 30 slurmctld "$pid" slurmctld bash -c "timeout $T ${ns[*]} scontrol ping | grep -q 'is UP'"
  pid=$(spawn slurmd slurmd "$d/log/slurmd.out" /usr/sbin/slurmd -D -N "${c}1")
  wait_for 30 slurmd "$pid" slurmd bash -c "timeout $T ${ns[*]} sinfo -h -n ${c}1 -o %T | grep -qx idle"
  # slurmrestd refuses root and SlurmUser; -u/-g drop privileges after binding. Only the
  # v0.0.38 Slurm plugin: the dbv0.0.38 one would need a slurmdbd.
  pid=$(SLURM_JWT=daemon spawn slurmrestd slurmrestd "$d/log/slurmrestd.out" /usr/sbin/slurmrestd \
        -s openapi/v0.0.38 -a rest_auth/jwt -u nobody -g nogroup "$addr:$((port0 + 2))")
  local tok
  tok=$(timeout $T "${ns[@]}" scontrol token username=root lifespan=60 | sed 's/^SLURM_JWT=//')
  wait_for 30 slurmrestd "$pid" slurmrestd bash -c \
    "${ns[*]} curl -sf -m 2 -H 'X-SLURM-USER-NAME: root' -H @- http://$addr:$((port0 + 2))/slurm/v0.0.38/ping <<<'X-SLURM-USER-TOKEN: $tok'"
  cat >"$base/rest.env" <<ENV
REST_URL=http://$addr:$((port0 + 2))
REST_SLURM_CONF=$d/etc/slurm.conf
REST_CLUSTER=$c
ENV
  log "centre $c with slurmrestd at http://$addr:$((port0 + 2)) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

case "$cmd" in
  start)
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed; stopping what was started"; stop_all; fi' EXIT
    start_all ;;
  stop) stop_all ;;
  token)
    # What the centre's admin hands a user or a service account: the JWT alone.
    SLURM_CONF=$base/$c/etc/slurm.conf timeout $T "${ns[@]}" scontrol token username="$3" lifespan="$4" \
      | sed 's/^SLURM_JWT=//' ;;
  *) echo "usage: $0 start|stop|token BASE" >&2; exit 2 ;;
esac
