#!/bin/bash
# usage: tests/bench/rss_timeline.sh OUT.tsv CMD...
# Runs CMD, sampling every 0.5 s into OUT.tsv: seconds since start, the summed resident memory
# (MiB) of CMD and its children, and the cores they kept busy since the sample before (CPU
# time, user + system, per wall time). CMD's output and exit status go to OUT.log. Where a
# peak happens, and which phase leaves a core idle, matter as much as the totals
# /usr/bin/time -v gives. The sampling itself starts no process (bash builtins only): each
# process it started would preempt one of CMD's threads while the others wait at a barrier,
# and lower the busy cores it reads (a version that ran awk and pgrep read 1.62 where
# /usr/bin/time alone gave 1.76-1.80).
set -u
out=$1
shift
log=${out%.tsv}.log
"$@" >"$log" 2>&1 &
pid=$!
ticks_per_second=$(getconf CLK_TCK)
exec {pause}<> <(:) # a pipe nothing writes to: `read -t` on it sleeps without a process
micros() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
start=$(micros)
last_ticks=0 last_time=$start
: >"$out"
while kill -0 "$pid" 2>/dev/null; do
    kb_total=0 ticks=0
    pids=("$pid")
    for children in /proc/"$pid"/task/*/children; do
        more=()
        read -r -a more <"$children" 2>/dev/null || true # the list has no newline: read fails but fills `more`
        pids+=("${more[@]}")
    done
    for p in "${pids[@]}"; do
        while read -r key value _; do
            [ "$key" = "VmRSS:" ] && kb_total=$((kb_total + value))
        done <"/proc/$p/status" 2>/dev/null
        if read -r stat <"/proc/$p/stat" 2>/dev/null; then
            fields=(${stat##*) }) # after the command name; utime and stime are fields 14 and 15 of the line
            ticks=$((ticks + fields[11] + fields[12]))
        fi
    done
    now=$(micros)
    elapsed=$((now - last_time))
    busy=0
    [ "$elapsed" -gt 0 ] && busy=$(((ticks - last_ticks) * 100000000 / ticks_per_second / elapsed))
    printf '%d.%d %d %d.%02d\n' $(((now - start) / 1000000)) $(((now - start) / 100000 % 10)) $((kb_total / 1024)) \
        $((busy / 100)) $((busy % 100)) >>"$out"
    last_ticks=$ticks last_time=$now
    read -r -t 0.5 -u "$pause" _ || true
done
wait "$pid"
echo "exit status $?" >>"$log"
