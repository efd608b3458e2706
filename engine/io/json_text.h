#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace segxai {

// JSON for people and for diffs: objects one key per line, arrays of numbers or strings on
// one line ("dims": [181, 217, 181]). Parses back to the same value.
std::string readableJson(const nlohmann::json& value, int indent = 2);

// JSON text parsed. Throws segxai::Error "<origin>: not valid JSON (...)" for text that does
// not parse or numbers out of range (never the JSON library's own exceptions).
nlohmann::json parseJsonText(const std::string& text, const std::string& origin);

// A JSON file parsed. Throws segxai::Error "<path>: cannot open the <what>" or
// "<path>: not valid JSON (...)".
nlohmann::json readJsonFile(const std::string& path, const std::string& what);

} // namespace segxai
