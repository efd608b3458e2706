#pragma once
#include "engine/io/study.h"
#include "engine/model/segmentation.h"

#include <cstdint>
#include <glm/glm.hpp>
#include <string>
#include <vector>

namespace segxai {

// One seeded small rigid motion of a study, a test-time augmentation mapped back by its exact
// inverse. In millimetres along the grid's own voxel axes, about the grid's centre c: the moved
// study's voxel x holds the study at T(x) = c + R (x - c) + t, with R the rotations about the
// voxel axes x, then y, then z (docs/methods.md#spatial-augmentation).
struct SpatialJitter {
    glm::dvec3 rotationDegrees{0.0}; // about the voxel axes i, j, k
    glm::dvec3 shiftVoxels{0.0};     // t, in voxels (whole voxels when drawn)
    std::string name() const;        // "rotation 2.1, -1.3, 0.4 deg, shift 1, 0, -2 voxels"
};

// `passes` motions drawn from `seed`: each angle uniform in [-maxDegrees, maxDegrees], each
// shift a whole number of voxels in [-maxShiftVoxels, maxShiftVoxels]. Throws segxai::Error
// for a negative count, an angle outside [0, 30] degrees or a shift outside [0, 16] voxels.
std::vector<SpatialJitter> spatialJitters(int passes, double maxDegrees, int maxShiftVoxels, uint64_t seed);

// The continuous voxel index of `grid` that voxel `index` of the moved study reads, T(index),
// and the inverse, T^-1(index): movedFrom(movedTo(x)) == x up to rounding.
glm::dvec3 movedFrom(const SpatialJitter& jitter, const Geometry& grid, const glm::dvec3& index);
glm::dvec3 movedTo(const SpatialJitter& jitter, const Geometry& grid, const glm::dvec3& index);

// The study's channels moved (geometry, names and paths kept; no ground truth): each voxel the
// trilinear value at T(x), the nearest edge voxel's where T(x) leaves the grid.
Study movedStudy(const Study& study, const SpatialJitter& jitter);

// A segmentation of the moved study read back onto the study: each class's probability at
// T^-1(y), trilinear (so a voxel's probabilities still sum to what they summed to), clamped to
// the grid's edge; the label the most probable class there (the first of equals). A shift by
// whole voxels without rotation maps back exactly, voxel for voxel.
Segmentation movedBack(const Segmentation& moved, const SpatialJitter& jitter);

} // namespace segxai
