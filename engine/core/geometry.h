#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <glm/glm.hpp>
#include <string>

namespace segxai {

using Index3 = std::array<int64_t, 3>;

// Axis-aligned box in world coordinates (mm, LPS as ITK).
struct WorldBox {
    glm::dvec3 min{0.0};
    glm::dvec3 max{0.0};
    bool intersects(const WorldBox& other) const;
};

// A regular voxel grid placed in the world as ITK places it:
//   world = origin + direction * (spacing .* index)
// `direction` columns are the world directions of the i, j, k index axes (ITK's direction
// matrix; glm is column-major, so direction[a] is axis a). World is LPS.
struct Geometry {
    Index3 dims{0, 0, 0};
    glm::dvec3 spacing{1.0};
    glm::dvec3 origin{0.0};
    glm::dmat3 direction{1.0};

    size_t voxelCount() const { return size_t(dims[0]) * size_t(dims[1]) * size_t(dims[2]); }
    size_t linearIndex(int64_t i, int64_t j, int64_t k) const {
        return size_t(i) + size_t(dims[0]) * (size_t(j) + size_t(dims[1]) * size_t(k));
    }
    bool contains(int64_t i, int64_t j, int64_t k) const {
        return i >= 0 && j >= 0 && k >= 0 && i < dims[0] && j < dims[1] && k < dims[2];
    }

    glm::dvec3 voxelToWorld(const glm::dvec3& continuousIndex) const;
    glm::dvec3 worldToVoxel(const glm::dvec3& world) const;
    // 4x4 homogeneous forms of the two maps above.
    glm::dmat4 voxelToWorldMatrix() const;
    glm::dmat4 worldToVoxelMatrix() const;

    // Bounding box of the voxel grid in world coordinates, voxel extents included
    // (from index -0.5 to dims - 0.5 on each axis).
    WorldBox worldBounds() const;

    // Same dims and, within `tolerance` (relative to spacing), the same placement.
    bool sameGrid(const Geometry& other, double tolerance = 1e-4) const;

    // Throws segxai::Error when dims, spacing or direction cannot describe a grid.
    void validate(const std::string& what) const;

    // Human readable "181x217x181, 1x1x1 mm".
    std::string describe() const;
};

} // namespace segxai
