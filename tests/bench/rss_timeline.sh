#!/bin/bash
# usage: tests/bench/rss_timeline.sh OUT.tsv CMD...
# Runs CMD, sampling every 0.5 s into OUT.tsv: seconds since start, the summed resident memory
# (MiB) of CMD and its children, and the cores they kept busy since the sample before (CPU
# time, user + system, per wall time). CMD's output and exit status go to OUT.log. Where a
# peak happens, and which phase leaves a core idle, matter as much as the totals
# /usr/bin/time -v gives.
set -u
out=$1
shift
log=${out%.tsv}.log
"$@" >"$log" 2>&1 &
pid=$!
start=$(date +%s.%N)
ticks_per_second=$(getconf CLK_TCK)
last_ticks=0 last_time=$start
: >"$out"
while kill -0 "$pid" 2>/dev/null; do
    total=0 ticks=0
    for p in $pid $(pgrep -P "$pid"); do
        kb=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null)
        total=$((total + ${kb:-0}))
        # utime and stime: fields 14 and 15 of /proc/PID/stat (the command name, field 2, has no spaces here)
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)
        ticks=$((ticks + ${t:-0}))
    done
    now=$(date +%s.%N)
    awk -v now="$now" -v start="$start" -v last="$last_time" -v mib=$((total / 1024)) -v ticks="$ticks" \
        -v before="$last_ticks" -v hz="$ticks_per_second" \
        'BEGIN { busy = now > last ? (ticks - before) / hz / (now - last) : 0; printf "%.1f %d %.2f\n", now - start, mib, busy }' >>"$out"
    last_ticks=$ticks last_time=$now
    sleep 0.5
done
wait "$pid"
echo "exit status $?" >>"$log"
