#!/usr/bin/env bash
# Install what is missing, build (Release), and start SegXAI. Arguments go to segxai.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cmake/setup.sh"
segxai_install_packages
segxai_build
exec "$SEGXAI_BUILD/app/segxai" "$@"
