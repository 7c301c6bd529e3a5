#!/usr/bin/env bash
# The fuzzing campaign (docs/fuzzing.md): builds the `fuzz` preset (clang-14 libFuzzer,
# ASan + UBSan) and runs every harness for SECONDS (default 600), JOBS at a time (default 1: on a
# shared host run it under `nice -n 19`). Each harness starts from tests/fuzz/corpus/<h>; what it
# finds goes to build/fuzz/campaign/<h>/corpus, crashes/timeouts/OOMs to
# build/fuzz/campaign/<h>/crash-* (timeout-*, oom-*, leak-*).
# --brief: 20 s per harness (what CI would run if it could afford the fuzz build, see
# docs/fuzzing.md). --merge: new-coverage inputs are merged (minimised) into tests/fuzz/corpus/<h>
# to commit. --runs N: stop each harness after N executions instead of after SECONDS.
# Prints one line per harness: executions, seconds, executions/s, corpus size, crashes.
# FUZZ_CHUNK_RUNS / FUZZ_CHUNK_SECONDS: restart each harness after this many executions (default
# 500000) or seconds (default 300), keeping the corpus (see run_one).
# Exit 1 if any harness crashed (the reproducer paths are printed).
# --no-build: use the harnesses already in build/fuzz.
# Usage: scripts/fuzz-campaign.sh [--brief] [--merge] [--runs N] [--no-build] [SECONDS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/.."
merge=0
nobuild=0
seconds=600
runs=-1
while [ $# -gt 0 ]; do
  case $1 in
    --merge) merge=1; shift ;;
    --brief) seconds=20; shift ;;
    --runs) runs=$2; seconds=0; shift 2 ;;
    --no-build) nobuild=1; shift ;;
    [0-9]*) seconds=$1; shift ;;
    *) break ;;
  esac
done
jobs=${JOBS:-1}

if [ $nobuild = 0 ]; then
  if [ ! -f build/fuzz/build.ninja ]; then cmake --preset fuzz -G Ninja >/dev/null; fi
  cmake --build --preset fuzz -j"${BUILD_JOBS:-$(nproc)}" >/dev/null
fi

if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for f in build/fuzz/tests/fuzz/fuzz_*; do
    [ -x "$f" ] && harnesses+=("$(basename "$f" | sed 's/^fuzz_//')")
  done
fi

out=build/fuzz/campaign
mkdir -p "$out"
run_one() {
  local h=$1 seconds=$2 out=$3 runs=$4
  local dir=$out/$h
  mkdir -p "$dir/corpus"
  : >"$dir/log"
  # The run is cut into chunks of FUZZ_CHUNK_RUNS executions (or FUZZ_CHUNK_SECONDS), each a
  # fresh process on the same corpus: one long-lived harness process slows down several times
  # over in tens of minutes (fuzz_job_yaml after ~20 min: ~1,400/s, 24% of it in ASan's
  # allocation-stack depot, which only grows), while a fresh one on the same corpus runs at full
  # speed from its first second (docs/fuzzing.md, third run).
  local chunk_runs=${FUZZ_CHUNK_RUNS:-500000} chunk_secs=${FUZZ_CHUNK_SECONDS:-300}
  local total=0 start now n left done_all=1
  start=$(date +%s)
  while :; do
    if [ "$runs" -gt 0 ]; then
      left=$((runs - total)); n=$((left < chunk_runs ? left : chunk_runs))
      set -- -runs="$n" -max_total_time=0
    else
      now=$(date +%s); left=$((seconds - (now - start)))
      [ "$left" -ge 1 ] || break
      n=$((left < chunk_secs ? left : chunk_secs))
      set -- -runs=-1 -max_total_time="$n"
    fi
    # -rss_limit_mb/-malloc_limit_mb: a parser that allocates without bound is a finding, not a
    # slow run; -timeout: one input taking over 60 s is a hang (wall clock: under nice -n 19 on a
    # loaded shared host a 10 s limit reported a 0.1 s input as a hang).
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "build/fuzz/tests/fuzz/fuzz_$h" "$@" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -timeout="${FUZZ_TIMEOUT:-60}" -print_final_stats=1 -artifact_prefix="$dir/" \
      "$dir/corpus" "tests/fuzz/corpus/$h" >"$dir/chunk.log" 2>&1 || true
    cat "$dir/chunk.log" >>"$dir/log"
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/chunk.log" | tail -1)
    total=$((total + ${n:-0}))
    # A chunk that did not end with "Done" crashed, hung or ran out of memory: stop there, the
    # reproducer is in $dir.
    grep -q '^Done ' "$dir/chunk.log" || { done_all=0; break; }
    if [ "$runs" -gt 0 ]; then [ "$total" -lt "$runs" ] || break; fi
    [ "${n:-0}" -gt 0 ] || break
  done
  rm -f "$dir/chunk.log"
  # The whole run's figures, last in the log, where the summary below reads them.
  now=$(date +%s)
  echo "stat::number_of_executed_units: $total" >>"$dir/log"
  echo "stat::average_exec_per_sec: $((total / (now - start > 0 ? now - start : 1)))" >>"$dir/log"
  if [ $done_all = 1 ]; then echo "Done $total runs in $((now - start)) second(s)" >>"$dir/log"; fi
}
export -f run_one
printf '%s\n' "${harnesses[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$out" "$runs"

crashed=0
printf '%-18s %12s %8s %10s %8s %8s\n' harness execs seconds exec/s corpus crashes
for h in "${harnesses[@]}"; do
  log=$out/$h/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  ncorp=$(find "$out/$h/corpus" -type f | wc -l)
  crashes=$(find "$out/$h" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
    -o -name 'leak-*' \) | wc -l)
  printf '%-18s %12s %8s %10s %8s %8s\n' "$h" "${execs:-?}" "${secs:-?}" "${rate:-?}" "$ncorp" \
    "$crashes"
  if [ "$crashes" -gt 0 ] || ! grep -q '^Done ' "$log"; then
    crashed=1
    find "$out/$h" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
      -o -name 'leak-*' \) -printf '  reproducer: %p\n'
    grep -m3 -E 'ERROR|runtime error|terminate called|deadly signal' "$log" | sed 's/^/  /' || true
  fi
  if [ $merge = 1 ]; then
    "build/fuzz/tests/fuzz/fuzz_$h" -merge=1 "tests/fuzz/corpus/$h" "$out/$h/corpus" \
      >"$out/$h/merge.log" 2>&1 || true
  fi
done
exit $crashed
