// Every input the fuzzers keep (their seed corpora and the inputs that once crashed them) runs
// through the same entry points in the regular build: a fixed crash stays fixed.
#include "tests/fuzz/fuzz_targets.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

TEST_CASE("the fuzzers' corpora and regressions run cleanly through the parsers", "[fuzz]") {
    size_t inputs = 0;
    for (const auto& target : segxai::fuzz::targets()) {
        for (const char* kind : {"corpus", "regressions"}) {
            const fs::path folder = fs::path(SEGXAI_FUZZ_DIR) / kind / target.name;
            if (!fs::is_directory(folder)) continue;
            for (const auto& entry : fs::directory_iterator(folder)) {
                std::ifstream in(entry.path(), std::ios::binary);
                const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                INFO(target.name << ": " << entry.path().string());
                CHECK_NOTHROW(target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
                ++inputs;
            }
        }
    }
    CHECK(inputs >= 7 * 3); // at least three seeds per harness
}
