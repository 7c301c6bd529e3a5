#!/usr/bin/env bash
# Placement under load, swept: traces x data mixes x policies through `netplace sim`, printing
# the mean turnaround of every cell and its ratio to the per-job lower bound (docs/sim.md).
#
#   bench/sim_sweep.sh [--quick] [--threads N] [--out DIR] NETPLACE [SOURCE_DIR]
#
# Traces (../shared/data/workloads): LCG-2005 (188k jobs), MetaCentrum wagap 2013, HPC2N; all
# on the 20-site example federation with the Skyplane-measured links. Mixes: compute-only (no
# data), and 0-2 inputs per job of lognormal size (sigma 1) with median 50 GB, 300 GB, 500 GB,
# 70 % at the job's home site. --quick replays the first 20,000 jobs of each trace (the ctest
# `sweep` label runs that and checks every policy's ratio to the bound is >= 1, which it must
# be without replicas). Exit 77 when the shared data is missing.
#
# Output: one table per trace (rows: policies; columns: mixes; "2h31m (1.42)" = mean turnaround
# (its ratio to the bound)), then for each cell the best baseline and how far `fastest` and the
# shipped default (`balanced`) are from it, and the JSON of every run under --out.
set -euo pipefail
quick=0 threads=2 out=""
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1; shift ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
    esac
done
netplace=${1:?usage: sim_sweep.sh [--quick] [--threads N] [--out DIR] NETPLACE [SOURCE_DIR]}
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
data=${NETPLACE_SHARED_DATA:-$src/../shared/data}
for f in workloads/cloudsimplus-LCG-2005-1.swf.gz workloads/alea-wagap-2013.swf workloads/alea-hpc2n.swf \
         network/skyplane-throughput.csv network/skyplane-latency.csv; do
    if [ ! -f "$data/$f" ]; then echo "SKIP: $data/$f missing (set NETPLACE_SHARED_DATA)"; exit 77; fi
done
command -v jq >/dev/null || { echo "sim_sweep.sh needs jq (scripts/install-deps.sh test)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$out" ] && mkdir -p "$out"

baselines=(local least-loaded earliest-start data-local)
engine=(fastest balanced)
policies=$(IFS=,; echo "${baselines[*]},${engine[*]}")
traces=(lcg wagap hpc2n)
mixes=(compute 50GB 300GB 500GB)
declare -A trace_file=(
    [lcg]=$data/workloads/cloudsimplus-LCG-2005-1.swf.gz
    [wagap]=$data/workloads/alea-wagap-2013.swf
    [hpc2n]=$data/workloads/alea-hpc2n.swf)

model() {  # model TRACE MIX > yaml
    local trace=$1 mix=$2
    echo "seed: 2005"
    if [ "$trace" = lcg ]; then
        # The LCG partitions name the grid sites: the example data model's map.
        sed -n '/^home:/,/^inputs:/p' "$src/etc/sim/lcg-data-model.yaml" | sed '$d'
    else
        echo "home: {from: user}"  # one cluster's users, spread over the 20 sites
    fi
    if [ "$mix" = compute ]; then
        echo "inputs: {count: 0}"
        echo "outputs: {size: 0}"
    else
        echo "inputs:"
        echo "  count: {dist: uniform, min: 0, max: 2}"
        echo "  size: {dist: lognormal, median: $mix, sigma: 1.0, max: 20TB}"
        echo "  at_home: 0.7"
        echo "outputs:"
        echo "  size: {dist: lognormal, median: 200MB, sigma: 1.0, max: 20GB}"
    fi
}

for trace in "${traces[@]}"; do
    for mix in "${mixes[@]}"; do
        model "$trace" "$mix" >"$tmp/$trace-$mix.yaml"
        args=(sim --trace "${trace_file[$trace]}" --federation "$src/etc/sim/lcg20-federation.yaml"
              --data-model "$tmp/$trace-$mix.yaml"
              --links "$data/network/skyplane-throughput.csv" --links "$data/network/skyplane-latency.csv"
              --policies "$policies" --threads "$threads" --json)
        [ "$quick" = 1 ] && args+=(--max-jobs 20000)
        start=$(date +%s.%N)
        "$netplace" "${args[@]}" >"$tmp/$trace-$mix.json"
        echo "ran $trace x $mix in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall" >&2
        [ -n "$out" ] && cp "$tmp/$trace-$mix.json" "$out/"
    done
done

fmt_s() {  # seconds -> 1h02m / 12m30s / 45s
    awk -v s="$1" 'BEGIN { if (s >= 3600) printf "%dh%02dm", s/3600, (s%3600)/60;
                           else if (s >= 60) printf "%dm%02ds", s/60, s%60; else printf "%.0fs", s }'
}

status=0
for trace in "${traces[@]}"; do
    jobs=$(jq -r .jobs "$tmp/$trace-compute.json")
    printf '\n%s (%s jobs): mean turnaround (ratio to the bound)\n' "$trace" "$jobs"
    printf '%-16s' policy; for mix in "${mixes[@]}"; do printf ' %20s' "$mix"; done; echo
    for p in "${baselines[@]}" "${engine[@]}"; do
        printf '%-16s' "$p"
        for mix in "${mixes[@]}"; do
            f=$tmp/$trace-$mix.json
            ta=$(jq -r ".policies[\"$p\"].mean_turnaround_s" "$f")
            r=$(jq -r ".policies[\"$p\"].mean_turnaround_over_bound" "$f")
            printf ' %20s' "$(fmt_s "$ta") ($(printf '%.2f' "$r"))"
            if awk -v r="$r" 'BEGIN { exit !(r < 0.999) }'; then
                echo; echo "FAIL: $trace $mix $p: turnaround below the lower bound (ratio $r)"; status=1
            fi
        done
        echo
    done
    printf '%-16s' "bound"
    for mix in "${mixes[@]}"; do
        printf ' %20s' "$(fmt_s "$(jq -r '.policies["local"].mean_bound_s' "$tmp/$trace-$mix.json")")"
    done
    echo
    for mix in "${mixes[@]}"; do
        f=$tmp/$trace-$mix.json
        best=$(jq -r --argjson b "$(printf '%s\n' "${baselines[@]}" | jq -R . | jq -s .)" \
            '[.policies | to_entries[] | select(.key as $k | $b | index($k)) | {k: .key, v: .value.mean_turnaround_s}]
             | min_by(.v) | "\(.k) \(.v)"' "$f")
        read -r bname bval <<<"$best"
        line="  $mix: best baseline $bname $(fmt_s "$bval")"
        for p in "${engine[@]}"; do
            v=$(jq -r ".policies[\"$p\"].mean_turnaround_s" "$f")
            line+="; $p $(awk -v a="$v" -v b="$bval" 'BEGIN { printf "%+.1f %%", (a / b - 1) * 100 }')"
        done
        es=$(jq -r '.policies["earliest-start"].mean_turnaround_s' "$f")
        v=$(jq -r '.policies["fastest"].mean_turnaround_s' "$f")
        line+=" (fastest vs earliest-start $(awk -v a="$v" -v b="$es" 'BEGIN { printf "%+.1f %%", (a / b - 1) * 100 }'))"
        echo "$line"
    done
done
exit $status
