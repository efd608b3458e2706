#pragma once
#include <cstdint>
#include <glm/glm.hpp>
#include <vector>

namespace segxai::render {

// The outward normal of each labelled voxel's shell, from the central differences of "same
// label as this voxel" over its six neighbours (outside the grid counts as another label),
// encoded as RGB = normal * 0.5 + 0.5, A = 255 where the voxel lies on a boundary. Background
// voxels get (128, 128, 128, 0). The 3D view reads one texel per step instead of six labels.
std::vector<glm::u8vec4> shellNormals(const glm::ivec3& dims, const uint16_t* labels);

} // namespace segxai::render
