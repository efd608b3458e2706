#include "engine/io/csv.h"

#include "engine/core/error.h"

namespace segxai {
namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

} // namespace

std::vector<std::string> splitCsvLine(const std::string& line, const std::string& where) {
    std::vector<std::string> out;
    std::string current;
    bool quoted = false;
    for (size_t n = 0; n < line.size(); ++n) {
        const char c = line[n];
        if (quoted) {
            if (c == '"' && n + 1 < line.size() && line[n + 1] == '"') {
                current += '"';
                ++n;
            } else if (c == '"') {
                quoted = false;
            } else {
                current += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(trimmed(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (quoted) throw Error(where + ": an unclosed quote");
    out.push_back(trimmed(current));
    return out;
}

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

} // namespace segxai
