#include "engine/batch/batch_folder.h"

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_text.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace segxai {
namespace {

std::string fileLine(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto time = fs::last_write_time(path, ec).time_since_epoch().count();
    return fmt::format("{}|{}|{}\n", path.string(), ec ? 0 : size, time);
}

std::string hostName() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0) return "host";
    std::string host(name);
    std::replace(host.begin(), host.end(), '/', '_');
    return host;
}

} // namespace

void checkStudyId(const std::string& id) {
    if (id.empty()) throw Error("a study id is empty");
    if (id.size() > 200) throw Error("study id '" + id.substr(0, 40) + "...' is longer than 200 characters");
    if (id.front() == '.' || id.find_first_of("/\\") != std::string::npos || id.find('\0') != std::string::npos) {
        throw Error("study id '" + id + "' cannot be a folder name (no '/', '\\' or leading '.')");
    }
}

std::string textHash(const std::string& text) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return fmt::format("{:016x}", h);
}

std::string filesIdentity(const std::vector<std::string>& paths) {
    std::string text;
    for (const auto& p : paths) {
        std::error_code ec;
        const fs::path path = fs::weakly_canonical(p, ec);
        if (fs::is_directory(path, ec)) {
            std::vector<std::string> lines;
            for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                if (it->is_regular_file(ec)) lines.push_back(fileLine(it->path()));
            }
            std::sort(lines.begin(), lines.end());
            for (const auto& l : lines)
                text += l;
        } else {
            text += fileLine(path);
        }
    }
    return textHash(text);
}

std::optional<nlohmann::json> studyCompletion(const std::string& dir, const std::string& id) {
    std::ifstream in(fs::path(dir) / id / "done.json");
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    try {
        return nlohmann::json::parse(text.str());
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool studyComplete(const std::string& dir, const std::string& id, const std::string& configHash,
                   const std::string& inputsHash) {
    const auto done = studyCompletion(dir, id);
    return done && done->value("config_hash", "") == configHash && done->value("inputs_hash", "") == inputsHash;
}

StudyOutputFolder::StudyOutputFolder(const std::string& dir, const std::string& id) : m_dir(dir), m_id(id) {
    checkStudyId(id);
    const fs::path partials = fs::path(dir) / ".partial";
    std::error_code ec;
    fs::create_directories(partials, ec);
    if (ec) throw Error(fmt::format("{}: cannot create the folder ({})", partials.string(), ec.message()));
    for (const auto& entry : fs::directory_iterator(partials, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(id + ".", 0) == 0) fs::remove_all(entry.path(), ec);
    }
    m_partial = (partials / fmt::format("{}.{}.{}", id, hostName(), getpid())).string();
    fs::create_directories(m_partial, ec);
    if (ec) throw Error(fmt::format("{}: cannot create the folder ({})", m_partial, ec.message()));
}

StudyOutputFolder::~StudyOutputFolder() {
    if (m_committed) return;
    std::error_code ec;
    fs::remove_all(m_partial, ec);
}

void StudyOutputFolder::commit(const nlohmann::json& completion) {
    writeFileAtomically((fs::path(m_partial) / "done.json").string(), readableJson(completion) + "\n");
    const fs::path final = fs::path(m_dir) / m_id;
    std::error_code ec;
    if (fs::exists(final, ec)) {
        // A directory cannot be renamed onto a non-empty one: move the old result aside first.
        const fs::path old = fs::path(m_partial + ".old");
        fs::rename(final, old, ec);
        if (ec) throw Error(fmt::format("{}: cannot replace the earlier result ({})", final.string(), ec.message()));
        fs::remove_all(old, ec);
    }
    fs::rename(m_partial, final, ec);
    if (ec)
        throw Error(fmt::format("{}: cannot move the finished study into place ({})", final.string(), ec.message()));
    m_committed = true;
}

void recordStudyFailure(const std::string& dir, const std::string& id, const std::string& error) {
    const fs::path folder = fs::path(dir) / "failures";
    std::error_code ec;
    fs::create_directories(folder, ec);
    writeFileAtomically((folder / (id + ".txt")).string(), error + "\n");
}

void clearStudyFailure(const std::string& dir, const std::string& id) {
    std::error_code ec;
    fs::remove(fs::path(dir) / "failures" / (id + ".txt"), ec);
}

std::optional<std::string> studyFailure(const std::string& dir, const std::string& id) {
    std::ifstream in(fs::path(dir) / "failures" / (id + ".txt"));
    if (!in) return std::nullopt;
    std::string line;
    std::getline(in, line);
    return line;
}

} // namespace segxai
