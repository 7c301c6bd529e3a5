#!/usr/bin/env bash
# Jobs that cross into an independent centre (issue 13): a plain `sbatch --place-*` at home
# (Slurm multi-cluster alpha+beta) lands at centre delta, which shares nothing with home but
# its slurmrestd (own munge key, JWT). One rig start for every case (rig.sh); everything started
# is stopped by PID on any exit.
#
# Needs root and scripts/install-deps.sh test (Slurm, slurmdbd, MariaDB, munge, slurmrestd,
# slurm-wlm-jwt-plugin, python3); exits 77 (skip) otherwise. Environment (set by ctest):
# NETPLACE_BINARY_DIR, NETPLACE_SOURCE_DIR; NETPLACE_SLURM_PORT_BASE (default 26800).
set -uo pipefail

src=${NETPLACE_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${NETPLACE_BINARY_DIR:?NETPLACE_BINARY_DIR: the build directory}
cli=$bin/tools/netplace/netplace

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (slurmd, munged and mariadbd run as root here)"
for t in munged mariadbd slurmdbd slurmctld slurmd slurmrestd sbatch squeue sacctmgr jq python3; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || skip "$t not installed (scripts/install-deps.sh test)"
done
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/auth_jwt.so ] || skip "slurm-wlm-jwt-plugin not installed"
for f in "$cli" "$bin/plugins/slurm/spank_netplace.so" "$bin/plugins/slurm/netplace_slurm.so" \
         "$bin/plugins/slurm/netplace_rest.so" "$bin/plugins/slurm/cli_filter.lua"; do
  [ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done

base=$(mktemp -d /tmp/netplace-rest-it.XXXXXX)
# slurmrestd runs as nobody and must read the centre's slurm.conf (tokens stay in 0700 dirs).
chmod 755 "$base"
T=30
export XDG_RUNTIME_DIR=$base/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
# shellcheck source=rig.sh
. "$src/tests/integration/rest/rig.sh"
cleanup() {
  local rc=$?
  rig_stop
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then echo "--- logs kept in $base"; else rm -rf "$base"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # so that cleanup also runs when ctest stops the test

t0=$(date +%s%N)
rig_start || { echo "FAIL: rig start"; exit 1; }
# shellcheck disable=SC1090
. "$home_env"
echo "rig up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
mkdir -p "$base/out" "$base/work"
cd "$base/work" || exit 1

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
has() { grep -q -- "$2" <<<"$1"; }

cat >"$base/work/job.sh" <<'EOF'
#!/bin/bash
#SBATCH --time=5
echo "ran on cluster=$SLURM_CLUSTER_NAME home=$NETPLACE_HOME_SITE"
env >"$PWD/env.$SLURM_JOB_ID"
exit 3
EOF
chmod +x "$base/work/job.sh"

# sub NAME sbatch-args...: sets rc, out, err, job, cluster.
sub() {
  local name=$1; shift
  out=$(timeout "$T" sbatch "$@" 2>"$base/out/$name.submit.err")
  rc=$?
  err=$(cat "$base/out/$name.submit.err")
  job=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$out")
  cluster=$(sed -n 's/^Submitted batch job [0-9]* on cluster \(.*\)/\1/p' <<<"$out")
  echo "  [$name] rc=$rc out='$out' err='$(tr '\n' ' ' <<<"$err" | cut -c1-400)'"
}
delta_count() { rig_delta_jobs | grep -c . ; }
# wait_remote ID STATE...: polls `netplace job status` from home until the job is final.
wait_remote() {
  local id=$1 i line
  status_line="(no job id)"
  [ -n "$id" ] || return 0
  for i in $(seq 1 150); do
    line=$(timeout "$T" "$cli" job status -M delta "$id" --federation "$fed" 2>&1)
    case "$line" in *COMPLETED*|*FAILED*|*CANCELLED*|*TIMEOUT*) break ;; esac
    sleep 0.2
  done
  status_line=$line
}

token=$(cat "$base/home-dirs/root/.netplace/tokens/delta.jwt")
# Users' default accounts, as the collector timer caches them: the policy has account ACLs and a
# job without -A is judged as its user's default account (root's is root; unknown, it would get
# only what every ACL permits). Load and controller records come in part 3.
timeout 60 "$cli" sites collect --federation "$fed" --output "$base/out/sites-early.json" \
  --controllers none --accounts "$state/slurm-accounts.json" 2>/dev/null

# --- 1. data at the centre: the job goes there, output at the centre, state from home --------
n0=$(delta_count)
sub data --place-data=ds@delta:2T -o "$base/out/d.%j" job.sh
check "data at delta: sbatch says 'Submitted batch job N on cluster delta'" \
  test "$rc" = 0 -a "$cluster" = delta -a -n "$job"
check "data at delta: exactly one job more at the centre" test "$(delta_count)" = $((n0 + 1))
check "data at delta: nothing submitted at home" \
  test -z "$(timeout $T squeue -M alpha,beta -h -o %i 2>/dev/null | grep -v CLUSTER)"
wait_remote "$job"
echo "  status: $status_line"
check "state from home: netplace job status shows FAILED exit 3 (the script's own code)" \
  has "$status_line" "FAILED exit 3"
check "state from home: output location is the centre's file" \
  has "$status_line" "output delta:$base/out/d.$job"
check "output file written by the job at the centre" \
  grep -q "ran on cluster=delta home=alpha" "$base/out/d.$job"
check "token never in the job's environment at the centre" \
  bash -c "[ -s '$base/work/env.$job' ] && ! grep -qF -- '$token' '$base/work/env.$job' && ! grep -q SLURM_JWT '$base/work/env.$job'"
check "token never on the submitter's terminal" bash -c "! grep -qF -- '$token' '$base/out/data.submit.err'"
json=$(timeout $T "$cli" job status -M delta "$job" --federation "$fed" --json)
check "status --json: state and exit code" \
  test "$(jq -r '.state + " " + (.exit_code|tostring)' <<<"$json")" = "FAILED 3"
sub parsable --parsable --place-data=ds@delta:2T -o /dev/null job.sh
check "--parsable prints JOBID;CLUSTER as sbatch does" grep -qE '^[0-9]+;delta$' <<<"$out"

# --- 2. cancel from home ----------------------------------------------------------------------
sub cancel --place-data=ds@delta:2T -o /dev/null --wrap "sleep 120"
[ -n "$job" ] && timeout $T "$cli" job cancel -M delta "$job" --federation "$fed" >/dev/null
wait_remote "$job"
check "netplace job cancel: the centre's job is CANCELLED" has "$status_line" "CANCELLED"

# --- 2b. --hold: held at the centre, once, and nothing at home ------------------------------------
# slurmrestd 22.05 answers a held submission with HTTP 200, a job_id and errors[] "Job is in held
# state": treating that as a failure made the home cluster run the job too.
n0=$(delta_count)
sub hold --hold --place-data=ds@delta:2T -o /dev/null job.sh
check "--hold: submitted on cluster delta" test "$rc" = 0 -a "$cluster" = delta -a -n "$job"
check "--hold: exactly one job more at the centre" test "$(delta_count)" = $((n0 + 1))
check "--hold: nothing submitted at home" \
  test -z "$(timeout $T squeue -M alpha,beta -h -o %i 2>/dev/null | grep -v CLUSTER)"
check "--hold: the centre's job is held (PENDING)" \
  bash -c "SLURM_CONF=$delta_conf timeout $T squeue -h -j '$job' -o '%T %r' | grep -q 'PENDING JobHeldUser'"
[ -n "$job" ] && timeout $T "$cli" job cancel -M delta "$job" --federation "$fed" >/dev/null

# --- 3. collector over REST; compute-only job stays home when home is idle ---------------------
timeout 60 "$cli" sites collect --federation "$fed" --output "$state/sites.json" --print >"$base/out/collect.json" 2>"$base/out/collect.err"
crc=$?
check "collector: all three sites written (delta over REST)" \
  test "$crc" = 0 -a "$(jq '.sites | length' "$state/sites.json")" = 3
dtot=$(SLURM_CONF=$delta_conf timeout $T sinfo -h -N -o %C | head -1 | cut -d/ -f4)
check "collector: delta's cores as its own sinfo counts them ($dtot)" \
  test "$(jq -r '.sites[] | select(.site == "delta") | .cores_total' "$state/sites.json")" = "$dtot"
# The centre's partition batch DOWN (its admin's scontrol): nodes and cores still counted, none
# free, exactly as sinfo's availability says; back UP afterwards.
SLURM_CONF=$delta_conf timeout $T scontrol update PartitionName=batch State=DOWN
timeout 60 "$cli" sites collect --federation "$fed" --output "$base/out/sites-down.json" \
  --controllers none --accounts none 2>/dev/null
check "collector: delta's partition batch DOWN (read over REST): $dtot cores, 0 free" \
  test "$(jq -r '.sites[] | select(.site == "delta") | "\(.cores_total) \(.cores_free)"' "$base/out/sites-down.json")" = "$dtot 0"
SLURM_CONF=$delta_conf timeout $T scontrol update PartitionName=batch State=UP
# A partition the centre does not have, listed for it: said by name, delta's load left out.
sed 's/^    partitions: \[batch\].*/    partitions: [batch, nosuch]/' "$fed" >"$base/out/fed-nosuch.yaml"
err=$(timeout 60 "$cli" sites collect --federation "$base/out/fed-nosuch.yaml" \
  --output "$base/out/sites-nosuch.json" --controllers none --accounts none 2>&1 >/dev/null)
check "collector: a listed partition delta lacks is named with delta's own partitions" \
  has "$err" "site delta (REST): partition(s) nosuch listed for site 'delta' in the federation file do not exist on its cluster (it has: batch)"
check "collector: delta left out (static wait), the other sites written" \
  test "$(jq -r '[.sites[].site] | sort | join(",")' "$base/out/sites-nosuch.json")" = "alpha,beta"

n0=$(delta_count)
sub compute --place-explain -o /dev/null --wrap true
check "compute-only job, home idle: stays home (no 'on cluster')" \
  test "$rc" = 0 -a -n "$job" -a -z "$cluster"
check "compute-only job: nothing at the centre" test "$(delta_count)" = "$n0"

# --- 4. policy: an account the admin did not open to delta never reaches it --------------------
n0=$(delta_count)
sub acl_ask -A students --place-sites=delta -o /dev/null job.sh
check "ACL: asking for delta as 'students' is refused with the reason" \
  test "$rc" != 0 -a -z "$job"
has "$err" "students" || fail "ACL: reason names the account ($err)"
sub acl_data -A students --place-data=ds@delta:2T -o /dev/null job.sh
check "ACL: data at delta, account 'students': placed elsewhere, not at delta" \
  test "$rc" = 0 -a "$cluster" != delta
check "ACL: nothing reached the centre" test "$(delta_count)" = "$n0"

# --- 5. an option that cannot be carried is refused by name, before anything is sent ------------
n0=$(delta_count)
sub unsupported --place-data=ds@delta:2T --dependency=singleton -o /dev/null job.sh
check "unsupported option: refused" test "$rc" != 0 -a -z "$job"
check "unsupported option: named (--dependency)" has "$err" "--dependency cannot be forwarded"
check "unsupported option: nothing at the centre" test "$(delta_count)" = "$n0"
sub stdin --place-data=ds@delta:2T -o /dev/null <"$base/work/job.sh"
check "script on stdin: refused with the reason" has "$err" "standard input"

# --- 6. failures follow on_forward_failure ----------------------------------------------------
goodtok=$token
tokfile=$base/home-dirs/root/.netplace/tokens/delta.jwt
settok() { (umask 077; rm -f "$tokfile"; printf "%s\n" "$1" >"$tokfile"); }
# setup CASE MODE: breaks one thing; returns the text the message must contain.
setup() {
  case $1 in
    bad-token) settok "${goodtok%.*}.c2lnbmVkIGJ5IGFub3RoZXIga2V5"; want="refused" ;;
    expired-token) settok "$(NETPLACE_NETNS=$rig_ns "$rig_here/restsite.sh" token "$base/delta" root 1)"; sleep 2
                   want="expired at" ;;
    unsafe-token-file) chmod 644 "$tokfile"; want="chmod 600" ;;
    centre-down) rig_federation "$2" "http://$delta_addr:$closed_port"; want="no connection\|Couldn't connect" ;;
    rest-errors) echo error >"$base/proxy.mode"; want="injected failure" ;;
  esac
}
for mode in home fail; do
  for name in bad-token expired-token unsafe-token-file centre-down rest-errors; do
    rig_federation "$mode" "$delta_url"
    setup "$name" "$mode"
    n0=$(delta_count)
    t1=$(date +%s%N)
    sub "$name-$mode" --place-data=ds@delta:2T -o /dev/null job.sh
    ms=$(( ($(date +%s%N) - t1) / 1000000 ))
    if [ "$mode" = home ]; then
      check "$name, on_forward_failure=home: runs at home with a warning (${ms} ms)" \
        test "$rc" = 0 -a -n "$job" -a -z "$cluster"
      has "$err" "the job runs at home (alpha)" || fail "$name (home): warning says it runs at home"
    else
      check "$name, on_forward_failure=fail: refused (${ms} ms)" test "$rc" != 0 -a -z "$job"
    fi
    check "$name ($mode): message says why ($want)" grep -q "$want" <<<"$err"
    check "$name ($mode): nothing at the centre" test "$(delta_count)" = "$n0"
    check "$name ($mode): token not in the message" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$goodtok" "$err"
    check "$name ($mode): bounded (< 12 s)" test "$ms" -lt 12000
    rm -f "$base/proxy.mode"
    settok "$goodtok"
  done
done
rig_federation fail "$delta_url"
sub rest-error-real --place-data=ds@delta:2T --partition=nosuch -o /dev/null job.sh
check "a real slurmrestd error (unknown partition at the centre) is shown, fail mode" \
  has "$err" "Invalid partition name specified"

# --- 7. a retry after a timeout submits once --------------------------------------------------
rig_federation fail "$delta_url"
echo "delay-submit 12" >"$base/proxy.mode"
n0=$(delta_count)
c0=$(grep -c . "$base/proxy.count")
sub timeout --place-data=ds@delta:2T -o /dev/null --wrap "echo retried"
rm -f "$base/proxy.mode"
check "submission answer lost in a timeout: the job is found by its key, sbatch reports it" \
  test "$rc" = 0 -a "$cluster" = delta -a -n "$job"
check "after the timeout: exactly one job at the centre" test "$(delta_count)" = $((n0 + 1))
check "after the timeout: one submission request reached the centre" \
  test "$(grep -c . "$base/proxy.count")" = $((c0 + 1))
check "the job found carries the submission key" grep -q "^$job|.*|netplace-key=" <<<"$(rig_delta_jobs)"

echo "$failures failure(s)"
[ "$failures" = 0 ]
