#!/bin/bash
# The peer comparison in one run: the Python peers and SegXAI on the same model, input and
# thread count (every core of this machine: SegXAI uses them all, so the peers get as many).
#   tests/bench/peers/compare.sh BUILD_DIR PEERS_DIR OUT_DIR [repeats] [size] [rounds]
# BUILD_DIR holds tests/bench_peers; PEERS_DIR is what extract_peers.sh wrote. The peers run
# as a Python user runs them (glibc's default allocator) once, then, `rounds` times (default
# 3), with the allocator settings SegXAI sets for itself (freed blocks kept for reuse,
# docs/performance.md#allocator, given through GLIBC_TUNABLES), each followed at once by
# SegXAI's side. This machine's speed drifts by 10-20 % over minutes, so ratios are formed
# within a round only and summarise_rounds.py prints their median. The SmoothGrad accuracy
# curves (the slow part) run in the first round only. Writes OUT_DIR/{peers_default_allocator.json,
# peers_same_allocator_rN.json, segxai_rN.json, compare.log}.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD_DIR PEERS_DIR OUT_DIR [repeats] [size] [rounds]" >&2
    exit 2
fi
build=$1 peers=$2 out=$3 repeats=${4:-5} size=${5:-64} rounds=${6:-3}
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
mkdir -p "$out"
rm -f "$out"/segxai_r*.json "$out"/peers_same_allocator_r*.json
{
    echo "# $(date -u +%FT%TZ), $threads threads, size $size, $repeats repeats, $rounds rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/python3 "$here/make_bench_model.py" --out "$out" --size "$size" --classes 2 --channels 1 \
        --monai "$peers/monai"
    peer_bench() {
        /usr/bin/python3 "$here/peer_bench.py" --model "$out" --threads "$threads" --repeats "$repeats" \
            --captum "$peers/captum" --gradcam "$peers/gradcam" --monai "$peers/monai" "$@"
    }
    echo "## the peers with glibc's default allocator"
    peer_bench --json "$out/peers_default_allocator.json"
    for round in $(seq 1 "$rounds"); do
        what=floor,saliency,smoothgrad,ig,gradcam curve=--no-curve
        if [ "$round" = 1 ]; then what=$what,smoothgrad-curve curve=; fi
        echo "## round $round: the peers with SegXAI's allocator settings ($(date -u +%T))"
        GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=2147483648:glibc.malloc.trim_threshold=2147483648 \
            peer_bench --what "$what" --json "$out/peers_same_allocator_r$round.json"
        echo "## round $round: SegXAI ($(date -u +%T))"
        "$build/tests/bench_peers" "$out" "$out/peers_default_allocator.json" "$out/peers_same_allocator_r$round.json" \
            --repeats "$repeats" $curve --json "$out/segxai_r$round.json"
    done
    /usr/bin/python3 "$here/summarise_rounds.py" "$out"
} 2>&1 | tee "$out/compare.log"
