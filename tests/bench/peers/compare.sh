#!/bin/bash
# The peer comparison in one run: the Python peers, then SegXAI, on the same model, input and
# thread count (every core of this machine: SegXAI uses them all, so the peers get as many).
#   tests/bench/peers/compare.sh BUILD_DIR PEERS_DIR OUT_DIR [repeats] [size]
# BUILD_DIR holds tests/bench_peers; PEERS_DIR is what extract_peers.sh wrote. The peers run
# twice: as a Python user runs them (glibc's default allocator) and with the allocator settings
# SegXAI sets for itself (freed blocks kept for reuse, docs/performance.md#allocator), given
# through GLIBC_TUNABLES. Writes OUT_DIR/{peers_default_allocator.json,
# peers_same_allocator.json, segxai.json, compare.log}.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD_DIR PEERS_DIR OUT_DIR [repeats] [size]" >&2
    exit 2
fi
build=$1 peers=$2 out=$3 repeats=${4:-5} size=${5:-64}
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
mkdir -p "$out"
{
    echo "# $(date -u +%FT%TZ), $threads threads, size $size, $repeats repeats, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/python3 "$here/make_bench_model.py" --out "$out" --size "$size" --classes 2 --channels 1 \
        --monai "$peers/monai"
    peer_bench() {
        /usr/bin/python3 "$here/peer_bench.py" --model "$out" --threads "$threads" --repeats "$repeats" \
            --captum "$peers/captum" --gradcam "$peers/gradcam" --monai "$peers/monai" --json "$1"
    }
    echo "## the peers with glibc's default allocator"
    peer_bench "$out/peers_default_allocator.json"
    echo "## the peers with SegXAI's allocator settings"
    GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=2147483648:glibc.malloc.trim_threshold=2147483648 \
        peer_bench "$out/peers_same_allocator.json"
    echo "## SegXAI"
    "$build/tests/bench_peers" "$out" "$out/peers_default_allocator.json" "$out/peers_same_allocator.json" \
        --repeats "$repeats" --json "$out/segxai.json"
} 2>&1 | tee "$out/compare.log"
