#include "app/asset_paths.h"

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace segxai::app {

std::string assetFolder() {
    std::error_code ec;
    if (fs::is_directory(SEGXAI_SOURCE_ASSETS, ec)) return SEGXAI_SOURCE_ASSETS;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (const char* relative : {"../share/segxai/assets", "../../assets", "assets"}) {
        const fs::path candidate = exe.parent_path() / relative;
        if (fs::is_directory(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
    }
    return SEGXAI_SOURCE_ASSETS;
}

std::string demoCacheFolder() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/segxai/demo";
    if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/segxai/demo";
    return (fs::temp_directory_path() / "segxai-demo").string();
}

} // namespace segxai::app
