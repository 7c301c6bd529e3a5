#!/usr/bin/env bash
# Data staging end to end (docs/staging.md), on one rig: site beta serves datasets with nginx in
# its own network namespace behind a tbf-shaped link; site alpha is another namespace holding
# `netplace stage` and, in part 2, a real Slurm cluster with burst_buffer/lua whose jobs run as
# the unprivileged user netplace-test (root cannot use burst buffers; the user is created as a
# system user when missing). Bytes a server really sent are counted from its access log.
#
#   test_staging.sh NETPLACE [--no-slurm]
set -euo pipefail
NETPLACE=$1
WITH_SLURM=1
[ "${2:-}" = --no-slurm ] && WITH_SLURM=0
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${NETPLACE_SOURCE_DIR:-$(cd "$HERE/../../.." && pwd)}
BIN=${NETPLACE_BINARY_DIR:-$(cd "$(dirname "$NETPLACE")/../.." && pwd)}
source "$HERE/../netns/lib.sh"
np_require_root
for t in sha256sum openssl runuser nsenter; do
  command -v $t >/dev/null || { echo "$t missing: skipping" >&2; exit 77; }
done

SLURM_BASE=""
cleanup() {
  local rc=$?
  if [ -n "$SLURM_BASE" ] && [ -f "$SLURM_BASE/pids" ]; then
    [ $rc -ne 0 ] && { echo "--- slurmctld log (tail)"; tail -30 "$SLURM_BASE/alpha/log/slurmctld.log"; } >&2
    in_alpha_net bash "$SRC/tests/integration/slurm/cluster.sh" stop "$SLURM_BASE" >/dev/null 2>&1 || true
  fi
  [ -n "$SLURM_BASE" ] && rm -rf "$SLURM_BASE"
  np_cleanup
  return $rc
}
trap cleanup EXIT
ok() { np_log "ok: $*"; }
# The Slurm daemons join alpha's network namespace only: `ip netns exec` would also give them a
# fresh /sys without /sys/fs/cgroup, which slurmd 22.05 refuses to start without.
in_alpha_net() { nsenter --net="/run/netns/$NP_LOCAL" "$@"; }

RATE=${NETPLACE_STAGING_RATE_MBIT:-80}
CHUNK=$((2 << 20))
np_local alpha
np_site beta 2 "$RATE"
BETA=10.231.2.2
ALPHA=10.231.2.1

# --- beta: datasets behind nginx (HTTP and HTTPS with a private CA) ------------------------------
beta_dir=$(np_tmpdir)
(cd "$beta_dir" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=netplace-staging-ca &&
  openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "/CN=$BETA" &&
  echo "subjectAltName=IP:$BETA" >ext.cnf &&
  openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tls.pem -days 1 -extfile ext.cnf
) >/dev/null 2>&1 || np_fail "cannot make a test certificate"
data=$beta_dir/www/netplace/data
mkdir -p "$data"
declare -A SIZE_MIB=([ds1]=24 [tls1]=2 [big]=48 [corrupt]=4 [eu-data]=1 [small]=16 [ds3]=24 [capped]=8 [ds2]=24 [ds4]=24 [big2]=48 [corrupt2]=4 [slow]=8)
for d in "${!SIZE_MIB[@]}"; do head -c "$((SIZE_MIB[$d] << 20))" /dev/urandom >"$data/$d"; done
declare -A SUM
for d in "${!SIZE_MIB[@]}"; do SUM[$d]=$(sha256sum "$data/$d" | cut -d' ' -f1); done
# The catalog records the sums of the good files; then the corrupt ones are damaged in place.
for d in corrupt corrupt2; do printf 'garbage' | dd of="$data/$d" bs=1 seek=1000 conv=notrunc 2>/dev/null; done
chmod -R a+rX "$beta_dir/www"

# Every request beta serves, in nginx's combined format ($7 URI, $10 body bytes sent).
mkdir -p "$beta_dir/server.d" "$beta_dir/logs"
echo "access_log $beta_dir/logs/access.log;" >"$beta_dir/server.d/access-log.conf"
start_beta() {
  np_nginx "$beta_dir" "$BETA" 8080 "${NP_PREFIX}-beta" >/dev/null
  BETA_PID=${NP_PIDS[-1]%%:*}
}
# The source dies: nginx's workers and master are SIGKILLed (no graceful end). What the kernel
# already buffered still arrives; every request after that is refused.
kill_beta() {
  # The master first, else it forks a new worker for each one killed.
  local w workers
  workers=$(pgrep -P "$BETA_PID" || true)
  np_kill_pid "$BETA_PID" nginx KILL
  for w in $workers; do np_kill_pid "$w" nginx KILL; done
}
start_beta
# Bytes of DATASET beta's nginx sent, counted from access-log line FROM (1-based) on.
sent() { awk -v f="${2:-1}" -v d="$1" 'NR >= f && $7 ~ ("/" d "$") {s += $10} END {print s + 0}' "$beta_dir/logs/access.log"; }
log_lines() { wc -l <"$beta_dir/logs/access.log"; }
: >"$beta_dir/logs/access.log"

# --- alpha: upload endpoint for stage-out (WebDAV PUT) ---------------------------------------
home_dir=$(np_tmpdir)
mkdir -p "$home_dir/www/netplace/upload"
mkdir -p "$home_dir/server.d"
echo "location /netplace/upload/ { dav_methods PUT; create_full_put_path on; dav_access user:rw all:r; }" \
  >"$home_dir/server.d/upload.conf"
np_nginx "$home_dir" "$ALPHA" 8090 "$NP_LOCAL" >/dev/null
chown -R nobody:nogroup "$home_dir/www/netplace/upload"

# --- the catalog --------------------------------------------------------------------------------
work=$(np_tmpdir)
write_catalog() {  # write_catalog FILE [extra staging lines]
  {
    echo "datasets:"
    for d in ds1 big corrupt small ds3 capped ds2 big2 corrupt2 ds4 slow; do
      printf '  - {name: %s, size: %s, sha256: %s, replicas: [{site: beta, url: "http://%s:8080/netplace/data/%s"}]}\n' \
        "$d" "$((SIZE_MIB[$d] << 20))" "${SUM[$d]}" "$BETA" "$d"
    done
    printf '  - {name: tls1, size: %s, sha256: %s, replicas: [{site: beta, url: "https://%s:8443/netplace/data/tls1"}]}\n' \
      "$((SIZE_MIB[tls1] << 20))" "${SUM[tls1]}" "$BETA"
    printf '  - {name: eu-data, size: %s, sha256: %s, residency: eu, replicas: [{site: beta, url: "http://%s:8080/netplace/data/eu-data"}]}\n' \
      "$((SIZE_MIB[eu-data] << 20))" "${SUM[eu-data]}" "$BETA"
    printf '  - {name: huge, size: 100MiB, sha256: %s, replicas: [{site: beta, url: "http://%s:8080/netplace/data/huge"}]}\n' \
      "${SUM[ds1]}" "$BETA"
    echo "staging:"
    echo "  data_dir: $work/data"
    echo "  state_dir: $work/state"
    echo "  chunk: $CHUNK"
    echo "  streams: 4"
    echo "  quota: 80MiB"
    echo "  low_speed_time: 5s"
    echo "  upload: [{site: alpha, url: \"http://$ALPHA:8090/netplace/upload\"}]"
    [ $# -gt 1 ] && printf '%s\n' "${@:2}"
  } >"$1"
  chmod 644 "$1"
}
export NETPLACE_CATALOG=$work/datasets.yaml NETPLACE_FEDERATION=$HERE/federation.yaml NETPLACE_POLICY_FILE=$HERE/policy.yaml
write_catalog "$NETPLACE_CATALOG" "  ca_file: $beta_dir/ca.pem"
write_catalog "$work/no-ca.yaml"
stage() { np_in timeout 120 "$NETPLACE" stage "$@"; }
ledger() { cat "$work/state/transfers.json" 2>/dev/null || echo '{"transfers":[]}'; }

# === part 1: netplace stage ====================================================================
np_log "part 1: netplace stage over a ${RATE} Mbit/s link"
out=$(stage in ds1) || np_fail "stage in ds1: $out"
[ "$(sha256sum "$work/data/ds1" | cut -d' ' -f1)" = "${SUM[ds1]}" ] || np_fail "ds1: wrong content"
[ "$(sent ds1)" = "$((24 << 20))" ] || np_fail "ds1: beta sent $(sent ds1) bytes, expected $((24 << 20))"
[ "$(jq '.transfers | length' "$work/state/transfers.json")" = 0 ] || np_fail "ledger keeps a finished transfer"
jq -e '.replicas[] | select(.dataset == "ds1" and .site == "alpha")' "$work/state/replicas.json" >/dev/null ||
  np_fail "ds1 not registered as a replica"
ok "ds1 staged and verified ($out)"

n=$(log_lines)
out=$(stage in ds1) || np_fail "second stage in ds1: $out"
grep -q "replica already" <<<"$out" || np_fail "second stage-in transferred again: $out"
[ "$(log_lines)" = "$n" ] || np_fail "second stage-in asked beta again"
ok "second stage-in of ds1 found the replica, no request to beta"

out=$(np_in env NETPLACE_CATALOG="$work/no-ca.yaml" timeout 60 "$NETPLACE" stage in tls1) &&
  np_fail "HTTPS from a private CA without ca_file must fail (TLS verification)"
grep -qi "source down.*certificate" <<<"$out" || np_fail "TLS failure not explained: $out"
out=$(stage in tls1) || np_fail "stage in tls1 with the CA: $out"
[ "$(sha256sum "$work/data/tls1" | cut -d' ' -f1)" = "${SUM[tls1]}" ] || np_fail "tls1: wrong content"
ok "HTTPS: refused without the CA, staged with it"

# Source killed mid-transfer: the stager fails with the reason and keeps what arrived; after the
# source is back, only the missing bytes are fetched (at most one chunk per stream re-fetched).
# A slower link for this part, so the test's own polling (slow on a loaded host) keeps up.
np_shape beta 2 20
stage in big >"$work/big.out" 2>&1 &
stager=$!
total=$((48 << 20)); left=$total; occ=""
for _ in $(seq 600); do
  left=$(ledger | jq -r --argjson t $total '[.transfers[] | select(.dataset == "big" and .state == "running") | .bytes_left][0] // $t')
  [ "$left" -le $((total * 8 / 10)) ] && break
  # While it runs, the ledger's per-link occupancy shows it on beta->alpha.
  [ -z "$occ" ] && [ "$left" -lt "$total" ] && occ=$(np_in "$NETPLACE" stage status --json | jq -c '.links')
  sleep 0.1
done
[ "$left" -lt "$total" ] || np_fail "the ledger never showed big running"
kill_beta
wait $stager && np_fail "stage-in survived its source being killed (left $left of $total): $(cat "$work/big.out")"
np_shape beta 2 "$RATE"
jq -e '.[] | select(.from == "beta" and .to == "alpha" and .transfers == 1 and .bytes_left > 0)' <<<"$occ" >/dev/null ||
  np_fail "occupancy while big ran: $occ"
grep -q "source down" "$work/big.out" || np_fail "no 'source down' reason: $(cat "$work/big.out")"
[ ! -e "$work/data/big" ] || np_fail "a partial big is visible in the data directory"
[ "$(stat -c %a "$work/data/.partial")" = 700 ] || np_fail "partial files are readable by others"
map=$work/data/.partial/big.ranges
have=$(jq '[.have[]] | add' "$map")
ledger | jq -e '.transfers[] | select(.dataset == "big" and .state == "failed")' >/dev/null || np_fail "ledger lacks the failed transfer"
ok "source killed at $((100 - left * 100 / total))% done: failed with 'source down', $have bytes kept; occupancy while running: $occ"
from=$(( $(log_lines) + 1 ))
start_beta
out=$(stage in big) || np_fail "resumed stage in big: $out"
[ "$(sha256sum "$work/data/big" | cut -d' ' -f1)" = "${SUM[big]}" ] || np_fail "big: wrong content after resume"
again=$(sent big "$from")
missing=$((total - have))
[ "$again" -ge "$missing" ] && [ "$again" -le $((missing + CHUNK)) ] ||
  np_fail "resume fetched $again bytes; missing were $missing (chunk $CHUNK)"
ok "resume fetched $again bytes for $missing missing (overhead $((again - missing)) B, chunk $CHUNK)"

n=$(log_lines)
out=$(stage in corrupt) && np_fail "a corrupt source must fail the checksum"
grep -q "checksum mismatch" <<<"$out" || np_fail "no checksum reason: $out"
[ ! -e "$work/data/corrupt" ] && [ ! -e "$work/data/.partial/corrupt" ] || np_fail "corrupt data left behind"
ok "corrupt source: 'checksum mismatch', nothing left"

n=$(log_lines)
out=$(stage in eu-data) && np_fail "eu-data may not be read at alpha"
grep -q "residency" <<<"$out" || np_fail "no residency reason: $out"
[ "$(log_lines)" = "$n" ] || np_fail "residency refusal still contacted beta"
ok "residency: eu-data refused at alpha before any transfer"

# Quota 80 MiB: ds1 (24, least recently used) + tls1 (2) + big (48) = 74; small (16) evicts ds1.
out=$(stage in small) || np_fail "stage in small: $out"
[ ! -e "$work/data/ds1" ] || np_fail "ds1 should have been evicted (LRU)"
jq -e '[.replicas[].dataset] | index("ds1") == null' "$work/state/replicas.json" >/dev/null || np_fail "ds1 still registered"
out=$(stage in huge) && np_fail "100 MiB cannot fit an 80 MiB quota"
grep -q "^netplace: quota: .*replica quota" <<<"$out" || np_fail "no quota reason: $out"
grep -q "quota: quota" <<<"$out" && np_fail "the quota reason says 'quota' twice: $out"
ok "quota: least recently used ds1 evicted for small; huge refused with 'quota'"

# The stager itself killed (SIGKILL: no handler runs, nothing is cleaned up) part-way: the range
# map it saves every half chunk tells the rerun where to resume; the rerun reports exactly those
# bytes as resumed, fetches only what the map lacks (at most one chunk more: what arrived after
# the last save) and verifies the sha256 before the file appears. (Evicts older replicas: quota.)
descendant() {  # descendant PID COMM: the first process below PID whose name is COMM
  local c
  for c in $(pgrep -P "$1" || true); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return 0; }
    descendant "$c" "$2" && return 0
  done
  return 1
}
np_shape beta 2 20
stage in ds3 >"$work/ds3.out" 2>&1 &
runner=$!
total=$((24 << 20)); left=$total
for _ in $(seq 600); do
  left=$(ledger | jq -r --argjson t $total '[.transfers[] | select(.dataset == "ds3" and .state == "running") | .bytes_left][0] // $t')
  [ "$left" -le $((total * 8 / 10)) ] && break
  sleep 0.1
done
[ "$left" -lt "$total" ] || np_fail "the ledger never showed ds3 running"
stager=$(descendant "$runner" netplace) || np_fail "no netplace process under the stage-in"
np_kill_pid "$stager" netplace KILL
wait $runner && np_fail "stage-in of ds3 finished before it could be killed: $(cat "$work/ds3.out")"
np_shape beta 2 "$RATE"
[ ! -e "$work/data/ds3" ] || np_fail "a killed stager left a visible ds3"
have=$(jq '[.have[]] | add' "$work/data/.partial/ds3.ranges")
[ "$have" -gt 0 ] && [ "$have" -lt "$total" ] || np_fail "range map after the kill: $have of $total bytes"
# nginx logs a request when it ends: wait until the killed stager's requests are all logged.
n=-1; stable=0
for _ in $(seq 60); do
  if [ "$(log_lines)" = "$n" ]; then stable=$((stable + 1)); [ $stable -ge 4 ] && break; else stable=0; n=$(log_lines); fi
  sleep 0.25
done
from=$((n + 1))
out=$(stage in --json ds3) || np_fail "stage in ds3 after the kill: $out"
[ "$(sha256sum "$work/data/ds3" | cut -d' ' -f1)" = "${SUM[ds3]}" ] || np_fail "ds3: wrong content after resume"
[ "$(jq '.[0].resumed_bytes' <<<"$out")" = "$have" ] || np_fail "rerun resumed $(jq '.[0].resumed_bytes' <<<"$out") bytes, the map had $have"
again=$(sent ds3 "$from"); missing=$((total - have))
[ "$again" -ge "$missing" ] && [ "$again" -le $((missing + CHUNK)) ] ||
  np_fail "after the kill: $again bytes fetched for $missing missing (chunk $CHUNK)"
ledger | jq -e '[.transfers[] | select(.dataset == "ds3")] | length == 0' >/dev/null || np_fail "the dead stager's ledger entry stayed"
ok "stager SIGKILLed at $((100 - left * 100 / total))%: rerun resumed the $have B its range map held, fetched $again B for $missing missing (overhead $((again - missing)) B), sha256 verified"

# The admin's rate cap (16 Mbit/s on an 80 Mbit/s link), split over the streams: the goodput stays
# under it (uncapped, ds1 above ran at close to the link's rate).
write_catalog "$work/capped.yaml" "  ca_file: $beta_dir/ca.pem" "  rate_cap: 16Mbit/s"
out=$(np_in env NETPLACE_CATALOG="$work/capped.yaml" timeout 120 "$NETPLACE" stage in --json capped) ||
  np_fail "stage in capped: $out"
[ "$(sha256sum "$work/data/capped" | cut -d' ' -f1)" = "${SUM[capped]}" ] || np_fail "capped: wrong content"
capped_bps=$(jq '.[0].goodput_bps | floor' <<<"$out")
[ "$capped_bps" -le $((16000000 * 115 / 100)) ] || np_fail "rate cap 16 Mbit/s: the stage-in ran at $capped_bps bit/s"
ok "rate cap 16 Mbit/s: staged at $((capped_bps / 1000)) kbit/s"

echo "result of job 7" >"$work/out.txt"
out=$(stage out --job 7 --home alpha --uid 0 "$work/out.txt") || np_fail "stage out: $out"
cmp -s "$work/out.txt" "$home_dir/www/netplace/upload/7/out.txt" || np_fail "stage-out did not arrive home"
chown nobody "$work/out.txt"
out=$(stage out --job 8 --home alpha --uid 0 "$work/out.txt") && np_fail "someone else's file must not leave"
ln -s /etc/hostname "$work/link.txt"
out=$(stage out --job 8 --home alpha --uid 0 "$work/link.txt") && np_fail "a symlink must not be followed"
ok "stage-out: the owner's file arrived home; others' files and symlinks refused"

[ $WITH_SLURM = 1 ] || { np_log "PASS (netplace stage only)"; exit 0; }

# === part 2: Slurm burst_buffer/lua ==============================================================
for t in slurmctld slurmd munged mariadbd slurmdbd sbatch; do
  command -v $t >/dev/null || { echo "$t missing: skipping the Slurm part" >&2; exit 77; }
done
# An unprivileged system user for the jobs (root cannot use burst buffers).
id netplace-test >/dev/null 2>&1 || useradd -r -s /bin/bash netplace-test
SLURM_BASE=$(mktemp -d "/tmp/${NP_PREFIX}-slurm.XXXXXX")
chmod 755 "$SLURM_BASE"
jobs_dir=$SLURM_BASE/work
mkdir -p "$jobs_dir" && chown netplace-test "$jobs_dir"
# A fresh state for the Slurm part: its datasets are new (ds2, big2, corrupt2).
chmod 755 "$work"
export NETPLACE_BURST_BUFFER_LUA=$BIN/plugins/slurm/burst_buffer.lua
export NETPLACE_SPANK_SO=$BIN/plugins/slurm/spank_netplace.so
export NETPLACE_CLI_FILTER=$BIN/plugins/slurm/cli_filter.lua
export NETPLACE_PLUGSTACK_ARGS="federation=$NETPLACE_FEDERATION policy=$NETPLACE_POLICY_FILE state_dir=$work/state catalog=$NETPLACE_CATALOG bind=none"
export NETPLACE_CLUSTERS=alpha NETPLACE_BB_STAGE_TIMEOUT=120
[ -e "$NETPLACE_BURST_BUFFER_LUA" ] && [ -e "$NETPLACE_SPANK_SO" ] || np_fail "build the Slurm plugin first"
in_alpha_net bash "$SRC/tests/integration/slurm/cluster.sh" start "$SLURM_BASE" 2>"$SLURM_BASE/start.log" ||
  { cat "$SLURM_BASE/start.log" >&2; np_fail "Slurm did not start"; }
export SLURM_CONF=$SLURM_BASE/alpha/etc/slurm.conf
T=20
as_user() { np_in runuser -u netplace-test -- env SLURM_CONF="$SLURM_CONF" PATH="$PATH" timeout $T "$@"; }
ctl() { np_in timeout $T "$@"; }
state() { ctl scontrol show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
reason() { ctl scontrol show job "$1" | sed -n 's/.*Reason=\(.*\) Dependency=.*/\1/p' | tr _ ' '; }  # Slurm writes spaces as _
wait_state() {  # wait_state JOB SECONDS STATE...: until the job is in one of the states
  local j=$1 secs=$2; shift 2
  local end=$((SECONDS + secs)) s
  while [ $SECONDS -lt $end ]; do
    s=$(state "$j")
    for w in "$@"; do [ "$s" = "$w" ] && return 0; done
    sleep 0.2
  done
  np_fail "job $j: state '$(state "$j")' ($(reason "$j")) after ${secs}s, wanted $*"
}
wait_reason() {  # wait_reason JOB SECONDS TEXT
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do grep -q "$3" <<<"$(reason "$1")" && return 0; sleep 0.2; done
  np_fail "job $1: reason '$(reason "$1")' never mentioned '$3'"
}
submit() { as_user sbatch --parsable "$@" | cut -d';' -f1; }

cat >"$jobs_dir/read.sh" <<EOF
#!/bin/bash
sha256sum "\$NETPLACE_DATA_DS2" | cut -d' ' -f1 >$jobs_dir/sum-\$SLURM_JOB_ID.txt
EOF
# The first job also declares an output to send home after it ends.
{ sed -n 1p "$jobs_dir/read.sh"; echo "#BB_LUA netplace_out=$jobs_dir/result.txt"; sed 1d "$jobs_dir/read.sh"
  echo "echo \"output of \$SLURM_JOB_ID\" >$jobs_dir/result.txt"; } >"$jobs_dir/read-out.sh"
chmod 755 "$jobs_dir/read-out.sh"
chmod 755 "$jobs_dir/read.sh"

n=$(log_lines)
j1=$(submit --place-data=ds2 -o "$jobs_dir/j1.log" "$jobs_dir/read-out.sh") || np_fail "sbatch --place-data=ds2"
wait_reason "$j1" 30 BurstBufferStageIn
ok "job $j1 (--place-data=ds2) pending in BurstBufferStageIn"
wait_state "$j1" 90 COMPLETED
[ "$(cat "$jobs_dir/sum-$j1.txt")" = "${SUM[ds2]}" ] || np_fail "job $j1 saw sha $(cat "$jobs_dir/sum-$j1.txt")"
[ "$(sent ds2 $((n + 1)))" = "$((24 << 20))" ] || np_fail "ds2 bytes from beta: $(sent ds2 $((n + 1)))"
for _ in $(seq 50); do [ -e "$home_dir/www/netplace/upload/$j1/result.txt" ] && break; sleep 0.2; done
cmp -s "$jobs_dir/result.txt" "$home_dir/www/netplace/upload/$j1/result.txt" || np_fail "job $j1's output did not arrive home"
ok "job $j1 started after ds2 arrived, read the right sha256, its output went home"

n=$(log_lines)
j2=$(submit --place-data=ds2 -o "$jobs_dir/j2.log" "$jobs_dir/read.sh")
wait_state "$j2" 60 COMPLETED
[ "$(cat "$jobs_dir/sum-$j2.txt")" = "${SUM[ds2]}" ] || np_fail "job $j2 saw the wrong data"
[ "$(sent ds2 $((n + 1)))" = 0 ] || np_fail "job $j2 transferred ds2 again"
ok "job $j2 read the replica: no byte from beta"

# A user's own --bb (declaring an output to send home) and netplace's #BB_LUA (the dataset) are
# merged by the cli_filter: both survive, the job reads ds2 and its output arrives home.
{ sed -n 1p "$jobs_dir/read.sh"; sed 1d "$jobs_dir/read.sh"
  echo "echo \"bb output of \$SLURM_JOB_ID\" >$jobs_dir/bb-result.txt"; } >"$jobs_dir/read-bb.sh"
chmod 755 "$jobs_dir/read-bb.sh"
j7=$(submit --place-data=ds2 --bb="#BB_LUA netplace_out=$jobs_dir/bb-result.txt" -o "$jobs_dir/j7.log" "$jobs_dir/read-bb.sh") ||
  np_fail "sbatch --place-data=ds2 --bb=..."
# BurstBuffer= spans lines (one per directive): keep the whole record.
bb=$(ctl scontrol show job "$j7" | sed -n '/BurstBuffer=/,/BurstBufferState=/p')
wait_state "$j7" 60 COMPLETED
[ "$(cat "$jobs_dir/sum-$j7.txt")" = "${SUM[ds2]}" ] || np_fail "job $j7 (own --bb) did not get ds2: $bb"
for _ in $(seq 50); do [ -e "$home_dir/www/netplace/upload/$j7/bb-result.txt" ] && break; sleep 0.2; done
cmp -s "$jobs_dir/bb-result.txt" "$home_dir/www/netplace/upload/$j7/bb-result.txt" ||
  np_fail "job $j7's own --bb (netplace_out) was lost: BurstBuffer=$bb"
grep -q "netplace_in=ds2" <<<"$bb" && grep -q "netplace_out=$jobs_dir/bb-result.txt" <<<"$bb" ||
  np_fail "job $j7's burst buffer directives: $bb"
ok "job $j7: the user's own --bb and netplace's #BB_LUA both kept ($(grep -o '#BB_LUA[^|]*' <<<"$bb" | tr '\n' '|')), data read, output home"

# A dataset larger than the replica quota (huge: 100 MiB, quota 80 MiB): held with the reason,
# before any byte moves.
n=$(log_lines)
sed -e 's/DS2/HUGE/' "$jobs_dir/read.sh" >"$jobs_dir/read-huge.sh"; chmod 755 "$jobs_dir/read-huge.sh"
j8=$(submit --place-data=huge -o "$jobs_dir/j8.log" "$jobs_dir/read-huge.sh")
wait_reason "$j8" 60 "netplace: quota"
[ "$(state "$j8")" = PENDING ] || np_fail "job $j8 ran without its data: $(state "$j8")"
[ "$(log_lines)" = "$n" ] || np_fail "the quota refusal still contacted beta"
ok "job $j8 held on the quota: $(reason "$j8")"
ctl scancel "$j8"

# Slurm's stage-in timeout (StageInTimeout 5 s here, for a 8 MiB dataset over 1 Mbit/s): the
# stager is stopped, the job held with the timeout as its reason, nothing partial visible.
bbconf=$SLURM_BASE/alpha/etc/burst_buffer.conf
cp "$bbconf" "$bbconf.orig"
sed -i 's/^StageInTimeout=.*/StageInTimeout=5/' "$bbconf"
ctl scontrol reconfigure
np_shape beta 2 1
sed -e 's/DS2/SLOW/' "$jobs_dir/read.sh" >"$jobs_dir/read-slow.sh"; chmod 755 "$jobs_dir/read-slow.sh"
j9=$(submit --place-data=slow -o "$jobs_dir/j9.log" "$jobs_dir/read-slow.sh")
wait_reason "$j9" 60 "[Tt]ime"
[ "$(state "$j9")" = PENDING ] || np_fail "job $j9 not held after the stage-in timeout: $(state "$j9")"
[ ! -e "$work/data/slow" ] || np_fail "a timed-out stage-in left slow visible"
ok "job $j9 held on Slurm's stage-in timeout: $(reason "$j9")"
ctl scancel "$j9"
np_shape beta 2 "$RATE"
cp "$bbconf.orig" "$bbconf"
ctl scontrol reconfigure

sed -e 's/DS2/BIG2/' "$jobs_dir/read.sh" >"$jobs_dir/read-big.sh"; chmod 755 "$jobs_dir/read-big.sh"
np_shape beta 2 20
j3=$(submit --place-data=big2 -o "$jobs_dir/j3.log" "$jobs_dir/read-big.sh")
total=$((48 << 20)); left=$total
for _ in $(seq 600); do
  left=$(ledger | jq -r --argjson t $total '[.transfers[] | select(.dataset == "big2" and .state == "running") | .bytes_left][0] // $t')
  [ "$left" -le $((total * 8 / 10)) ] && break
  sleep 0.1
done
[ "$left" -lt "$total" ] || np_fail "big2 never made progress"
kill_beta
np_shape beta 2 "$RATE"
wait_reason "$j3" 30 "source down"
[ "$(state "$j3")" = PENDING ] || np_fail "job $j3 not held: $(state "$j3")"
have=$(jq '[.have[]] | add' "$work/data/.partial/big2.ranges")
ok "job $j3 held when beta died: $(reason "$j3")"
from=$(( $(log_lines) + 1 ))
start_beta
ctl scontrol release "$j3"
wait_state "$j3" 90 COMPLETED
[ "$(cat "$jobs_dir/sum-$j3.txt")" = "${SUM[big2]}" ] || np_fail "job $j3 saw the wrong data"
again=$(sent big2 "$from"); missing=$((total - have))
[ "$again" -ge "$missing" ] && [ "$again" -le $((missing + CHUNK)) ] ||
  np_fail "after release: $again bytes fetched for $missing missing"
ok "released job $j3 fetched $again bytes for $missing missing, then ran"

# slurmctld restarted (SIGTERM, as a service restart does) while a job's stage-in runs: the job
# stays PENDING (never runs without its data), the stage-in goes on or is run again after the
# restart, resuming from the partial file, and the job then reads the right data. (SIGKILL is
# not covered: Slurm 22.05 then loses the stage-in, docs/staging.md.)
sed -e 's/DS2/DS4/' "$jobs_dir/read.sh" >"$jobs_dir/read-ds4.sh"; chmod 755 "$jobs_dir/read-ds4.sh"
np_shape beta 2 20
n=$(log_lines)
j6=$(submit --place-data=ds4 -o "$jobs_dir/j6.log" "$jobs_dir/read-ds4.sh")
total=$((24 << 20)); left=$total
for _ in $(seq 600); do
  left=$(ledger | jq -r --argjson t $total '[.transfers[] | select(.dataset == "ds4" and .state == "running") | .bytes_left][0] // $t')
  [ "$left" -le $((total / 2)) ] && break  # half on disk: far more than a restart re-sends
  sleep 0.1
done
[ "$left" -lt "$total" ] || np_fail "ds4 never made progress"
at_restart=$(jq '[.have[]] | add' "$work/data/.partial/ds4.ranges")
started0=$(ledger | jq '[.transfers[] | select(.dataset == "ds4") | .started][0]')
in_alpha_net bash "$SRC/tests/integration/slurm/cluster.sh" restart-ctld "$SLURM_BASE" alpha 2>>"$SLURM_BASE/restart.log" ||
  { cat "$SLURM_BASE/restart.log" >&2; np_fail "slurmctld did not restart"; }
np_log "restart: $(tail -1 "$SLURM_BASE/restart.log"); state $(state "$j6") ($(reason "$j6")); ledger $(ledger | jq -c '[.transfers[] | select(.dataset == "ds4") | {state, bytes_left, started, reason}]')"
np_shape beta 2 "$RATE"
how="the stage-in went on"
for _ in $(seq 300); do
  st=$(ledger | jq '[.transfers[] | select(.dataset == "ds4") | .started][0]')
  [ "$st" != null ] && [ "$st" != "$started0" ] && { how="Slurm ran the stage-in again"; break; }
  [ "$(state "$j6")" = PENDING ] || break
  sleep 0.1
done
wait_state "$j6" 120 COMPLETED
[ "$(cat "$jobs_dir/sum-$j6.txt")" = "${SUM[ds4]}" ] || np_fail "job $j6 saw the wrong data after the restart"
# Started over, beta would have sent the whole file again on top of what it sent before; resumed,
# only the missing bytes plus at most one range chunk per stream (in flight at the restart).
for _ in $(seq 40); do  # nginx logs a request when it ends
  all=$(sent ds4 $((n + 1))); [ "$all" -ge "$total" ] && break; sleep 0.25
done
[ "$all" -lt $((total + at_restart)) ] && [ "$all" -le $((total + 4 * CHUNK)) ] ||
  np_fail "ds4: beta sent $all B for $total with $at_restart B on disk at the restart: not resumed (allowed $((total + 4 * CHUNK)))"
ok "job $j6: slurmctld restarted at $((100 - left * 100 / total))% of ds4 ($how, $at_restart B kept): beta sent $all B for $total ($((all - total)) B again), job ran with the right sha256"

sed -e 's/DS2/CORRUPT2/' "$jobs_dir/read.sh" >"$jobs_dir/read-corrupt.sh"; chmod 755 "$jobs_dir/read-corrupt.sh"
j4=$(submit --place-data=corrupt2 -o "$jobs_dir/j4.log" "$jobs_dir/read-corrupt.sh")
wait_reason "$j4" 60 "checksum mismatch"
[ "$(state "$j4")" = PENDING ] || np_fail "job $j4 ran with corrupt data"
[ ! -e "$work/data/corrupt2" ] || np_fail "corrupt data visible"
as_user ls "$work/data/.partial" >/dev/null 2>&1 && np_fail "the job user can look into partial files"
ctl scancel "$j4"
ok "job $j4 held on a corrupt source ($(reason "$j4")); nothing partial visible"


out=$(as_user sbatch --place-data=eu-data --place-sites=alpha "$jobs_dir/read.sh" 2>&1) &&
  np_fail "eu-data at alpha must be refused at submission"
grep -q "residency" <<<"$out" || np_fail "no residency reason at submission: $out"
printf '#!/bin/bash\n#BB_LUA pool=netplace capacity=1 netplace_in=eu-data\ntrue\n' >"$jobs_dir/sneak.sh"
j5=$(submit -o /dev/null "$jobs_dir/sneak.sh")
wait_reason "$j5" 60 "residency"
ctl scancel "$j5"
ok "residency: refused at submission, and a hand-written directive is held ($(reason "$j5"))"
np_log "PASS"
