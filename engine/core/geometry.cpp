#include "engine/core/geometry.h"

#include "engine/core/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <glm/gtc/matrix_inverse.hpp>

namespace segxai {

bool WorldBox::intersects(const WorldBox& other) const {
    for (int a = 0; a < 3; ++a) {
        if (max[a] < other.min[a] || other.max[a] < min[a]) return false;
    }
    return true;
}

glm::dvec3 Geometry::voxelToWorld(const glm::dvec3& continuousIndex) const {
    return origin + direction * (spacing * continuousIndex);
}

glm::dvec3 Geometry::worldToVoxel(const glm::dvec3& world) const {
    return (glm::inverse(direction) * (world - origin)) / spacing;
}

glm::dmat4 Geometry::voxelToWorldMatrix() const {
    glm::dmat4 m(1.0);
    for (int a = 0; a < 3; ++a)
        m[a] = glm::dvec4(direction[a] * spacing[a], 0.0);
    m[3] = glm::dvec4(origin, 1.0);
    return m;
}

glm::dmat4 Geometry::worldToVoxelMatrix() const {
    return glm::inverse(voxelToWorldMatrix());
}

WorldBox Geometry::worldBounds() const {
    WorldBox box{glm::dvec3(INFINITY), glm::dvec3(-INFINITY)};
    for (int corner = 0; corner < 8; ++corner) {
        glm::dvec3 index;
        for (int a = 0; a < 3; ++a)
            index[a] = (corner >> a & 1) ? double(dims[a]) - 0.5 : -0.5;
        const glm::dvec3 w = voxelToWorld(index);
        box.min = glm::min(box.min, w);
        box.max = glm::max(box.max, w);
    }
    return box;
}

bool Geometry::sameGrid(const Geometry& other, double tolerance) const {
    if (dims != other.dims) return false;
    const double scale = std::min({spacing.x, spacing.y, spacing.z});
    for (int a = 0; a < 3; ++a) {
        if (std::abs(spacing[a] - other.spacing[a]) > tolerance * scale) return false;
        if (std::abs(origin[a] - other.origin[a]) > tolerance * scale) return false;
        for (int b = 0; b < 3; ++b) {
            if (std::abs(direction[a][b] - other.direction[a][b]) > tolerance) return false;
        }
    }
    return true;
}

void Geometry::validate(const std::string& what) const {
    for (int a = 0; a < 3; ++a) {
        if (dims[a] <= 0) {
            throw Error(fmt::format("{}: size {}x{}x{} has an empty axis", what, dims[0], dims[1], dims[2]));
        }
        if (!(spacing[a] > 0.0) || !std::isfinite(spacing[a])) {
            throw Error(fmt::format("{}: voxel spacing {} x {} x {} mm is not positive", what, spacing.x, spacing.y,
                                    spacing.z));
        }
        if (!std::isfinite(origin[a])) throw Error(what + ": origin is not finite");
    }
    const double det = glm::determinant(direction);
    if (!std::isfinite(det) || std::abs(det) < 1e-6) {
        throw Error(what + ": direction matrix is degenerate (axes are parallel or zero)");
    }
}

std::string Geometry::describe() const {
    return fmt::format("{}x{}x{}, {:g}x{:g}x{:g} mm", dims[0], dims[1], dims[2], spacing.x, spacing.y, spacing.z);
}

} // namespace segxai
