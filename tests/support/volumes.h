#pragma once
#include "engine/core/volume.h"
#include "engine/io/study.h"

#include <functional>

namespace segxai::test {

// A volume whose voxel (i, j, k) holds value(i, j, k).
Volume makeVolume(const Geometry& geometry, const std::function<float(int64_t, int64_t, int64_t)>& value,
                  const std::string& name = "test");

// A study of two smooth channels, "a" (a sine) and "b" (a cosine) of the voxel's index, on an
// axis-aligned 1 mm grid: the input of the model tests' tiny U-Net.
Study twoChannelStudy(Index3 dims);

// A rotation by `degrees` about a (normalised) axis: an oblique direction matrix.
glm::dmat3 rotation(const glm::dvec3& axis, double degrees);

// An oblique, anisotropic geometry used across tests.
Geometry obliqueGeometry(Index3 dims = {12, 10, 8});

} // namespace segxai::test
