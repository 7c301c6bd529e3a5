#!/usr/bin/env bash
# Signed exchange between independent sites, on one federation-in-a-box (rig.sh), started once
# for every case of the `federation` label:
#   1. after two exchange rounds every site holds all N(N-1) directed links, each within 10 % of
#      its shaped goodput, ranked like the shaped rates, origin = the measuring site; each
#      site's load reaches the others;
#   2. at alpha, `netplace place` for data at beta picks beta or gamma by the measured beta->gamma
#      rate, where federation.yaml's static figure would pick the other;
#   2b. beta's staging state crosses the exchange: stage-ins in beta's ledger on gamma->beta reach
#      alpha's placement inputs (origin beta) and move a job from beta to alpha; beta's verified
#      replica of the dataset brings it back to beta; `exchange status` and `stage status` at
#      alpha show beta's entries with their origin;
#   3. rejections, one peer (gamma) at a time, seen from alpha: flipped byte, unknown key, other
#      site's name, replayed older snapshot, expired, 1 GiB body, slow-loris, dead peer, garbage;
#      each with its reason, beta unaffected, the round bounded, gamma's last good links kept;
#      a relayed snapshot (gamma via beta) verifies;
#   4. kill -9 of alpha's daemon during merges, 20 times, with readers: every read complete.
# usage: test_federation.sh NETPLACE NETPLACE-PROBED
set -euo pipefail
NETPLACE=$1
PROBED=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../netns/lib.sh"
np_require_root

BASE=$(mktemp -d /tmp/np-federation.XXXXXX)
cleanup() {
    local rc=$?
    set +e
    bash "$HERE/rig.sh" stop "$BASE"
    np_cleanup
    [ "$rc" = 0 ] && rm -rf "$BASE"
    [ "$rc" = 0 ] || np_log "kept $BASE for inspection"
    return $rc
}
trap cleanup EXIT

RIG_NETPLACE=$NETPLACE RIG_PROBED=$PROBED RIG_EXCHANGE_INTERVAL=2s RIG_PREFIX="$NP_PREFIX" \
    bash "$HERE/rig.sh" start "$BASE"
source "$BASE/env.sh"
SITES=($RIG_SITES)
N=${#SITES[@]}

wait_for() {  # wait_for SECONDS COMMAND...
    local until=$(($(date +%s) + $1)); shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || return 1
        sleep 0.2
    done
}
var() { local v="$1"; echo "${!v}"; }
show() { "$NETPLACE" probe show --json -f "$(var "RIG_FED_$1")"; }
status_of() { "$NETPLACE" exchange status --json -f "$(var "RIG_FED_$1")"; }
rounds_of() { status_of "$1" | jq '.rounds'; }

# Each site's own load, as `netplace sites collect` writes it (no Slurm in this rig): the
# exchange must carry it to the other sites.
now=$(date +%s)
for i in "${!SITES[@]}"; do
    s=${SITES[$i]}
    jq -n --arg s "$s" --argjson i "$i" --argjson t "$now" \
        '{version: 1, sites: [{site: $s, nodes_total: 10, nodes_idle: (2 + $i), cores_total: 1000,
          cores_free: (100 * ($i + 1)), jobs_running: 5, jobs_pending: (7 + $i),
          pending_core_seconds: (3600 * ($i + 1)), collected_unix_s: $t}]}' >"$(var "RIG_SITE_STATE_$s")"
done

# ---- 1. every site holds every measured link --------------------------------------------
all_own_measured() {
    local s
    for s in "${SITES[@]}"; do
        jq -e --arg s "$s" --argjson n $((N - 1)) \
            '[.links[] | select(.to == $s and .origin == null and .bandwidth_bps != null)] | length == $n' \
            "$(var "RIG_STATE_$s")" || return 1
    done
}
wait_for 120 all_own_measured || np_fail "own links not measured within 120 s: $(bash "$HERE/rig.sh" status "$BASE")"
np_log "every site measured its $((N - 1)) links"

check_links() {  # check_links SITE: prints problems, exit 1 if any
    local s=$1 bad=0 out
    out=$(show "$s")
    for from in "${SITES[@]}"; do
        for to in "${SITES[@]}"; do
            [ "$from" = "$to" ] && continue
            local rate bw origin
            rate=$(var "RIG_RATE_${from}_${to}")
            read -r bw origin < <(jq -r --arg f "$from" --arg t "$to" \
                '.links[] | select(.from == $f and .to == $t) | "\(if .measured then .bandwidth_bps else "none" end) \(.origin // "none")"' <<<"$out")
            if [ "$bw" = none ]; then echo "$s: $from->$to not measured"; bad=1; continue; fi
            if [ "$origin" != "$to" ]; then echo "$s: $from->$to origin '$origin', expected '$to'"; bad=1; fi
            # goodput is ~95.6 % of the shaped line rate; within 10 % of that
            if ! jq -e -n --argjson bw "$bw" --argjson r "$rate" '($bw / ($r * 1e6 * 0.956) - 1) | fabs <= 0.10' >/dev/null; then
                echo "$s: $from->$to $(jq -n "$bw / 1e6 * 100 | round / 100") Mbit/s, shaped $rate Mbit/s"; bad=1
            fi
        done
    done
    # Ranking: measured order == shaped order.
    local want got
    want=$(for f in "${SITES[@]}"; do for t in "${SITES[@]}"; do [ "$f" = "$t" ] || echo "$(var "RIG_RATE_${f}_${t}") $f>$t"; done; done | sort -n | awk '{print $2}' | tr '\n' ' ')
    got=$(jq -r '[.links[] | select(.measured)] | sort_by(.bandwidth_bps) | map("\(.from)>\(.to)") | join(" ")' <<<"$out")
    [ "$got " = "$want" ] || { echo "$s: ranking '$got', shaped '$want'"; bad=1; }
    return $bad
}

# Two rounds after every site had its own figures.
declare -A r0
for s in "${SITES[@]}"; do r0[$s]=$(rounds_of "$s" 2>/dev/null || echo 0); done
for s in "${SITES[@]}"; do
    wait_for 30 bash -c "[ \$(\"$NETPLACE\" exchange status --json -f $(var "RIG_FED_$s") | jq .rounds) -ge $((${r0[$s]} + 2)) ]" ||
        np_fail "$s: no two exchange rounds within 30 s"
done
problems=""
for s in "${SITES[@]}"; do problems+=$(check_links "$s" || true); done
if [ -n "$problems" ]; then
    # A loaded 2-core host can starve one probe; re-measure the off links once, at their
    # measuring sites, and let the exchange carry the new figures (logged, as in netns_accuracy).
    np_log "re-measuring once after: $problems"
    # The measuring daemon owns its links: stop it, probe once, start it again (it reads the
    # state back), so the new figures are what it publishes.
    for to in $(grep -o -- '->[a-z0-9]*' <<<"$problems" | tr -d '>-' | sort -u); do
        np_kill_pid "$(var "RIG_PROBED_PID_$to")" netplace-probed
        rig_in "$to" "$NETPLACE" probe run --once -f "$(var "RIG_FED_$to")" >/dev/null 2>&1 || true
        ip netns exec "$(var "RIG_NS_$to")" "$PROBED" --federation "$(var "RIG_FED_$to")" \
            --catalog "$(var "RIG_CATALOG_$to")" </dev/null >>"$(var "RIG_LOG_$to")" 2>&1 &
        rig_track $! netplace-probed
        printf -v "RIG_PROBED_PID_$to" %s $!
    done
    for s in "${SITES[@]}"; do r0[$s]=$(rounds_of "$s"); done
    for s in "${SITES[@]}"; do
        wait_for 30 bash -c "[ \$(\"$NETPLACE\" exchange status --json -f $(var "RIG_FED_$s") | jq .rounds) -ge $((${r0[$s]} + 2)) ]" || true
    done
    problems=""
    for s in "${SITES[@]}"; do problems+=$(check_links "$s" || true); done
    [ -z "$problems" ] || np_fail "links after a second measurement: $problems"
fi
for s in "${SITES[@]}"; do
    show "$s" | jq -r '.links[] | "  \(.from)->\(.to) \(.bandwidth_bps / 1e6 * 100 | round / 100) Mbit/s origin \(.origin)"' | sed "s/^/[$s]/" >&2
done
np_log "1. all $((N * (N - 1))) links at all $N sites, within 10 %, ranked right, origin = measuring site"

# Loads: every site holds every other site's load, marked with its origin.
for s in "${SITES[@]}"; do
    for p in "${SITES[@]}"; do
        [ "$s" = "$p" ] && continue
        jq -e --arg p "$p" '.sites[] | select(.site == $p and .origin == $p and .jobs_pending >= 7)' \
            "$(var "RIG_MERGED_SITE_STATE_$s")" >/dev/null || np_fail "$s lacks $p's load: $(cat "$(var "RIG_MERGED_SITE_STATE_$s")")"
    done
done
np_log "loads of every site reached every other site"

# `probe show` marks origins in the table too; the exchange status and metrics exist.
"$NETPLACE" probe show -f "$RIG_FED_alpha" | grep -E "^beta +gamma .* gamma " >/dev/null ||
    np_fail "probe show table does not mark beta->gamma as measured by gamma"
status_of alpha | jq -e '[.peers[] | select(.verdict == "ok" or .verdict == "unchanged")] | length == 2' >/dev/null ||
    np_fail "alpha's exchange status: $(status_of alpha)"
grep -q '^netplace_exchange_peer_ok{federation="rig",site="alpha",peer="beta"} 1' "${RIG_PROM_alpha%.prom}-exchange.prom" ||
    np_fail "no exchange metrics at alpha"
grep -q 'netplace_exchange_not_modified_total{.*peer="beta"} [1-9]' "${RIG_PROM_alpha%.prom}-exchange.prom" ||
    np_fail "unchanged snapshots were not answered 304"

# ---- 2. placement at alpha uses the measured beta->gamma ---------------------------------
work=$(np_tmpdir)
place_fed() {  # place_fed FILE BETA_GAMMA_STATIC
    {
        echo "federation: rig"
        echo "local_site: alpha"
        echo "defaults: {bandwidth: 1Gbit/s, latency: 1ms}"
        echo "sites:"
        echo "  - {name: alpha, capacity: {nodes: 10, cores: 1000}, static_wait: 100h}"
        echo "  - {name: beta, capacity: {nodes: 10, cores: 1000}, static_wait: 2h}"
        echo "  - {name: gamma, capacity: {nodes: 10, cores: 1000}, static_wait: 0s}"
        echo "links:"
        echo "  - {from: beta, to: gamma, bandwidth: $2}"
        echo "probing: {state_file: $RIG_STATE_alpha}"
    } >"$1"
}
cat >"$work/job.yaml" <<'JOB'
name: data-at-beta
tasks: 10
walltime: 2h
runtime: 1h
inputs:
  - {name: survey, site: beta, size: 50GB}
sites: {allowed: [beta, gamma]}
JOB
place_fed "$work/fed.yaml" 10Gbit/s
# Static only (no state file): 50 GB at 10 Gbit/s = 40 s + 0 wait at gamma beats beta's 2 h.
static_pick=$("$NETPLACE" place --federation "$work/fed.yaml" --job "$work/job.yaml" --links "$work/none.json" --json | jq -r .site)
# Measured: ~29 Mbit/s -> 50 GB takes ~3.9 h; beta's 2 h wait wins.
measured=$("$NETPLACE" place --federation "$work/fed.yaml" --job "$work/job.yaml" --json)
measured_pick=$(jq -r .site <<<"$measured")
np_log "place at alpha: static figure -> $static_pick, measured beta->gamma -> $measured_pick"
[ "$static_pick" = gamma ] || np_fail "the static case should pick gamma (test premise): $static_pick"
[ "$measured_pick" = beta ] || np_fail "with beta->gamma measured by gamma, alpha should pick beta: $measured"
"$NETPLACE" place --federation "$work/fed.yaml" --job "$work/job.yaml" --explain >"$work/explain.txt" 2>&1 || true
grep -E "^  beta -> gamma: .*\(measured by gamma, .* old\) for dataset 'survey'" "$work/explain.txt" >/dev/null ||
    np_fail "the explanation does not say who measured beta->gamma: $(cat "$work/explain.txt")"
np_log "2. placement at alpha follows gamma's measurement of beta->gamma"

# ---- 2b. beta's ledger and replicas reach alpha's placement ------------------------------
# 'archive' (50 GB) lives at gamma; the job may run at alpha or beta (same speed, no wait). Idle
# links: gamma->beta (80 Mbit/s shaped) beats gamma->alpha (25): beta. Three stage-ins running at
# beta on gamma->beta with 200 GB left each share that link (processor sharing): beta's stage-in
# becomes (50 + min(600, 3 x 50)) GB at ~76 Mbit/s = ~5.8 h > alpha's 50 GB at ~24 Mbit/s =
# ~4.6 h: alpha. A verified copy at beta (same sha256 and size as the catalog's) makes beta's
# stage-in 0: beta again.
archive_sha=$(printf 'archive' | sha256sum | cut -d' ' -f1)
catalog_at() {  # catalog_at SITE STATE_DIR
    mkdir -p "$2"
    cat >"$(var "RIG_CATALOG_$1")" <<CAT
datasets:
  - name: archive
    size: 50GB
    sha256: $archive_sha
    replicas: [{site: gamma, url: $RIG_DATA_URL_gamma/archive}]
staging: {state_dir: $2, data_dir: $2/data}
CAT
}
catalog_at alpha "$work/staging-alpha"
catalog_at beta "$work/staging-beta"
{
    echo "federation: rig"
    echo "local_site: alpha"
    echo "defaults: {bandwidth: 1Gbit/s, latency: 1ms}"
    echo "sites:"
    echo "  - {name: alpha, capacity: {nodes: 10, cores: 1000}, static_wait: 0s}"
    echo "  - {name: beta, capacity: {nodes: 10, cores: 1000}, static_wait: 0s}"
    echo "  - {name: gamma, capacity: {nodes: 10, cores: 1000}, static_wait: 100h}"
    echo "probing: {state_file: $RIG_STATE_alpha}"
} >"$work/fed2.yaml"
cat >"$work/job2.yaml" <<'JOB'
name: data-at-gamma
tasks: 10
walltime: 2h
runtime: 1h
inputs:
  - {name: archive}
sites: {allowed: [alpha, beta]}
JOB
place2() {
    "$NETPLACE" place --federation "$work/fed2.yaml" --catalog "$RIG_CATALOG_alpha" \
        --job "$work/job2.yaml" --json --explain
}
idle_pick=$(place2 | jq -r .site)
[ "$idle_pick" = beta ] || np_fail "idle links should pick beta (test premise): $(place2)"
now=$(date +%s)
jq -n --argjson t "$now" '{version: 1, transfers: [range(3) | {id: "bulk\(.):gamma->beta",
      dataset: "bulk\(.)", from: "gamma", to: "beta", bytes_total: 300000000000,
      bytes_left: 200000000000, rate_bps: 25000000, started: ($t - 60), updated: $t,
      state: "running"}]}' >"$work/staging-beta/transfers.json"
beta_seq=$(status_of alpha | jq '.peers[] | select(.site == "beta") | .sequence')
# beta publishes its ledger in its next round, alpha merges it in its next: origin beta.
peer_transfers() { jq -e '[.sites[] | select(.site == "beta") | .transfers[] | select(.from == "gamma" and .to == "beta")] | length == 3' "$RIG_STATE_alpha.staging"; }
wait_for 30 peer_transfers || np_fail "beta's ledger did not reach alpha: $(cat "$RIG_STATE_alpha.staging" 2>&1 | head -c 600)"
busy=$(place2)
busy_pick=$(jq -r .site <<<"$busy")
np_log "2b. place at alpha for data at gamma: idle links -> $idle_pick, beta's 3 stage-ins on gamma->beta -> $busy_pick"
[ "$busy_pick" = alpha ] || np_fail "with beta's stage-ins on gamma->beta alpha should win: $busy"
jq -e '.ranking[] | select(.site == "beta") | .link_transfers == 3' <<<"$busy" >/dev/null ||
    np_fail "beta's estimate does not share gamma->beta with 3 transfers: $(jq -c '.ranking' <<<"$busy")"
status_of alpha | jq -e '.peers[] | select(.site == "beta" and .transfers == 3 and .sequence > '"$beta_seq"')' >/dev/null ||
    np_fail "alpha's exchange status does not count beta's transfers: $(status_of alpha | jq -c '.peers')"
status_of alpha | jq -e '[.staging[] | select(.site == "beta") | .transfers[]] | length == 3' >/dev/null ||
    np_fail "exchange status --json lacks beta's transfers"
"$NETPLACE" exchange status -f "$RIG_FED_alpha" | grep -E "running +bulk0 gamma->beta .* \(origin beta," >/dev/null ||
    np_fail "exchange status does not show beta's transfer with its origin: $("$NETPLACE" exchange status -f "$RIG_FED_alpha")"
"$NETPLACE" stage status --catalog "$RIG_CATALOG_alpha" -f "$RIG_FED_alpha" | grep -E "bulk2 gamma->beta .* \(origin beta," >/dev/null ||
    np_fail "stage status does not show beta's transfer with its origin"
# beta's verified copy: published with its replica list, beta reads it locally.
jq -n --arg s "$archive_sha" --argjson t "$(date +%s)" '{version: 1, replicas: [{dataset: "archive",
      site: "beta", path: "/srv/archive", bytes: 50000000000, sha256: $s, created: $t,
      last_used: $t}]}' >"$work/staging-beta/replicas.json"
peer_replica() { jq -e '[.sites[] | select(.site == "beta") | .replicas[] | select(.dataset == "archive")] | length == 1' "$RIG_STATE_alpha.staging"; }
wait_for 30 peer_replica || np_fail "beta's replica did not reach alpha"
copy=$(place2)
[ "$(jq -r .site <<<"$copy")" = beta ] || np_fail "beta's copy of archive should bring the job back to beta: $copy"
jq -e '.ranking[] | select(.site == "beta") | .stage_in_s == 0' <<<"$copy" >/dev/null ||
    np_fail "beta still pays a stage-in with its copy: $(jq -c '.ranking' <<<"$copy")"
np_log "2b. beta's ledger (3 transfers) and replica reached alpha's placement with origin beta: alpha, then beta"
rm -f "$RIG_CATALOG_alpha" "$RIG_CATALOG_beta"

# ---- 3. rejections, one peer at a time ----------------------------------------------------
t=$RIG_WWW_gamma/netplace/t
mkdir -p "$t"
chmod 755 "$t"
early=$t/early.json
cp "$RIG_SNAPSHOT_gamma" "$early"
chmod 644 "$early"
early_seq=$(jq -r .payload "$early" | base64 -d | jq .sequence)
"$NETPLACE" exchange publish -f "$RIG_FED_gamma" >/dev/null  # gamma moves on: early is now old
wait_for 30 bash -c "\"$NETPLACE\" exchange status --json -f $RIG_FED_alpha | jq -e '.peers[] | select(.site == \"gamma\" and .sequence > $early_seq)'" ||
    np_fail "alpha never accepted gamma's newer snapshot"
fed_alpha_orig=$work/alpha-fed.orig
cp "$RIG_FED_alpha" "$fed_alpha_orig"
# gamma's links as alpha's placement sees them (merged into "$RIG_STATE_alpha.peers").
gamma_links() {
    "$NETPLACE" probe show --json -f "$RIG_FED_alpha" | jq '[.links[] | select(.origin == "gamma" and .measured)] | length'
}
gamma_links_before=$(gamma_links)
[ "$gamma_links_before" = $((N - 1)) ] || np_fail "alpha holds $gamma_links_before of gamma's links, expected $((N - 1))"

set_gamma_urls() {  # set_gamma_urls URL... : alpha fetches gamma's snapshot from these
    local list
    list=$(printf '"%s",' "$@")
    awk -v list="[${list%,}]" '
        /^  - name: / { cur = $3 }
        cur == "gamma" && /^    snapshot:/ { print "    snapshot: " list; next }
        { print }' "$fed_alpha_orig" >"$RIG_FED_alpha.new"
    mv "$RIG_FED_alpha.new" "$RIG_FED_alpha"
    kill -HUP "$RIG_PROBED_PID_alpha"
}
expect_rejection() {  # expect_rejection REASON URL...
    local reason=$1; shift
    local before
    before=$(rounds_of alpha)
    set_gamma_urls "$@"
    # Two rounds: the reload lands between rounds; the second surely used the new URLs.
    wait_for 40 bash -c "[ \$(\"$NETPLACE\" exchange status --json -f $RIG_FED_alpha | jq .rounds) -ge $((before + 2)) ]" ||
        np_fail "alpha ran no exchange rounds after the reload ($reason)"
    local st
    st=$(status_of alpha)
    jq -e --arg r "$reason" '.peers[] | select(.site == "gamma" and .verdict == "rejected" and .reason == $r)' <<<"$st" >/dev/null ||
        np_fail "gamma's $reason snapshot was not rejected as $reason: $(jq -c '.peers[] | select(.site == "gamma")' <<<"$st")"
    jq -e '.peers[] | select(.site == "beta" and (.verdict == "ok" or .verdict == "unchanged"))' <<<"$st" >/dev/null ||
        np_fail "beta was affected by gamma's $reason: $(jq -c '.peers[]' <<<"$st")"
    jq -e '.round_s <= 3 + 3' <<<"$st" >/dev/null || np_fail "round took $(jq .round_s <<<"$st") s with a $reason peer"
    [ "$(gamma_links)" = "$gamma_links_before" ] ||
        np_fail "gamma's last good links were dropped after $reason"
    grep -q "rejected gamma's snapshot from .*: $reason" "$RIG_LOG_alpha" || np_fail "no log line for $reason"
    np_log "  $reason: rejected ($(jq -r '.peers[] | select(.site == "gamma") | .message' <<<"$st")), round $(jq .round_s <<<"$st") s"
}
G=$RIG_URL_gamma/netplace/t

# flipped byte: one base64 character of the signed payload changed (still valid base64)
jq -c '.payload |= (.[0:200] + (if .[200:201] == "A" then "B" else "A" end) + .[201:])' \
    "$RIG_SNAPSHOT_gamma" >"$t/flipped.json"
expect_rejection bad-signature "$G/flipped.json"
# unknown key: a genuine-looking snapshot for gamma signed with a key nobody listed
"$NETPLACE" keygen --out "$work/rogue.key" >/dev/null 2>&1
"$NETPLACE" exchange publish -f "$RIG_FED_gamma" --key "$work/rogue.key" --out "$t/rogue.json" >/dev/null
expect_rejection unknown-key "$G/rogue.json"
# other site's name: beta's genuine snapshot served as gamma's
cp "$RIG_SNAPSHOT_beta" "$t/beta.json"
expect_rejection wrong-site "$G/beta.json"
# replayed: gamma's own older snapshot (a lower sequence than alpha accepted)
expect_rejection replayed "$G/early.json"
# expired: validly signed, validity 1 s
"$NETPLACE" exchange publish -f "$RIG_FED_gamma" --validity 1s --out "$t/expired.json" \
    --sequence $(($(date +%s) * 1000 + 999999)) >/dev/null
sleep 1.5
expect_rejection expired "$G/expired.json"
# 1 GiB body (sparse): refused by size before it is read
truncate -s 1G "$t/huge.json"
expect_rejection oversized "$G/huge.json"
# slow-loris: a server that sends one byte every 2 s
ip netns exec "$RIG_NS_gamma" perl "$HERE/../netns/fault_server.pl" trickle "$RIG_ADDR_gamma" 8081 \
    </dev/null >/dev/null 2>&1 &
np_track_pid $! perl
sleep 0.3
expect_rejection timeout "http://$RIG_ADDR_gamma:8081/snapshot.json"
# dead peer: nothing listens
expect_rejection unreachable "http://$RIG_ADDR_gamma:8089/snapshot.json"
# garbage
head -c 3000 /dev/urandom >"$t/garbage.json"
expect_rejection malformed "$G/garbage.json"
chmod 644 "$t"/*.json

# relay: gamma's own URL dead, beta re-serves gamma's verified snapshot
set_gamma_urls "http://$RIG_ADDR_gamma:8089/snapshot.json" "$RIG_RELAY_URL_beta/gamma.json"
before=$(rounds_of alpha)
wait_for 40 bash -c "[ \$(\"$NETPLACE\" exchange status --json -f $RIG_FED_alpha | jq .rounds) -ge $((before + 2)) ]" || np_fail "no rounds after relay reload"
status_of alpha | jq -e --arg u "$RIG_RELAY_URL_beta/gamma.json" \
    '.peers[] | select(.site == "gamma" and (.verdict == "ok" or .verdict == "unchanged") and .good_url == $u)' >/dev/null ||
    np_fail "gamma's snapshot relayed by beta was not accepted: $(status_of alpha | jq -c '.peers[]')"
np_log "3. nine rejections with their reasons, beta unaffected, rounds bounded; a relayed snapshot verifies"
cp "$fed_alpha_orig" "$RIG_FED_alpha"
kill -HUP "$RIG_PROBED_PID_alpha"

# ---- 4. kill -9 during merges, readers all along -------------------------------------------
np_kill_pid "$RIG_PROBED_PID_alpha" netplace-probed
( n=0; bad=0
  while [ ! -e "$work/stop-readers" ]; do
      if ! "$NETPLACE" probe show --json --strict -f "$RIG_FED_alpha" >"$work/read.json" 2>"$work/read.err"; then
          bad=$((bad + 1)); cp "$work/read.err" "$work/bad-read.$bad"
      elif ! jq -e --argjson n $((N * (N - 1))) '[.links[] | select(.measured)] | length == $n' "$work/read.json" >/dev/null; then
          bad=$((bad + 1)); cp "$work/read.json" "$work/bad-read.$bad"
      fi
      n=$((n + 1)); echo "$n" >"$work/reader.count"
  done
  echo "$n $bad" >"$work/reader.result" ) &
READER=$!
np_track_pid "$READER" bash
caught=0
# At least 20 kill cycles, and as many more (up to 100) as it takes for one kill to land during a
# write and for the readers to have run 20 times: with three sites the state file is small, so the
# write window is short and on a busy 2-core CI host 20 cycles sometimes all missed it.
i=0
while [ "$i" -lt 20 ] || { { [ "$caught" -lt 1 ] || [ "$(cat "$work/reader.count" 2>/dev/null || echo 0)" -lt 20 ]; } && [ "$i" -lt 100 ]; }; do
    i=$((i + 1))
    # A fresh status (no validators) makes the first round fetch and merge every peer.
    rm -f "$RIG_EXCHANGE_STATUS_alpha"
    ip netns exec "$RIG_NS_alpha" "$PROBED" --federation "$RIG_FED_alpha" </dev/null >>"$RIG_LOG_alpha" 2>&1 &
    pid=$!
    rig_track "$pid" netplace-probed
    if [ $((i % 2)) = 0 ]; then
        sleep "0.$((RANDOM % 5 + 1))"
    else
        until=$(($(date +%s) + 5))
        while ! compgen -G "$RIG_STATE_alpha*.tmp.*" >/dev/null && [ "$(date +%s)" -lt "$until" ]; do :; done
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # Own links (links.json.tmp.*), the merge of peers' links (links.json.peers.tmp.*) or of
    # their staging (links.json.staging.tmp.*).
    if compgen -G "$RIG_STATE_alpha*.tmp.*" >/dev/null; then
        caught=$((caught + 1))
        rm -f "$RIG_STATE_alpha".tmp.* "$RIG_STATE_alpha".peers.tmp.* "$RIG_STATE_alpha".staging.tmp.*
    fi
done
touch "$work/stop-readers"
wait "$READER" || true
read -r n bad <"$work/reader.result"
np_log "4. kill -9 x$i during merges: $n reads, $bad incomplete; $caught kills landed mid-write"
[ "$bad" = 0 ] || np_fail "a reader saw an incomplete state: $(cat "$work"/bad-read.* | head -c 600)"
[ "$n" -ge 20 ] || np_fail "readers ran only $n times"
[ "$caught" -ge 1 ] || np_fail "no kill landed during a write: the case did not test what it claims"
np_log "federation: OK"
