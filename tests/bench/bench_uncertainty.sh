#!/usr/bin/env bash
# The cost of uncertainty against plain predictions, in one run (docs/performance.md#uncertainty),
# on the lesion demo study (1 mm, T1 + FLAIR, 181 x 217 x 181):
# - flips: `segxai uncertainty --tta flips` (8 passes) against 8 x one `segxai segment` of the
#   TorchScript lesion model;
# - ensemble: the nnU-Net demo's 3 folds as members against 3 x one fold segmented alone;
# - explanation stability: Seg-Grad-CAM of one lesion by each of 3 members against 3 x one
#   `segxai explain` with one fold (the members' predictions timed separately and taken off).
# Each command's own "in X s" figure is used (model loading and file writing left out); the
# flips and their plain segmentation, each under a second, are run 3 times alternately and
# their medians compared (one run of each swings by a third on a shared machine).
# Usage: tests/bench/bench_uncertainty.sh [build/app/segxai]
set -euo pipefail
segxai=$(realpath "${1:-build/app/segxai}")
assets=$(realpath "$(dirname "$0")/../../assets/models")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$segxai" demo-data "$dir/data" --task lesions > /dev/null
s=(--study "$dir/data/lesions/t1.nii.gz" --study "$dir/data/lesions/flair.nii.gz")
nnunet="$assets/lesions_nnunet/Dataset950_SegXAILesions"
seconds() { grep -o "$1 [0-9.]* s" | head -1 | grep -o "[0-9.]*" | head -1; }

median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ones=() flipsRuns=()
for round in 1 2 3; do
    ones+=("$("$segxai" segment "${s[@]}" --model "$assets/lesions" --out "$dir/l.nii.gz" 2>&1 | seconds "segmented in")")
    rm -rf "$dir/u1"
    flipsRuns+=("$("$segxai" uncertainty "${s[@]}" --model "$assets/lesions" --tta flips --out "$dir/u1" 2>&1 |
        seconds "predictions in")")
done
one=$(median "${ones[@]}")
flips=$(median "${flipsRuns[@]}")
echo "segment: ${ones[*]} s; 8 flips: ${flipsRuns[*]} s"
fold=$("$segxai" segment "${s[@]}" --model "$nnunet" --folds 0 --out "$dir/f.nii.gz" 2>&1 | seconds "segmented in")
folds=$("$segxai" uncertainty "${s[@]}" --model "$nnunet" --out "$dir/u2" 2>&1 | seconds "predictions in")
voxel=$(awk -F, 'NR == 2 { print $6 "," $7 "," $8 }' "$dir/u2/instances.csv")
explain=$("$segxai" explain "${s[@]}" --model "$nnunet" --folds 0 --method seg-grad-cam --layer encoder.stages.2 \
    --target "instance:$voxel" --out "$dir/e.nii.gz" --report "$dir/e.json" > /dev/null 2>&1; \
    python3 -c "import json; print(json.load(open('$dir/e.json'))['timing_s']['method'])")
stable_start=$(date +%s.%N)
"$segxai" uncertainty "${s[@]}" --model "$nnunet" --method seg-grad-cam --layer encoder.stages.2 \
    --target "instance:$voxel" --out "$dir/u3" > "$dir/u3.log" 2>&1
stable_total=$(python3 -c "print($(date +%s.%N) - $stable_start)")
python3 - "$one" "$flips" "$fold" "$folds" "$explain" "$stable_total" "$dir/u3/summary.json" <<'PY'
import json, sys
one, flips, fold, folds, explain, stable_total = map(float, sys.argv[1:7])
summary = json.load(open(sys.argv[7]))
# The stability run's explanations: its wall time less its predictions (its own "seconds"
# covers predictions and explanations; the predictions cost what the folds run cost).
explanations = summary["seconds"] - folds
print(f"flips: 8 passes {flips:.1f} s, one segmentation {one:.2f} s, ratio {flips / (8 * one):.2f} (target <= 1.1)")
print(f"ensemble: 3 folds {folds:.1f} s, one fold {fold:.1f} s, ratio {folds / (3 * fold):.2f} (target <= 1.1)")
print(f"stability: 3 explanations {explanations:.1f} s, one explanation {explain:.1f} s, "
      f"ratio {explanations / (3 * explain):.2f} (target <= 1.15)")
PY
