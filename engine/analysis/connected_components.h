#pragma once
#include "engine/core/volume.h"

#include <cstdint>
#include <vector>

namespace segxai {

// Connected components of a binary mask (non-zero voxels), in voxel-index neighbourhoods:
// 6 (faces), 18 (faces and edges) or 26 (faces, edges and corners).
struct Components {
    Geometry geometry;
    std::vector<int32_t> labels; // 0: outside the mask; 1..count: component, in scan order
    std::vector<int64_t> sizes;  // voxels per component; sizes[0] unused
    int32_t count() const { return int32_t(sizes.size()) - 1; }
};

// Throws segxai::Error for a connectivity other than 6, 18 or 26.
Components connectedComponents(const Geometry& geometry, const std::vector<uint8_t>& mask, int connectivity = 26);

// Connected components of every non-zero label at once: neighbours join when they hold the
// same label (one pass over the grid, whatever the number of classes).
Components connectedRegions(const LabelVolume& labels, int connectivity = 26);

// Mask of voxels holding `label`.
std::vector<uint8_t> labelMask(const LabelVolume& labels, uint16_t label);

} // namespace segxai
