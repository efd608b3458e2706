#!/bin/bash
# usage: tests/bench/bench_scale_viewer.sh BUILD DIR
# The scale case in the viewer, as a user would: drop the study and the model, let it segment,
# explain the liver with Seg-Grad-CAM and saliency in two panels, pick a structure and explain
# it, then print the frame times. DIR holds `segxai demo-data DIR --task scale`'s output.
# Prints the viewer's log and /usr/bin/time's wall time and peak resident memory.
set -eu
build=$1
dir=$2
script=$(mktemp --suffix=.segxai-script)
trap 'rm -f "$script"' EXIT
cat >"$script" <<SCRIPT
drop $dir/scale/ct.nii.gz $dir/scale/model
compare seg-grad-cam saliency
explain class:liver
frame-times
pick 300,256,150
explain-instance
frame-times
quit
SCRIPT
xvfb-run -a -s "-screen 0 1600x1000x24" /usr/bin/time -f "wall %e s, CPU %U+%S s, peak %M kB" \
    "$build/app/segxai" --size 1600x1000 --script "$script"
