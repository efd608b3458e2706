#pragma once
// The scale benchmark's study: a CT-like phantom the size of a body CT (512 x 512 x 400 voxels
// of 0.8 x 0.8 x 1.5 mm, int16 Hounsfield units) with the 104 structures TotalSegmentator's
// first model segments, each a simple solid (ellipsoids, stacked vertebrae, rib arcs) at a
// plausible place and density. Made for measuring time and memory at real scale, not anatomy.
#include "engine/core/volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

struct ScalePhantom {
    Geometry grid;
    std::vector<int16_t> hounsfield; // the grid's voxel order
    LabelVolume labels;              // 0 background, 1..104 the structures
    std::vector<std::string> names;  // 105: "background" and the structures, by label
};

// Deterministic for a seed (the noise); `dims` smaller than the default make a quick phantom of
// the same body (the spacing grows so the field of view stays 410 x 410 x 600 mm).
ScalePhantom makeScalePhantom(uint64_t seed, const Index3& dims = {512, 512, 400});

// TotalSegmentator v1's 104 structure names with "background" first.
std::vector<std::string> scalePhantomNames();

} // namespace segxai
