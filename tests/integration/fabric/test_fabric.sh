#!/usr/bin/env bash
# `netplace fabric` against real components: a fat tree simulated by ibsim and discovered by the
# real ibnetdiscover becomes a topology.conf that a real slurmctld (topology/tree) loads; jobs are
# placed under one leaf; real topology.conf files from ../shared/data/slurm go through the same
# loop (topology.conf -> ibsim -> ibnetdiscover -> netplace -> same tree); gres.conf generated from
# real hwloc exports is parsed by a real slurmd (`slurmd -G`).
#
# One rig: munged + slurmctld + one slurmd per node name (16), all under a private base dir, all
# stopped by PID on exit. Needs root, ibsim-utils, infiniband-diags and Slurm (exit 77 otherwise).
# Environment: NETPLACE_BINARY_DIR, NETPLACE_SOURCE_DIR, NETPLACE_SHARED_DATA (set by ctest),
# NETPLACE_SLURM_PORT_BASE (default 26900; uses +0..+20).
set -uo pipefail

src=${NETPLACE_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${NETPLACE_BINARY_DIR:?NETPLACE_BINARY_DIR: the build directory}
shared=${NETPLACE_SHARED_DATA:-$src/../shared/data}
here=$src/tests/integration/fabric
cli=$bin/tools/netplace/netplace
umad2sim=/usr/lib/x86_64-linux-gnu/umad2sim/libumad2sim.so
port0=${NETPLACE_SLURM_PORT_BASE:-26900}
host=$(hostname -s)
T=15

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (slurmd and munged run as root here)"
for t in ibsim ibnetdiscover munged slurmctld slurmd sbatch scontrol squeue; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || skip "$t not installed (scripts/install-deps.sh test)"
done
[ -e "$umad2sim" ] || skip "$umad2sim missing (ibsim-utils)"
[ -x "$cli" ] || { echo "FAIL: $cli not built"; exit 1; }

base=$(mktemp -d /tmp/netplace-fabric-it.XXXXXX)
: >"$base/pids"
# ibsim and its clients meet on a named socket: a private name keeps parallel runs apart.
export IBSIM_SOCKNAME=netplace-fabric-$$
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
log() { echo "[fabric $(date +%H:%M:%S)] $*"; }

alive() { [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
spawn() {  # spawn COMM LOG cmd...: start a daemon in its own session, record PID and name
  local comm=$1 logf=$2; shift 2
  setsid "$@" </dev/null >"$logf" 2>&1 &
  local pid=$! i
  echo "$pid $comm" >>"$base/pids"
  for i in $(seq 1 100); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && break
    [ -d "/proc/$pid" ] || break
    sleep 0.02
  done
  echo "$pid"
}
stop_comm() {  # stop every recorded daemon with this name, SIGKILL after 5 s
  local want=$1 pid comm i
  while read -r pid comm; do
    [ "$comm" = "$want" ] && alive "$pid" "$comm" && kill -TERM "$pid" 2>/dev/null
  done <"$base/pids"
  for i in $(seq 1 100); do
    local any=0
    while read -r pid comm; do [ "$comm" = "$want" ] && alive "$pid" "$comm" && any=1; done <"$base/pids"
    [ $any = 0 ] && return 0
    sleep 0.05
  done
  while read -r pid comm; do
    [ "$comm" = "$want" ] && alive "$pid" "$comm" && kill -KILL "$pid" 2>/dev/null
  done <"$base/pids"
  return 0
}
cleanup() {
  local rc=$?
  stop_comm slurmd; stop_comm slurmctld; stop_comm munged; stop_comm ibsim
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then echo "--- logs kept in $base"; else rm -rf "$base"; fi
}
trap cleanup EXIT

# discover NETFILE OUT [IBSIM ARGS...]: run ibsim on NETFILE, ibnetdiscover into OUT, stop ibsim.
discover() {
  local net=$1 out=$2; shift 2
  local pid i
  pid=$(spawn ibsim "$base/ibsim.log" ibsim "$@" -s "$net")
  for i in $(seq 1 100); do
    if LD_PRELOAD=$umad2sim timeout 60 ibnetdiscover >"$out" 2>"$out.err"; then break; fi
    alive "$pid" ibsim || { cat "$base/ibsim.log"; return 1; }
    sleep 0.1
  done
  stop_comm ibsim
  grep -q '^Switch' "$out"
}

# --- 1. a fat tree: 4 leaves x 4 nodes, 2 spines, node004 with a second HCA on leaf02 -----------
"$here/make-fat-tree.sh" 4 2 4 1 >"$base/fat.net"
discover "$base/fat.net" "$base/fat.txt" || { echo "FAIL: ibsim/ibnetdiscover on the fat tree"; exit 1; }
log "ibnetdiscover: $(grep -c '^Switch' "$base/fat.txt") switches, $(grep -c '^Ca' "$base/fat.txt") HCAs"
"$cli" fabric topology "$base/fat.txt" -o "$base/topology.conf" 2>"$base/topology.err" \
  || { cat "$base/topology.err"; echo "FAIL: netplace fabric topology"; exit 1; }
cat "$base/topology.conf"
"$cli" fabric topology "$base/fat.txt" --json >"$base/fat.json" || fail "--json"
[ "$(jq '.hcas | length' "$base/fat.json")" = 17 ] && [ "$(jq .nodes "$base/fat.json")" = 16 ] \
  && ok "--json: 17 HCAs, 16 nodes" || fail "--json counts: $(jq -c '{n: .nodes, h: (.hcas|length)}' "$base/fat.json")"

# The truth, read from the net file (not from netplace): which node's mlx5_0 hangs off which leaf.
truth_leaf() {  # truth_leaf LEAF: node names on it, sorted
  awk -v want="MF0;$1:MQM8700/U1" '
    /^Switch/ { split($0, q, "\""); cur = q[2]; next }
    /^\[/ && cur == want { split($0, q, "\""); split(q[2], w, " "); if (w[2] == "mlx5_0") print w[1] }
    /^$/ { cur = "" }' "$base/fat.net" | sort
}

# --- 2. a real slurmctld with TopologyPlugin=topology/tree, one slurmd per node ------------------
mkdir -p "$base/etc" "$base/state" "$base/spool" "$base/log" "$base/munge/etc" "$base/munge/run"
chmod 700 "$base/munge/etc"; chmod 755 "$base/munge" "$base/munge/run"
head -c 1024 /dev/urandom >"$base/munge/etc/munge.key"; chmod 400 "$base/munge/etc/munge.key"
sock=$base/munge/munge.socket
layout=$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')
nodes=$(awk -F'"' '/^Hca/ {split($2, w, " "); print w[1]}' "$base/fat.net" | sort -u)
cat >"$base/etc/slurm.conf" <<EOF
ClusterName=fabric
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port0
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool/%n
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd-%n.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
TopologyPlugin=topology/tree
ReturnToService=2
MailProg=/bin/true
MpiDefault=none
InactiveLimit=0
KillWait=2
SlurmdTimeout=120
PlugStackConfig=$base/etc/plugstack.conf
EOF
: >"$base/etc/plugstack.conf"
i=0
for n in $nodes; do
  i=$((i + 1))
  echo "NodeName=$n NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port0 + i)) $layout RealMemory=100 State=UNKNOWN" >>"$base/etc/slurm.conf"
done
echo "PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$base/etc/slurm.conf"
cp "$base/topology.conf" "$base/etc/topology.conf"
export SLURM_CONF=$base/etc/slurm.conf

spawn munged "$base/munge/out" /usr/sbin/munged --foreground --force \
  --key-file="$base/munge/etc/munge.key" --socket="$sock" --pid-file="$base/munge/pid" \
  --log-file="$base/munge/log" --seed-file="$base/munge/seed" >/dev/null
for i in $(seq 1 100); do munge -n -S "$sock" | unmunge -S "$sock" >/dev/null 2>&1 && break; sleep 0.05; done
ctld=$(spawn slurmctld "$base/log/slurmctld.out" /usr/sbin/slurmctld -D -i)
for i in $(seq 1 200); do
  timeout $T scontrol ping 2>/dev/null | grep -q 'is UP' && break
  alive "$ctld" slurmctld || { cat "$base/log/slurmctld.out" "$base/log/slurmctld.log"; echo "FAIL: slurmctld died"; exit 1; }
  sleep 0.1
done
for n in $nodes; do spawn slurmd "$base/log/slurmd-$n.out" /usr/sbin/slurmd -D -N "$n" >/dev/null; done
want=$(wc -w <<<"$nodes")
up=0
for i in $(seq 1 300); do
  up=$(timeout $T sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$')
  [ "$up" = "$want" ] && break
  sleep 0.1
done
[ "$up" = "$want" ] || { timeout $T sinfo -N; echo "FAIL: only $up of $want nodes idle"; exit 1; }
log "slurmctld + $want slurmd up"

# scontrol show topology: every switch, with the nodes the net file puts under it.
timeout $T scontrol show topology >"$base/show-topology.txt"
cat "$base/show-topology.txt"
expand() { timeout $T scontrol show hostnames "$1" | sort; }
field() { grep -oE " $1=[^ ]+" | sed "s/^ $1=//"; }  # field KEY < line
for l in 01 02 03 04; do
  line=$(grep "^SwitchName=leaf$l " "$base/show-topology.txt")
  got=$(expand "$(field Nodes <<<"$line")")
  if [ "$got" = "$(truth_leaf "leaf$l")" ] && grep -q 'Level=0' <<<"$line"; then
    ok "leaf$l: $(tr '\n' ' ' <<<"$got")"
  else
    fail "leaf$l: slurm has '$line', net file has $(truth_leaf "leaf$l" | tr '\n' ' ')"
  fi
done
for s in 01 02; do
  line=$(grep "^SwitchName=spine$s " "$base/show-topology.txt")
  if [ "$(expand "$(field Switches <<<"$line")" | tr '\n' ' ')" = "leaf01 leaf02 leaf03 leaf04 " ] &&
     grep -q 'Level=1' <<<"$line" && [ "$(expand "$(field Nodes <<<"$line")" | wc -l)" = 16 ]; then
    ok "spine$s: level 1 over leaf01-04, 16 nodes"
  else
    fail "spine$s: '$line'"
  fi
done
# GUID-named switches: Slurm expands netplace's compressed 16-digit ranges back to the same names.
"$cli" fabric topology "$base/fat.txt" --switch-names guid >"$base/guid.conf" 2>/dev/null
want_ids=$(grep -oE '^SwitchName=[^ ]+ Nodes' "$base/guid.conf" | sed 's/SwitchName=//; s/ Nodes//' | sort)
got_ids=$(expand "$(grep -m1 'Switches=' "$base/guid.conf" | sed 's/.*Switches=//')")
if [ "$got_ids" = "$want_ids" ] && [ "$(wc -l <<<"$got_ids")" = 4 ]; then
  ok "--switch-names guid: $(grep -m1 -oE 'Switches=[^ ]+' "$base/guid.conf") expands to the 4 leaves"
else
  fail "--switch-names guid: '$got_ids' vs '$want_ids'"
fi
n_sw=$(grep -c '^SwitchName=' "$base/show-topology.txt")
[ "$n_sw" = 6 ] || fail "scontrol lists $n_sw switches, want 6"

# A 2-node job lands under one leaf when one has room: with node001-003 busy, the lowest free
# pair (node004 + node005) spans leaf01 and leaf02; topology/tree must pick two nodes of one leaf.
job_nodes() {  # job_nodes ID: its nodes, one a line, once it runs
  local k st
  [ -n "$1" ] || return 1
  for k in $(seq 1 200); do
    st=$(timeout $T squeue -h -j "$1" -o '%T %N' 2>/dev/null)
    if [[ "$st" == RUNNING* ]]; then expand "${st#RUNNING }"; return 0; fi
    sleep 0.1
  done
  echo "job $1 never ran: $st" >&2
  return 1
}
for l in 01 02 03 04; do truth_leaf "leaf$l" >"$base/truth.leaf$l"; done
leaf_of() { grep -lx "$1" "$base"/truth.leaf* | sed 's/.*truth\.//'; }
busy=$(timeout $T sbatch --parsable --exclusive -N3 -w 'node[001-003]' -o /dev/null --wrap 'sleep 300')
job_nodes "$busy" >/dev/null || fail "blocking job did not start"
pair=$(timeout $T sbatch --parsable --exclusive -N2 -o /dev/null --wrap 'sleep 300')
got=$(job_nodes "$pair")
leaves=$(for n in $got; do leaf_of "$n"; done | sort -u)
if [ "$(wc -l <<<"$got")" = 2 ] && [ "$(wc -l <<<"$leaves")" = 1 ]; then
  ok "2-node job on $(tr '\n' ' ' <<<"$got")under one leaf ($leaves) while node001-003 are busy"
else
  fail "2-node job on $(tr '\n' ' ' <<<"$got")spans leaves: $(tr '\n' ' ' <<<"$leaves")"
fi
timeout $T scancel "$busy" "$pair"

# Control: the same two jobs without topology/tree take the lowest free pair, which spans leaves;
# so the check above can fail, and it is topology.conf that made the difference.
stop_comm slurmctld
sed -i 's|^TopologyPlugin=.*|TopologyPlugin=topology/none|' "$base/etc/slurm.conf"
ctld=$(spawn slurmctld "$base/log/slurmctld-none.out" /usr/sbin/slurmctld -D -i)
for i in $(seq 1 300); do
  up=$(timeout $T sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$')
  [ "$up" = "$want" ] && break
  sleep 0.1
done
busy=$(timeout $T sbatch --parsable --exclusive -N3 -w 'node[001-003]' -o /dev/null --wrap 'sleep 300')
job_nodes "$busy" >/dev/null || fail "control: blocking job did not start"
pair=$(timeout $T sbatch --parsable --exclusive -N2 -o /dev/null --wrap 'sleep 300')
got=$(job_nodes "$pair")
leaves=$(for n in $got; do leaf_of "$n"; done | sort -u)
if [ "$(wc -l <<<"$leaves")" = 2 ]; then
  ok "control without topology/tree: the same job gets $(tr '\n' ' ' <<<"$got")across $(tr '\n' ' ' <<<"$leaves")"
else
  fail "control without topology/tree: $(tr '\n' ' ' <<<"$got")on $(tr '\n' ' ' <<<"$leaves") (expected two leaves)"
fi
timeout $T scancel "$busy" "$pair"

# --- 3. real topology.conf files: simulate their fabric, discover it, regenerate the tree -------
if [ -d "$shared/slurm" ]; then
  for conf in "$shared"/slurm/*topology.conf; do
    name=$(basename "$conf" .conf)
    "$here/topology-conf-to-net.sh" "$conf" >"$base/$name.net" || { fail "$name: net file"; continue; }
    t0=$(date +%s%N)
    discover "$base/$name.net" "$base/$name.txt" -N 4000 -S 512 -P 20000 || { fail "$name: ibsim/ibnetdiscover"; continue; }
    t1=$(date +%s%N)
    "$cli" fabric topology "$base/$name.txt" -o "$base/$name.out.conf" 2>"$base/$name.err" \
      || { cat "$base/$name.err"; fail "$name: netplace"; continue; }
    t2=$(date +%s%N)
    hcas=$(grep -c '^Ca' "$base/$name.txt")
    log "$name: $hcas HCAs, ibnetdiscover $(( (t1 - t0) / 1000000 )) ms, netplace parse+emit $(( (t2 - t1) / 1000000 )) ms"
    # Same switches, each with the same members, compared as sets through Slurm's own expansion
    # (skipped where the two texts are equal). A leaf that no upper switch lists is cabled to
    # nothing in the original either (Summit's OPAEDGE17): ibnetdiscover cannot reach it from the
    # rest, so it must be absent from netplace's output.
    bad=0 isolated=0 compared=0
    children=$(grep -oE ' Switches=[^ ]+' "$conf" | sed 's/ Switches=//' | while read -r e; do expand "$e"; done | sort -u)
    while read -r line; do
      sw=$(sed -E 's/.*SwitchName=([^ ]+).*/\1/' <<<"$line")
      kind=Nodes
      grep -q ' Switches=' <<<"$line" && kind=Switches
      mine_line=$(grep -E "^SwitchName=$sw " "$base/$name.out.conf")
      if [ $kind = Nodes ] && ! grep -qx "$sw" <<<"$children"; then
        isolated=$((isolated + 1))
        [ -z "$mine_line" ] || { bad=$((bad + 1)); echo "  $sw is cabled to nothing, yet netplace lists '$mine_line'"; }
        continue
      fi
      compared=$((compared + 1))
      a=$(field $kind <<<"$line"); b=$(field $kind <<<"$mine_line")
      if [ "$a" != "$b" ] && [ "$(expand "$a")" != "$(expand "$b")" ]; then
        bad=$((bad + 1))
        echo "  $sw: original '$line' vs '$mine_line'"
      fi
    done < <(grep -E '^SwitchName=' "$conf")
    [ "$compared" = "$(grep -c '^SwitchName=' "$base/$name.out.conf")" ] || { bad=$((bad + 1)); echo "  netplace lists other switches"; }
    if [ $bad = 0 ]; then
      ok "$name: $compared switches, $hcas nodes regenerated with the same members ($isolated isolated leaf switch(es) unreachable, as cabled)"
    else
      fail "$name: $bad switches differ"
    fi
  done
else
  echo "note: $shared/slurm absent; real topology.conf round trips skipped"
fi

# --- 4. gres.conf from real hwloc exports, parsed by a real slurmd (slurmd -G) -------------------
# Cores= must be the cores hwloc-calc (not netplace) finds local to each device; the device order
# is the PCI order of the lstopo-derived expectations in tests/golden/topology/expected.
expand_list() {  # "0-2,5" -> "0 1 2 5"
  local part out=()
  IFS=, read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then out+=($(seq "${part%-*}" "${part#*-}")); else out+=("$part"); fi
  done
  echo "${out[*]}"
}
gres_check() {  # gres_check XML NODE
  local xml=$1 node=$2 g=$base/gres/$2 exp
  exp=$src/tests/golden/topology/expected/$(basename "$xml" .xml).show.json
  mkdir -p "$g/etc" "$g/spool"
  "$cli" fabric gres --input "$xml" --node "$node" --dev-root "$g" -o "$g/etc/gres.conf" 2>"$g/notes" \
    || { cat "$g/notes"; fail "$node: netplace fabric gres"; return; }
  cat "$g/etc/gres.conf"
  local f
  for f in $(grep -oE 'File=[^ ]+' "$g/etc/gres.conf" | sed 's/File=//'); do
    mkdir -p "$(dirname "$f")"; mknod "$f" c 1 3 2>/dev/null || : >"$f"
  done
  local pk co pu gres
  pk=$(hwloc-calc --input "$xml" --number-of package all)
  co=$(hwloc-calc --input "$xml" --number-of core all)
  pu=$(hwloc-calc --input "$xml" --number-of pu all)
  gres=$(grep -oE '^#   NodeName=[^ ]+ Gres=[^ ]+' "$g/etc/gres.conf" | sed 's/.* Gres=//')
  cat >"$g/etc/slurm.conf" <<EOF2
ClusterName=gres
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$((port0 + 19))
SlurmdPort=$((port0 + 20))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
SlurmdSpoolDir=$g/spool
SlurmdPidFile=$g/slurmd.pid
SlurmdLogFile=$g/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
GresTypes=gpu,nic
NodeName=$node CPUs=$pu Boards=1 SocketsPerBoard=$pk CoresPerSocket=$((co / pk)) ThreadsPerCore=$((pu / co)) RealMemory=100 Gres=$gres
PartitionName=p Nodes=ALL Default=YES
EOF2
  SLURM_CONF=$g/etc/slurm.conf timeout $T slurmd -G -N "$node" >"$g/slurmd-G.txt" 2>&1
  grep -E 'Gres Name=' "$g/slurmd-G.txt" | sed 's/^.*Gres Name=/Gres Name=/'
  local ngpu nnic want_gpu want_nic line file k bus cores want bad=0
  ngpu=$(grep -c 'Gres Name=gpu ' "$g/slurmd-G.txt"); nnic=$(grep -c 'Gres Name=nic ' "$g/slurmd-G.txt")
  want_gpu=$(jq '.gpus | length' "$exp")
  want_nic=$(jq '[.nics[] | select(.fabric) | .os_devices[] | select(test("^(mlx|hfi|qib|bnxt_re|irdma)"))] | length' "$exp")
  [ "$ngpu" = "$want_gpu" ] && [ "$nnic" = "$want_nic" ] || { bad=1; echo "  slurmd parsed $ngpu GPUs/$nnic NICs, lstopo has $want_gpu/$want_nic"; }
  while read -r line; do
    file=$(grep -oE 'File=[^ ]+' <<<"$line" | sed 's/File=//')
    cores=$(expand_list "$(grep -oE ' Cores=[^ ]+' <<<"$line" | sed 's/ Cores=//')")
    k=$(grep -oE '[0-9]+$' <<<"$file")
    if [[ $file == */nvidia* ]]; then
      bus=$(jq -r ".gpus[$k].pci" "$exp")
      want=$(hwloc-calc --input "$xml" --intersect Core "pci=$bus" | tr ',' ' ')
    else
      bus=$(jq -r "[.nics[] | .os_devices[] | select(test(\"^(mlx|hfi|qib|bnxt_re|irdma)\"))][$k]" "$exp")
      want=$(hwloc-calc --input "$xml" --intersect Core "os=$bus" | tr ',' ' ')
    fi
    [ "$cores" = "$want" ] || { bad=1; echo "  $file ($bus): slurmd Cores=$cores, hwloc-calc $want"; }
  done < <(grep -E 'Gres Name=(gpu|nic) ' "$g/slurmd-G.txt")
  if [ $bad = 0 ] && [ "$ngpu" -gt 0 ]; then
    ok "$node: slurmd -G parsed $ngpu GPUs + $nnic NICs, every Cores= equals hwloc-calc's cores"
  else
    cat "$g/slurmd-G.txt"; fail "$node: gres.conf as slurmd parsed it disagrees with lstopo"
  fi
}
if [ -d "$shared/hwloc" ] && command -v hwloc-calc >/dev/null && command -v jq >/dev/null; then
  gres_check "$shared/hwloc/psmgmt-topo.jwb0004.xml" jwb0004
  gres_check "$shared/hwloc/hwloc-nvidiaDGX2.xml" dgx2
else
  echo "note: $shared/hwloc, hwloc-calc or jq absent; gres checks skipped"
fi

echo "fabric integration: $fails failure(s)"
[ $fails = 0 ]
