#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace segxai::fuzz {

// The entry points the libFuzzer harnesses drive, one per parser the project owns and one for
// loading a study file. Each feeds the bytes to the parser and swallows the errors a user is
// meant to see (segxai::Error, CLI11's parse errors); anything else escaping, a crash, a hang
// or a sanitizer report is a bug. The regular test suite runs every input kept in
// tests/fuzz/corpus/<name>/ and tests/fuzz/regressions/<name>/ through them.
using Entry = void (*)(const uint8_t* data, size_t size);
struct Target {
    const char* name;
    Entry run;
};
const std::vector<Target>& targets();

void modelCard(const uint8_t* data, size_t size);
void session(const uint8_t* data, size_t size);
void manifest(const uint8_t* data, size_t size);
void specGrammars(const uint8_t* data, size_t size); // target specs, shards, baselines, rules, methods
void batchConfig(const uint8_t* data, size_t size);
void commandLine(const uint8_t* data, size_t size); // arguments separated by NUL bytes
void studyFile(const uint8_t* data, size_t size);   // first byte: the format; the rest: the file

} // namespace segxai::fuzz
