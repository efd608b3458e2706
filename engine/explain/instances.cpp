#include "engine/explain/instances.h"

#include <algorithm>
#include <limits>

namespace segxai {

InstanceSet findInstances(const Segmentation& s, int connectivity, int64_t minimumSize) {
    InstanceSet set;
    const Geometry& g = s.labels.geometry;
    set.components.assign(g.voxelCount(), 0);
    const double voxelMm3 = g.spacing.x * g.spacing.y * g.spacing.z;
    int32_t nextId = 1;
    for (size_t c = 1; c < s.classNames.size(); ++c) {
        const Components components = connectedComponents(g, labelMask(s.labels, uint16_t(c)), connectivity);
        const size_t first = set.instances.size();
        std::vector<int32_t> idOf(size_t(components.count()) + 1, 0);
        for (int32_t k = 1; k <= components.count(); ++k) {
            if (components.sizes[size_t(k)] < minimumSize) continue;
            Instance instance;
            instance.id = nextId++;
            instance.classIndex = int(c);
            instance.voxels = components.sizes[size_t(k)];
            instance.volumeMm3 = double(instance.voxels) * voxelMm3;
            idOf[size_t(k)] = instance.id;
            set.instances.push_back(instance);
        }
        // Sums per instance in one pass over the grid.
        for (int64_t k = 0; k < g.dims[2]; ++k)
            for (int64_t j = 0; j < g.dims[1]; ++j)
                for (int64_t i = 0; i < g.dims[0]; ++i) {
                    const size_t n = g.linearIndex(i, j, k);
                    const int32_t id = idOf[size_t(components.labels[n])];
                    if (id == 0) continue;
                    set.components[n] = id;
                    Instance& instance = set.instances[first + size_t(id - set.instances[first].id)];
                    const float p = s.probabilities.at(c, n);
                    instance.meanProbability += p;
                    instance.maxProbability = std::max(instance.maxProbability, double(p));
                    instance.centroid += glm::dvec3(double(i), double(j), double(k));
                }
        for (size_t n = first; n < set.instances.size(); ++n) {
            Instance& instance = set.instances[n];
            instance.meanProbability /= double(instance.voxels);
            instance.centroid /= double(instance.voxels);
        }
    }
    // The voxel of each instance closest to its centroid.
    std::vector<double> best(set.instances.size() + 1, std::numeric_limits<double>::infinity());
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const int32_t id = set.components[g.linearIndex(i, j, k)];
                if (id == 0) continue;
                Instance& instance = set.instances[size_t(id - 1)];
                const glm::dvec3 d = glm::dvec3(double(i), double(j), double(k)) - instance.centroid;
                const double distance = glm::dot(d, d);
                if (distance < best[size_t(id)]) {
                    best[size_t(id)] = distance;
                    instance.representative = {i, j, k};
                }
            }
    // Within a class, largest first (ids stay as they are: they label the grid).
    std::stable_sort(set.instances.begin(), set.instances.end(), [](const Instance& a, const Instance& b) {
        return a.classIndex != b.classIndex ? a.classIndex < b.classIndex : a.voxels > b.voxels;
    });
    set.positionById.assign(set.instances.size() + 1, -1);
    for (size_t n = 0; n < set.instances.size(); ++n)
        set.positionById[size_t(set.instances[n].id)] = int32_t(n);
    return set;
}

} // namespace segxai
