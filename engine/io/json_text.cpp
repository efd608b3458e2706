#include "engine/io/json_text.h"

#include "engine/core/error.h"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace segxai {
namespace {

bool isFlat(const nlohmann::json& array) {
    for (const auto& item : array) {
        if (item.is_structured()) return false;
    }
    return true;
}

void write(const nlohmann::json& value, int indent, int depth, std::string& out) {
    const std::string pad(size_t(indent * (depth + 1)), ' ');
    const std::string closePad(size_t(indent * depth), ' ');
    if (value.is_object() && !value.empty()) {
        out += "{\n";
        size_t n = 0;
        for (auto it = value.begin(); it != value.end(); ++it, ++n) {
            out += pad + nlohmann::json(it.key()).dump() + ": ";
            write(it.value(), indent, depth + 1, out);
            out += n + 1 < value.size() ? ",\n" : "\n";
        }
        out += closePad + "}";
    } else if (value.is_array() && !value.empty() && !isFlat(value)) {
        out += "[\n";
        for (size_t n = 0; n < value.size(); ++n) {
            out += pad;
            write(value[n], indent, depth + 1, out);
            out += n + 1 < value.size() ? ",\n" : "\n";
        }
        out += closePad + "]";
    } else if (value.is_array()) {
        out += "[";
        for (size_t n = 0; n < value.size(); ++n)
            out += (n ? ", " : "") + value[n].dump();
        out += "]";
    } else {
        out += value.dump();
    }
}

} // namespace

std::string readableJson(const nlohmann::json& value, int indent) {
    std::string out;
    write(value, indent, 0, out);
    return out + "\n";
}

nlohmann::json readJsonFile(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot open the {}", path, what));
    std::stringstream text;
    text << in.rdbuf();
    return parseJsonText(text.str(), path);
}

nlohmann::json parseJsonText(const std::string& text, const std::string& origin) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(fmt::format("{}: not valid JSON (byte {})", origin, e.byte));
    } catch (const nlohmann::json::exception& e) {
        // A number too large for any type: the library's message names it.
        std::string what = e.what();
        if (const auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
        throw Error(fmt::format("{}: not valid JSON ({})", origin, what));
    }
}

} // namespace segxai
