#!/usr/bin/env bash
# Install what is missing, build (Release), and run every test (GUI and render tests under
# Xvfb). Exits non-zero on any failure; the last line is a summary.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cmake/setup.sh"
segxai_install_packages || { echo "0 passed, 1 failed (package installation)"; exit 1; }
segxai_build || { echo "0 passed, 1 failed (build)"; exit 1; }

cd "$SEGXAI_BUILD"
log="$SEGXAI_BUILD/ctest.log"
xvfb-run -a -s "-screen 0 1920x1080x24" \
    ctest --output-on-failure --timeout 900 -j 2 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -cE "Test +#[0-9]+: .* Passed" "$log")
failed=$(grep -cE "Test +#[0-9]+: .*(\*\*\*|Failed|Not Run|Timeout)" "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
