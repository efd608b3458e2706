#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) in build-fuzz and runs each for a
# bounded time from its seed corpus (tests/fuzz/corpus/<name>). New coverage goes to
# build-fuzz/fuzz-corpus/<name>; a crash, leak, timeout or sanitizer report is saved in
# build-fuzz/fuzz-crashes/<name>/ and makes the script fail. Fix it, then keep the input in
# tests/fuzz/regressions/<name>/ so the test suite runs it from then on.
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS_PER_HARNESS (60)] [HARNESS...]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-60}
shift || true
build=${SEGXAI_FUZZ_BUILD:-$root/build-fuzz}
source "$root/cmake/setup.sh"
segxai_install_packages || exit 1
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    apt-get install -y -q clang libfuzzer-14-dev >/dev/null || { echo "cannot install clang and libFuzzer"; exit 1; }
fi
declare -A corpus=([modelCard]=model_card [session]=session [manifest]=manifest [specGrammars]=spec_grammars
                   [batchConfig]=batch_config [commandLine]=command_line [studyFile]=study_file)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(modelCard session manifest specGrammars batchConfig commandLine studyFile)
# clang 14 cannot compile LibTorch 1.13's headers as C++20 and Debian's ITK headers accept gcc
# only: the harnesses link the regular (gcc) build's LibTorch and ITK objects; everything
# they fuzz is compiled with clang, instrumented.
if [ -f "$SEGXAI_BUILD/CMakeCache.txt" ]; then
    cmake --build "$SEGXAI_BUILD" --target engine || exit 1
else
    segxai_build || exit 1
fi
objects=$(find "$SEGXAI_BUILD/engine/CMakeFiles/engine_torch.dir" "$SEGXAI_BUILD/engine/CMakeFiles/engine_itk.dir" -name '*.o' | sort | paste -sd ';')
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGXAI_FUZZ=ON \
    -DSEGXAI_BUILD_BENCHMARKS=OFF -DSEGXAI_PREBUILT_OBJECTS="$objects" "${launcher[@]}" >/dev/null || exit 1
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" --target "${targets[@]}" || exit 1

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
# Study files claiming huge sizes are refused by the memory check rather than read for
# seconds (that check is part of what is fuzzed).
export SEGXAI_MEMORY_LIMIT_MB=${SEGXAI_MEMORY_LIMIT_MB:-1024}
export UBSAN_OPTIONS=print_stacktrace=1
failed=0
for h in "${harnesses[@]}"; do
    name=${corpus[$h]}
    work="$build/fuzz-corpus/$name" crashes="$build/fuzz-crashes/$name"
    mkdir -p "$work" "$crashes"
    "$build/tests/fuzz_$h" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$root/tests/fuzz/corpus/$name" \
        > "$build/fuzz-$name.log" 2>&1
    status=$?
    runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$build/fuzz-$name.log" | grep -oE "[0-9]+$")
    found=$(find "$crashes" -type f | wc -l)
    echo "$name: ${runs:-0} inputs in ${seconds} s, exit $status, $found crash file(s)"
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
        failed=1
        grep -E "ERROR|SUMMARY|terminate|what\(\)" "$build/fuzz-$name.log" | head -5
    fi
done
exit $failed
