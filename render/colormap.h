#pragma once
#include <array>
#include <glm/glm.hpp>
#include <string>
#include <vector>

namespace segxai::render {

// Distinct colours for label values 0..count-1 (0 is transparent), in ITK-SNAP's order for
// the first labels: red, green, blue, yellow, cyan, magenta, ...
std::vector<glm::u8vec4> labelPalette(int count);

// Colour maps for scalar overlays. BlueWhiteRed is diverging: signed maps use it centred at
// zero, with separate ranges for the negative and positive sides.
enum class Colormap { Grey, Hot, Inferno, Viridis, Jet, BlueWhiteRed };
constexpr int kColormapCount = 6;
constexpr int kColormapSize = 256;

const char* colormapName(Colormap map);
// kColormapSize RGBA entries from the low to the high end.
std::vector<glm::u8vec4> colormapTable(Colormap map);
// The colour at t in [0, 1] (for colour bars drawn on the CPU side and tests).
glm::vec3 colormapColor(Colormap map, float t);

} // namespace segxai::render
