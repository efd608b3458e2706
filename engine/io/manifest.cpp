#include "engine/io/manifest.h"

#include "engine/core/error.h"
#include "engine/io/csv.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace segxai {
namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string resolved(const std::string& path, const std::string& folder) {
    if (path.empty() || folder.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(folder) / path).lexically_normal().string();
}

} // namespace

Manifest parseManifest(const std::string& text, const std::string& origin, const std::string& folder) {
    Manifest m;
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> header;
    int idColumn = -1, truthColumn = -1;
    std::vector<int> channelColumns;
    std::set<std::string> ids;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string where = fmt::format("{}:{}", origin, number);
        if (trimmed(line).empty() || trimmed(line)[0] == '#') continue;
        const auto f = splitCsvLine(line, where);
        if (header.empty()) {
            header = f;
            for (size_t c = 0; c < header.size(); ++c) {
                const std::string name = header[c];
                if (name == "id") {
                    idColumn = int(c);
                } else if (name == "gt" || name == "ground_truth") {
                    truthColumn = int(c);
                } else if (!name.empty()) {
                    channelColumns.push_back(int(c));
                    m.channelNames.push_back(name);
                }
            }
            if (idColumn != 0) throw Error(where + ": the manifest's header must start with an \"id\" column");
            if (channelColumns.empty())
                throw Error(where + ": the manifest names no channel column (e.g. id,t1,flair,gt)");
            continue;
        }
        if (f.size() != header.size()) {
            throw Error(fmt::format("{}: {} fields where the header has {}", where, f.size(), header.size()));
        }
        ManifestEntry e;
        e.id = f[size_t(idColumn)];
        if (e.id.empty()) throw Error(where + ": an empty study id");
        if (!ids.insert(e.id).second) throw Error(where + ": study id '" + e.id + "' appears twice");
        for (int c : channelColumns) {
            if (f[size_t(c)].empty())
                throw Error(fmt::format("{}: study '{}' has no {} file", where, e.id, header[size_t(c)]));
            e.request.channelPaths.push_back(resolved(f[size_t(c)], folder));
        }
        if (truthColumn >= 0 && !f[size_t(truthColumn)].empty())
            e.request.groundTruthPath = resolved(f[size_t(truthColumn)], folder);
        m.studies.push_back(std::move(e));
    }
    if (header.empty()) throw Error(origin + ": the manifest is empty (it needs a header such as id,t1,flair,gt)");
    return m;
}

Manifest readManifest(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open the manifest");
    std::stringstream text;
    text << in.rdbuf();
    return parseManifest(text.str(), path, fs::path(path).parent_path().string());
}

} // namespace segxai
