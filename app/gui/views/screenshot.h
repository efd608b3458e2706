#pragma once
#include "render/image_capture.h"

#include <string>
#include <vector>

namespace segxai::app {

// Writes a PNG atomically; never over one of `inputs`. Throws segxai::Error.
void savePng(const render::RgbaImage& image, const std::string& path, const std::vector<std::string>& inputs);

// "shot.png" + "axial" -> "shot_axial.png".
std::string suffixedPath(const std::string& path, const std::string& suffix);

} // namespace segxai::app
