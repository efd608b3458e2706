#pragma once
#include "engine/analysis/connected_components.h"
#include "engine/model/segmentation.h"

#include <cstdint>
#include <vector>

namespace segxai {

// One connected structure of a segmentation.
struct Instance {
    int32_t id = 0; // component label in InstanceSet::components
    int classIndex = 0;
    int64_t voxels = 0;
    double volumeMm3 = 0.0;
    double meanProbability = 0.0; // of its class, over its voxels
    double maxProbability = 0.0;
    glm::dvec3 centroid{0.0};             // voxel index (continuous)
    Index3 representative{0, 0, 0};       // its voxel closest to the centroid (targets and jumps)
    Index3 first{0, 0, 0}, last{0, 0, 0}; // its bounding box, voxel indices (inclusive)
};

struct InstanceSet {
    std::vector<Instance> instances; // ordered by class, then size (largest first)
    std::vector<int32_t> components; // study grid: instance id per voxel, 0 outside
    // By id: the instance's position in `instances`, -1 for id 0. The viewer looks structures
    // up by id every frame, and a poor model's segmentation of a CT has millions of them.
    std::vector<int32_t> positionById;

    // The position in `instances` of the instance with this id; -1 for none.
    int positionOf(int32_t id) const {
        return id > 0 && size_t(id) < positionById.size() ? positionById[size_t(id)] : -1;
    }
};

// The connected components of every foreground class of a segmentation (connectivity 6, 18
// or 26; components with fewer than `minimumSize` voxels left out).
InstanceSet findInstances(const Segmentation& segmentation, int connectivity = 26, int64_t minimumSize = 1);

} // namespace segxai
