#pragma once
#include <array>
#include <glm/glm.hpp>
#include <vector>

namespace segxai::render {

// Distinct colours for label values 0..count-1 (0 is transparent), in ITK-SNAP's order for
// the first labels: red, green, blue, yellow, cyan, magenta, ...
std::vector<glm::u8vec4> labelPalette(int count);

} // namespace segxai::render
