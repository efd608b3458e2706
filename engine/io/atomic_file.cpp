#include "engine/io/atomic_file.h"

#include "engine/core/error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace segxai {

bool samePath(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

namespace {

// Why this process cannot create files in `folder` ("" when it can): by creating and removing
// a probe file, since permissions alone do not tell (root, read-only file systems).
std::string whyNotWritable(const fs::path& folder) {
    static std::atomic<unsigned> counter{0};
    const fs::path probe = folder / fmt::format(".segxai-probe-{}-{}", getpid(), counter++);
    const int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0) return std::strerror(errno);
    ::close(fd);
    ::unlink(probe.c_str());
    return "";
}

} // namespace

void checkOutputFile(const std::string& path, const std::vector<std::string>& protectedPaths) {
    for (const auto& input : protectedPaths) {
        if (samePath(path, input)) {
            throw Error(fmt::format("{}: refusing to overwrite an input file; choose another "
                                    "output name",
                                    path));
        }
    }
    const fs::path target(path);
    std::error_code ec;
    if (path.empty()) throw Error("an output file name is empty");
    if (fs::is_directory(target, ec))
        throw Error(fmt::format("{}: is a folder; give a file name for the output", path));
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, ec)) {
        throw Error(fmt::format("{}: folder {} does not exist", path, folder.string()));
    }
    if (const std::string why = whyNotWritable(folder); !why.empty()) {
        throw Error(fmt::format("{}: cannot write into {}: {}", path, folder.string(), why));
    }
}

void checkOutputFolder(const std::string& folder) {
    std::error_code ec;
    fs::path f(folder);
    if (fs::exists(f, ec) && !fs::is_directory(f, ec)) throw Error(fmt::format("{}: is a file, not a folder", folder));
    // The nearest folder that exists must let us create what is missing below it.
    while (!fs::exists(f, ec) && f.has_parent_path() && f.parent_path() != f)
        f = f.parent_path();
    if (!fs::exists(f, ec)) f = ".";
    if (const std::string why = whyNotWritable(f); !why.empty()) {
        throw Error(fmt::format("{}: cannot write into {}: {}", folder, f.string(), why));
    }
}

void prepareOutputFile(const std::string& path, const std::vector<std::string>& protectedPaths) {
    const fs::path target(path);
    if (target.has_parent_path() && !path.empty()) {
        const fs::path folder = target.parent_path();
        checkOutputFolder(folder.string());
        std::error_code ec;
        fs::create_directories(folder, ec);
        if (ec) throw Error(fmt::format("{}: cannot create the folder {}: {}", path, folder.string(), ec.message()));
    }
    checkOutputFile(path, protectedPaths);
}

void writeAtomically(const std::string& path, const std::string& extension,
                     const std::vector<std::string>& protectedPaths,
                     const std::function<void(const std::string&)>& write) {
    checkOutputFile(path, protectedPaths);
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    static std::atomic<unsigned> counter{0};
    std::string stem = target.filename().string();
    if (stem.size() > extension.size()) stem.resize(stem.size() - extension.size());
    const fs::path temporary = folder / fmt::format(".{}.partial-{}-{}{}", stem, getpid(), counter++, extension);
    try {
        write(temporary.string());
        fs::rename(temporary, target);
    } catch (...) {
        fs::remove(temporary, ec);
        throw;
    }
}

void writeFileAtomically(const std::string& path, const std::string& contents,
                         const std::vector<std::string>& protectedPaths) {
    writeAtomically(path, fs::path(path).extension().string(), protectedPaths, [&](const std::string& temporaryPath) {
        std::ofstream out(temporaryPath, std::ios::binary);
        out << contents;
        out.close();
        if (!out) throw Error(path + ": cannot write (disk full or no permission?)");
    });
}

} // namespace segxai
