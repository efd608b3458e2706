// One libFuzzer harness: SEGXAI_FUZZ_ENTRY names the entry point of tests/fuzz/fuzz_targets.h.
#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    segxai::fuzz::SEGXAI_FUZZ_ENTRY(data, size);
    return 0;
}
