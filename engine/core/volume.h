#pragma once
#include "engine/core/geometry.h"
#include "engine/core/huge_pages.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// A scalar volume in its grid: float32 voxels, i fastest (ITK buffer order).
struct Volume {
    Geometry geometry;
    std::vector<float> voxels;
    std::string name;

    Volume() = default;
    Volume(Geometry g, std::string volumeName)
        : geometry(g), voxels(zeroedVector<float>(g.voxelCount())), name(std::move(volumeName)) {}

    float at(int64_t i, int64_t j, int64_t k) const { return voxels[geometry.linearIndex(i, j, k)]; }
    float& at(int64_t i, int64_t j, int64_t k) { return voxels[geometry.linearIndex(i, j, k)]; }
};

// A label map in its grid: uint16 labels, i fastest.
struct LabelVolume {
    Geometry geometry;
    std::vector<uint16_t> labels;
    std::string name;

    LabelVolume() = default;
    LabelVolume(Geometry g, std::string volumeName)
        : geometry(g), labels(zeroedVector<uint16_t>(g.voxelCount())), name(std::move(volumeName)) {}

    uint16_t at(int64_t i, int64_t j, int64_t k) const { return labels[geometry.linearIndex(i, j, k)]; }
    uint16_t& at(int64_t i, int64_t j, int64_t k) { return labels[geometry.linearIndex(i, j, k)]; }
};

struct ValueRange {
    float min = 0.0f;
    float max = 0.0f;
};

// Minimum and maximum over finite voxels ({0, 0} when there are none).
ValueRange finiteRange(const std::vector<float>& values);

// Robust display range: the given lower and upper percentiles of finite voxels.
ValueRange percentileRange(const std::vector<float>& values, double lowPercent, double highPercent);

} // namespace segxai
