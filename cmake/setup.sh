#!/usr/bin/env bash
# Shared by run.sh and test.sh: install missing Debian packages, then configure and build.
# Idempotent: packages are installed only when missing; the build is incremental.

SEGXAI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEGXAI_BUILD="${SEGXAI_BUILD:-$SEGXAI_ROOT/build}"

SEGXAI_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config clang-format
    libtorch-dev libinsighttoolkit5-dev
    libimgui-dev libglfw3-dev libglm-dev libepoxy-dev libgl-dev
    libopenblas0-openmp zlib1g-dev catch2 nlohmann-json3-dev libcli11-dev libfmt-dev libstb-dev
    xvfb xauth libgl1-mesa-dri fonts-dejavu-core mricron-data
)

segxai_missing_packages() {
    local missing=()
    for pkg in "${SEGXAI_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    echo "${missing[@]}"
}

segxai_install_packages() {
    local missing
    missing=$(segxai_missing_packages)
    [ -z "$missing" ] && return 0
    echo "segxai: installing Debian packages: $missing"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "segxai: need root (or sudo) to install: $missing" >&2; return 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q || return 1
    # shellcheck disable=SC2086
    $sudo apt-get install -y -q --no-install-recommends $missing || return 1
}

segxai_build() {
    # ccache may reuse objects built with precompiled headers only when told to.
    export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
    local launcher=()
    if command -v ccache >/dev/null; then
        launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    fi
    local generator=()
    if command -v ninja >/dev/null; then generator=(-G Ninja); fi
    if [ ! -f "$SEGXAI_BUILD/CMakeCache.txt" ]; then
        cmake -S "$SEGXAI_ROOT" -B "$SEGXAI_BUILD" "${generator[@]}" \
            -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" ${SEGXAI_CMAKE_ARGS:-} || return 1
    fi
    cmake --build "$SEGXAI_BUILD" -j "$(nproc)" || return 1
}
