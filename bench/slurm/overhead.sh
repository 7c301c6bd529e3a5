#!/usr/bin/env bash
# Whole-process overhead of netplace on a real Slurm multi-cluster (medians of N runs, variants
# interleaved so drift hits all alike). Starts its own three clusters (tests/integration/slurm/
# cluster.sh) unless BASE is given with one already running, and stops what it started.
#
#   bench/slurm/overhead.sh BUILD_DIR [RUNS]        (root; RUNS default 20)
#
# (a) steered sbatch (netplace picks among alpha, beta, gamma)   vs  plain `sbatch -M alpha,beta,gamma`
#     and the same decision through the CLI door (io.popen of `netplace slurm decide`); steering to
#     another cluster directly (default) and through Slurm's -M path (steer=dbd)
# (b) unsteered sbatch with netplace loaded (plugin + cli_filter) vs  plain sbatch
# (c) srun -N1 true with binding (bind=auto)                     vs  --place-bind=none / no netplace
set -euo pipefail
bin=$(cd "${1:?usage: $0 BUILD_DIR [RUNS]}" && pwd)
runs=${2:-20}
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/integration/slurm
T=30

base=${BASE:-}
own=0
if [ -z "$base" ]; then
  base=$(mktemp -d /tmp/netplace-slurm-bench.XXXXXX)
  own=1
  trap '"$here/cluster.sh" stop "$base" >/dev/null 2>&1 || true; rm -rf "$base"' EXIT
  mkdir -p "$base/state"
  NETPLACE_SPANK_SO=$bin/plugins/slurm/spank_netplace.so NETPLACE_CLI_FILTER=$bin/plugins/slurm/cli_filter.lua \
  NETPLACE_PLUGSTACK_ARGS="federation=$here/federation.yaml policy=$here/policy.yaml state_dir=$base/state topology_cache=$base/topology.xml" \
    "$here/cluster.sh" start "$base" 2>/dev/null
fi
conf=$base/alpha/etc/slurm.conf
plain=$base/alpha/etc-plain/slurm.conf
# The CLI door: the netplace client config with the popen-based cli_filter.lua.
mkdir -p "$base/alpha/etc-cli"
cp "$conf" "$base/alpha/etc-cli/slurm.conf"
sed "s|@NETPLACE_CLI@|$bin/tools/netplace/netplace|" "$src/bench/slurm/cli_filter_cli.lua" >"$base/alpha/etc-cli/cli_filter.lua"
cli=$base/alpha/etc-cli/slurm.conf
# Steering through Slurm's -M path (steer=dbd): the module sets options["clusters"] and sbatch asks
# slurmdbd for the cluster's record, as `sbatch -M beta` does.
mkdir -p "$base/alpha/etc-dbd"
sed "s|^PlugStackConfig=.*|PlugStackConfig=$base/alpha/etc-dbd/plugstack.conf|" "$conf" >"$base/alpha/etc-dbd/slurm.conf"
sed 's|$| steer=dbd|' "$base/alpha/etc/plugstack.conf" >"$base/alpha/etc-dbd/plugstack.conf"
cp "$base/alpha/etc/cli_filter.lua" "$base/alpha/etc-dbd/cli_filter.lua"
dbd=$base/alpha/etc-dbd/slurm.conf
export NETPLACE_MUNGE_SOCKET=$base/munge/munge.socket
# A realistic cached state: the collector's view of the three (idle) clusters, and their
# controller records (slurm-controllers.json) for direct steering.
SLURM_CONF=$conf "$bin/tools/netplace/netplace" sites collect --federation "$here/federation.yaml" \
  --output "$base/state/sites.json" >/dev/null 2>&1 || true

declare -A samples
ms() {  # ms KEY SLURM_CONF cmd...: one timed run, appended to samples[KEY]
  local key=$1 c=$2; shift 2
  local t0 t1
  t0=$(date +%s%N)
  SLURM_CONF=$c timeout "$T" "$@" >/dev/null 2>&1 || { echo "run failed: $key: $*" >&2; return 1; }
  t1=$(date +%s%N)
  samples[$key]+="$(( (t1 - t0) / 1000 )) "
}

hold=(sbatch --hold -o /dev/null --wrap true)
# Warm-up: page cache, munge, slurmdbd connections.
for i in 1 2 3; do
  ms warm "$plain" "${hold[@]}"; ms warm "$conf" "${hold[@]}" --place-sites=auto
  ms warm "$plain" srun -N1 true
done
# SECTIONS="c" (any of a b c) limits the run, e.g. for more runs of one comparison.
sections=${SECTIONS:-a b c}
on() { [[ " $sections " == *" $1 "* ]]; }
for i in $(seq 1 "$runs"); do
  on a || continue
  ms a_slurm_M3 "$plain" "${hold[@]}" -M alpha,beta,gamma
  ms a_netplace_module "$conf" "${hold[@]}" --place-sites=auto
  ms a_netplace_cli "$cli" "${hold[@]}" --place-sites=auto
  ms a_netplace_remote "$conf" "${hold[@]}" --place-data=ds@beta:2T
  ms a_netplace_remote_dbd "$dbd" "${hold[@]}" --place-data=ds@beta:2T
  ms a_slurm_M1 "$plain" "${hold[@]}" -M beta
done
for i in $(seq 1 "$runs"); do
  on b || continue
  ms b_plain "$plain" "${hold[@]}"
  ms b_netplace_loaded "$conf" "${hold[@]}"
done
for i in $(seq 1 "$runs"); do
  on c || continue
  ms c_no_netplace_client "$plain" env NETPLACE_BIND=none srun -N1 true
  ms c_bind_none "$conf" srun -N1 --place-bind=none true
  ms c_bind_auto "$conf" srun -N1 true
done
# Held jobs only occupied the queue.
for c in alpha beta gamma; do SLURM_CONF=$conf timeout "$T" scancel -M "$c" --user=root >/dev/null 2>&1 || true; done

# Median, min, max in ms of a key's samples (microseconds).
stat() { tr ' ' '\n' <<<"${samples[$1]}" | grep . | sort -n | awk '{v[NR]=$1} END {
  m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.1f %.1f %.1f %d", m/1000, v[1]/1000, v[NR]/1000, NR}'; }
med() { stat "$1" | cut -d' ' -f1; }
row() { read -r m lo hi n <<<"$(stat "$2")"; printf '  %-62s %8s ms   (min %s, max %s, n=%s)\n' "$1" "$m" "$lo" "$hi" "$n"; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN {printf "%.3f", a / b}'; }
echo "netplace Slurm overhead, medians of $runs runs (wall time of the whole client process)"
if on a; then
echo "(a) steered submission"
row "sbatch -M alpha,beta,gamma (Slurm's own choice)" a_slurm_M3
row "sbatch --place-sites=auto, native Lua module" a_netplace_module
row "sbatch --place-sites=auto, CLI door (io.popen)" a_netplace_cli
row "sbatch --place-data=ds@beta:2T (steered to beta), direct" a_netplace_remote
row "the same with steer=dbd (Slurm's -M path, slurmdbd lookup)" a_netplace_remote_dbd
row "sbatch -M beta (the -M path alone, no netplace)" a_slurm_M1
echo "  ratio module / -M3: $(ratio a_netplace_module a_slurm_M3)x (target <= 1.0x); CLI / -M3: $(ratio a_netplace_cli a_slurm_M3)x; steered to beta / -M3: $(ratio a_netplace_remote a_slurm_M3)x (steer=dbd: $(ratio a_netplace_remote_dbd a_slurm_M3)x)"
fi
if on b; then
echo "(b) unsteered submission"
row "plain sbatch" b_plain
row "sbatch with netplace loaded (plugin + cli_filter)" b_netplace_loaded
echo "  difference: $(awk -v a="$(med b_netplace_loaded)" -v b="$(med b_plain)" 'BEGIN {printf "%+.1f", a - b}') ms (target <= +5 ms)"
fi
if on c; then
echo "(c) srun -N1 true"
row "client without netplace, NETPLACE_BIND=none in the step" c_no_netplace_client
row "netplace, --place-bind=none" c_bind_none
row "netplace, binding (auto)" c_bind_auto
echo "  ratio bind / none: $(ratio c_bind_auto c_bind_none)x (target <= 1.02x)"
fi
