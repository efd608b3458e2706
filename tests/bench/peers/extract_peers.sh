#!/usr/bin/env bash
# Unpacks the pinned peer versions (pure Python, nothing is built) from bare git mirrors
# into OUT/{captum,gradcam,monai}, each with a COMMIT file that peer_bench.py reports.
# Only the package directory is extracted: the mirrors lack their largest files (slides,
# notebooks), which makes a whole-tree `git archive` fail.
# Usage: tests/bench/peers/extract_peers.sh [MIRRORS=/work/.mirror] [OUT=/tmp/peers]
set -euo pipefail
mirrors=${1:-/work/.mirror}
out=${2:-/tmp/peers}

# name  mirror                      ref                                        package dir
peers=(
    "captum  pytorch+captum             fc17d5070c5447593749ce28f9602c7ae58d54ac captum"           # v0.8.0
    "gradcam jacobgil+pytorch-grad-cam  781dbc0d16ffa95b6d18b96b7b829840a82d93d1 pytorch_grad_cam" # setup.py 1.5.5 (no tags)
    "monai   Project-MONAI+MONAI        46a5272196a6c2590ca2589029eed8e4d56ff008 monai"            # 1.4.0
)
for line in "${peers[@]}"; do
    read -r name mirror ref pkg <<< "$line"
    git_dir="$mirrors/$mirror/repo"
    commit=$(git --git-dir="$git_dir" rev-parse --verify "$ref^{commit}")
    rm -rf "${out:?}/$name"
    mkdir -p "$out/$name"
    git --git-dir="$git_dir" archive "$commit" "$pkg" | tar -x -C "$out/$name"
    echo "$commit" > "$out/$name/COMMIT"
    echo "$name: $commit -> $out/$name"
done
