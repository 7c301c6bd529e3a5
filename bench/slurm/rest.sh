#!/usr/bin/env bash
# Wall time of a submission netplace forwards to an independent centre over REST (slurmrestd +
# JWT, tests/integration/rest/rig.sh) against Slurm's own `sbatch -M beta` to a multi-cluster
# sibling, in the same run: medians of RUNS, variants interleaved so drift hits both alike.
#
#   bench/slurm/rest.sh BUILD_DIR [RUNS]      (root; RUNS default 20; target ratio <= 1.0x)
#
# Both submissions are held (--hold) so neither cluster's scheduler works during the timing.
set -euo pipefail
bin=$(cd "${1:?usage: $0 BUILD_DIR [RUNS]}" && pwd)
runs=${2:-20}
src=$(cd "$(dirname "$0")/../.." && pwd)
T=30
base=$(mktemp -d /tmp/netplace-rest-bench.XXXXXX)
# slurmrestd runs as nobody and must read the centre's slurm.conf (tokens stay in 0700 dirs).
chmod 755 "$base"
# shellcheck source=../../tests/integration/rest/rig.sh
. "$src/tests/integration/rest/rig.sh"
trap 'rig_stop >/dev/null 2>&1 || true; rm -rf "$base"' EXIT
trap 'exit 143' TERM INT
rig_start 2>/dev/null
conf=$base/home/alpha/etc/slurm.conf
plain=$base/home/alpha/etc-plain/slurm.conf
export XDG_RUNTIME_DIR=$base/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
cd "$base"
# The realistic cached state: the collector's view (delta over REST, the others via sinfo).
SLURM_CONF=$conf "$bin/tools/netplace/netplace" sites collect --federation "$fed" \
  --output "$state/sites.json" >/dev/null 2>&1 || true

declare -A samples
ms() {  # ms KEY SLURM_CONF cmd...: one timed run; the forwarded one must say "on cluster delta"
  local key=$1 c=$2 out t0 t1; shift 2
  t0=$(date +%s%N)
  out=$(SLURM_CONF=$c timeout "$T" "$@" 2>"$base/last.err") || { echo "run failed: $key: $*: $(cat "$base/last.err")" >&2; return 1; }
  t1=$(date +%s%N)
  case $key in rest) [[ $out == *"on cluster delta"* ]] || { echo "not forwarded: $out: $(cat "$base/last.err")" >&2; return 1; } ;; esac
  samples[$key]+="$(( (t1 - t0) / 1000 )) "
}
hold=(sbatch --hold -o /dev/null --wrap true)
for i in 1 2 3; do ms warm "$plain" "${hold[@]}" -M beta; ms warm "$conf" "${hold[@]}" --place-data=ds@delta:2T; done
for i in $(seq 1 "$runs"); do
  ms slurm_M "$plain" "${hold[@]}" -M beta
  ms rest "$conf" "${hold[@]}" --place-data=ds@delta:2T
  ms local "$plain" "${hold[@]}"
done
median() { tr ' ' '\n' <<<"${samples[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
echo "netplace REST forwarding, medians of $runs runs (wall time of the whole sbatch process, ms)"
printf '  %-62s %8s ms\n' "sbatch --place-data=ds@delta:2T (forwarded to delta over REST)" "$(median rest)"
printf '  %-62s %8s ms\n' "sbatch -M beta (Slurm multi-cluster, no netplace)" "$(median slurm_M)"
printf '  %-62s %8s ms\n' "sbatch (local, no netplace)" "$(median local)"
echo "  ratio REST / -M beta: $(awk -v a="$(median rest)" -v b="$(median slurm_M)" 'BEGIN {printf "%.3f", a/b}')x (target <= 1.0x)"
echo "  jobs held at delta: $(rig_delta_jobs | grep -c .)"
