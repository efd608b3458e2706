#include "engine/io/metaimage_header.h"

#include "engine/core/error.h"

#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace segxai {
namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Whole numbers separated by spaces; false when anything else is there.
bool wholeNumbers(const std::string& text, std::vector<long long>& out) {
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
        size_t used = 0;
        long long value = 0;
        try {
            value = std::stoll(word, &used);
        } catch (const std::exception&) {
            return false;
        }
        if (used != word.size()) return false;
        out.push_back(value);
    }
    return true;
}

} // namespace

void checkMetaImageHeader(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return; // the reader says the file cannot be opened
    auto damaged = [&](const std::string& why) {
        throw Error(fmt::format("{}: damaged MetaImage header: {}", path, why));
    };
    std::set<std::string> keys;
    long long dims = -1;
    std::vector<long long> sizes;
    std::string line;
    size_t bytes = 0;
    for (int number = 1; std::getline(in, line); ++number) {
        bytes += line.size() + 1;
        if (bytes > (1 << 20)) damaged("no ElementDataFile line in its first MiB");
        if (trimmed(line).empty()) continue;
        const size_t equals = line.find('=');
        if (equals == std::string::npos)
            damaged(fmt::format("line {} is not 'Key = Value' (and no ElementDataFile came before it)", number));
        const std::string key = trimmed(line.substr(0, equals)), value = trimmed(line.substr(equals + 1));
        if (key.empty()) damaged(fmt::format("line {} has no key", number));
        if (!keys.insert(key).second) damaged(fmt::format("'{}' is given twice (line {})", key, number));
        if (key == "NDims") {
            std::vector<long long> n;
            if (!wholeNumbers(value, n) || n.size() != 1 || n[0] < 1 || n[0] > 4)
                damaged("NDims must be 1 to 4, not '" + value + "'");
            dims = n[0];
        } else if (key == "DimSize") {
            if (!wholeNumbers(value, sizes) || sizes.empty())
                damaged("DimSize must be whole numbers, not '" + value + "'");
            for (long long s : sizes)
                if (s < 1) damaged("every DimSize must be at least 1, not '" + value + "'");
        } else if (key == "ElementNumberOfChannels") {
            std::vector<long long> n;
            if (!wholeNumbers(value, n) || n.size() != 1 || n[0] < 1)
                damaged("ElementNumberOfChannels must be 1 or more");
        } else if (key == "ElementDataFile") {
            if (dims < 1) damaged("NDims is missing before ElementDataFile");
            if (sizes.size() != size_t(dims))
                damaged(fmt::format("DimSize has {} numbers for NDims {}", sizes.size(), dims));
            return;
        }
    }
    damaged("no ElementDataFile line");
}

} // namespace segxai
