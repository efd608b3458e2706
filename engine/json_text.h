#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace segxai {

// JSON for people and for diffs: objects one key per line, arrays of numbers or strings on
// one line ("dims": [181, 217, 181]). Parses back to the same value.
std::string readableJson(const nlohmann::json& value, int indent = 2);

// A JSON file parsed. Throws segxai::Error "<path>: cannot open the <what>" or
// "<path>: not valid JSON (...)".
nlohmann::json readJsonFile(const std::string& path, const std::string& what);

} // namespace segxai
