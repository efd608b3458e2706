#include "app/gui/views/screenshot.h"

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

#include <filesystem>

namespace segxai::app {

void savePng(const render::RgbaImage& image, const std::string& path, const std::vector<std::string>& inputs) {
    const std::vector<uint8_t> bytes = render::encodePng(image);
    if (bytes.empty()) throw Error(path + ": PNG encoding failed");
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()), inputs);
}

std::string suffixedPath(const std::string& path, const std::string& suffix) {
    std::filesystem::path p(path);
    const std::string ext = p.has_extension() ? p.extension().string() : ".png";
    return (p.parent_path() / (p.stem().string() + "_" + suffix + ext)).string();
}

} // namespace segxai::app
