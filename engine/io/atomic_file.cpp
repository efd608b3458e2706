#include "engine/io/atomic_file.h"

#include "engine/core/error.h"

#include <atomic>
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

void writeAtomically(const std::string& path, const std::string& extension,
                     const std::vector<std::string>& protectedPaths,
                     const std::function<void(const std::string&)>& write) {
    for (const auto& input : protectedPaths) {
        if (samePath(path, input)) {
            throw Error(fmt::format("{}: refusing to overwrite an input file; choose another "
                                    "output name",
                                    path));
        }
    }
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw Error(fmt::format("{}: folder {} does not exist", path, folder.string()));
    }
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
