#!/usr/bin/env bash
# The test suite under sanitizers, each in a build folder of its own (docs/reliability.md#sanitizers):
#   asan: every test (GUI ones under Xvfb) under AddressSanitizer + UndefinedBehaviorSanitizer
#         (build-asan; LeakSanitizer off: LibTorch, ITK and Mesa keep allocations to exit)
#   tsan: the engine's job queue, the batch prefetcher and the soak test (two engine
#         workers) under ThreadSanitizer (build-tsan; LibTorch on one thread)
# Usage: tests/sanitize/run_sanitizers.sh [asan|tsan|all]   (default all)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
which=${1:-all}
source "$root/cmake/setup.sh"
segxai_install_packages || exit 1
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
status=0

configure() { # folder sanitizers
    cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGXAI_SANITIZE="$2" \
        -DSEGXAI_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
}

if [ "$which" = asan ] || [ "$which" = all ]; then
    start=$(date +%s)
    build="$root/build-asan"
    configure "$build" "address,undefined" && cmake --build "$build" || exit 1
    built=$(date +%s)
    export ASAN_OPTIONS=detect_leaks=0:detect_container_overflow=0:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # The memory-growth checks are compiled out under ASan: its quarantine keeps freed memory
    # resident by design (they run in the normal suite).
    (cd "$build" && xvfb-run -a -s "-screen 0 1920x1080x24" ctest -j 2 --timeout 1800 --output-on-failure) \
        > "$build/ctest.log" 2>&1 || status=1
    end=$(date +%s)
    echo "asan+ubsan: $(grep -cE "Test +#[0-9]+: .* Passed" "$build/ctest.log") passed," \
         "$(grep -cE "Test +#[0-9]+: .*(\*\*\*|Failed)" "$build/ctest.log") failed;" \
         "build $((built - start)) s, tests $((end - built)) s (log: $build/ctest.log)"
fi

if [ "$which" = tsan ] || [ "$which" = all ]; then
    start=$(date +%s)
    build="$root/build-tsan"
    configure "$build" "thread" && cmake --build "$build" --target engine_tests model_tests || exit 1
    built=$(date +%s)
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    # LibTorch's OpenMP workers synchronise through an uninstrumented libgomp, which TSan
    # cannot see (every tensor handed to them would be reported): one LibTorch thread.
    export SEGXAI_THREADS=1
    log="$build/tsan.log"
    { "$build/tests/engine_tests" "[jobs],[batch]" && "$build/tests/model_tests" "[soak]"; } > "$log" 2>&1 || status=1
    end=$(date +%s)
    echo "tsan: $(grep -cE "^WARNING: ThreadSanitizer" "$log") reports; $(grep -E "^(All tests passed|test cases:)" "$log" | tr '\n' ' ')" \
         "build $((built - start)) s, tests $((end - built)) s (log: $log)"
fi
exit $status
