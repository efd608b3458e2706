#!/bin/bash
# usage: tests/bench/rss_timeline.sh OUT.tsv CMD...
# Runs CMD, sampling the summed resident memory (MiB) of it and its children every 0.5 s into
# OUT.tsv (seconds since start, MiB); CMD's output and exit status go to OUT.log. Where a peak
# happens matters as much as its height: /usr/bin/time -v gives only the height.
set -u
out=$1
shift
log=${out%.tsv}.log
"$@" >"$log" 2>&1 &
pid=$!
start=$(date +%s.%N)
: >"$out"
while kill -0 "$pid" 2>/dev/null; do
    total=0
    for p in $pid $(pgrep -P "$pid"); do
        kb=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null)
        total=$((total + ${kb:-0}))
    done
    awk -v now="$(date +%s.%N)" -v start="$start" -v mib=$((total / 1024)) 'BEGIN { printf "%.1f %d\n", now - start, mib }' >>"$out"
    sleep 0.5
done
wait "$pid"
echo "exit status $?" >>"$log"
