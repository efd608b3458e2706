#!/usr/bin/env bash
# Frame times of the viewer on this machine's OpenGL (docs/performance.md#viewer-frame-times): each line is one
# `segxai --benchmark-frames` run. Usage: tests/bench/bench_frames.sh [build/app/segxai]
set -euo pipefail
segxai=$(realpath "${1:-build/app/segxai}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A study of 241 x 289 x 241 voxels (0.75 mm, 16.8 million voxels: as many as 256^3).
"$segxai" demo-data "$dir" --task anatomy --cases 1 --first-seed 7 --spacing 0.75 > /dev/null
large="$dir/anatomy/case_0000007/t1.nii.gz"
run() { xvfb-run -a -s "-screen 0 1920x1080x24" "$segxai" "$@" --size 1600x900 2> /dev/null; }
run --demo --explain seg-grad-cam --benchmark-frames 200 --layout tri
run --demo --explain seg-grad-cam,seg-hires-grad-cam,saliency,smoothgrad --benchmark-frames 200 --layout compare
run "$large" --benchmark-frames 100 --layout volume
run --demo --explain seg-grad-cam --benchmark-frames 100 --layout volume
run --demo --explain seg-grad-cam --benchmark-frames 200 --layout tri --benchmark-busy
