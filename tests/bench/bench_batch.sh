#!/usr/bin/env bash
# Cohort throughput (docs/performance.md#cohort-throughput): N held-out lesion demo studies (1 mm, T1 + FLAIR,
# 181 x 217 x 181) through `segxai batch` with segmentation, Seg-Grad-CAM and SmoothGrad
# (20 samples) of the lesion class, with and without prefetching the next study.
# Usage: tests/bench/bench_batch.sh [N] [build/app/segxai]
set -euo pipefail
n=${1:-8}
segxai=$(realpath "${2:-build/app/segxai}")
model=$(realpath "$(dirname "$0")/../../assets/models/lesions")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "id,t1,flair,gt" > "$dir/studies.csv"
for i in $(seq 1 "$n"); do
    seed=$((2000000 + i))
    "$segxai" demo-data "$dir/data" --task lesions --cases 1 --first-seed "$seed" > /dev/null
    c="data/lesions/case_$seed"
    echo "case$i,$c/t1.nii.gz,$c/flair.nii.gz,$c/gt.nii.gz" >> "$dir/studies.csv"
done
cat > "$dir/batch.json" <<'JSON'
{"explanations": [{"method": "seg-grad-cam", "targets": ["every-class"]},
                  {"method": "smoothgrad", "targets": ["every-class"], "parameters": {"samples": 20}}]}
JSON
for prefetch in 1 0; do
    out="$dir/out$prefetch"
    start=$(date +%s.%N)
    "$segxai" batch --manifest "$dir/studies.csv" --model "$model" --config "$dir/batch.json" --out "$out" \
        --prefetch "$prefetch" 2> "$dir/log$prefetch" || { cat "$dir/log$prefetch"; exit 1; }
    end=$(date +%s.%N)
    python3 - "$out" "$n" "$start" "$end" "$prefetch" <<'PY'
import json, sys, os
out, n, start, end, prefetch = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
done = [json.load(open(os.path.join(out, d, "done.json"))) for d in sorted(os.listdir(out)) if os.path.exists(os.path.join(out, d, "done.json"))]
stages = {}
for d in done:
    for k, v in d["stage_seconds"].items(): stages[k] = stages.get(k, 0) + v / len(done)
rss = [d["resident_bytes"] / 2**20 for d in done]
wall = end - start
print(f"prefetch {prefetch}: {n} studies in {wall:.1f} s = {n * 3600 / wall:.0f} studies/h on this machine; "
      f"per study " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stages.items())) +
      f"; resident {rss[0]:.0f} MiB after the first, {rss[-1]:.0f} MiB after the last")
PY
done
