#!/bin/bash
# The peer comparison in one run: the Python peers, then SegXAI, on the same model, input and
# thread count (every core of this machine: SegXAI uses them all, so the peers get as many).
#   tests/bench/peers/compare.sh BUILD_DIR PEERS_DIR OUT_DIR [repeats] [size]
# BUILD_DIR holds tests/bench_peers; PEERS_DIR is what extract_peers.sh wrote. Writes
# OUT_DIR/{peers.json,segxai.json,compare.log}.
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
    /usr/bin/python3 "$here/peer_bench.py" --model "$out" --threads "$threads" --repeats "$repeats" \
        --captum "$peers/captum" --gradcam "$peers/gradcam" --monai "$peers/monai" --json "$out/peers.json"
    "$build/tests/bench_peers" "$out" "$out/peers.json" "$repeats" --json "$out/segxai.json"
} 2>&1 | tee "$out/compare.log"
