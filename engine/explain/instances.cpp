#include "engine/explain/instances.h"

#include <algorithm>
#include <limits>

namespace segxai {

InstanceSet findInstances(const Segmentation& s, int connectivity, int64_t minimumSize) {
    InstanceSet set;
    const Geometry& g = s.labels.geometry;
    const double voxelMm3 = g.spacing.x * g.spacing.y * g.spacing.z;
    // Every class's components in one pass; they become instances class by class, each class's
    // in the scan order of their first voxel, as if each class were labelled on its own.
    Components regions = connectedRegions(s.labels, connectivity);
    std::vector<uint16_t> classOf(regions.sizes.size(), 0);
    for (size_t n = 0; n < regions.labels.size(); ++n) {
        const int32_t r = regions.labels[n];
        if (r && !classOf[size_t(r)]) classOf[size_t(r)] = s.labels.labels[n];
    }
    std::vector<std::vector<int32_t>> regionsOfClass(s.classNames.size());
    for (int32_t r = 1; r <= regions.count(); ++r) {
        if (regions.sizes[size_t(r)] >= minimumSize && classOf[size_t(r)] < s.classNames.size())
            regionsOfClass[classOf[size_t(r)]].push_back(r);
    }
    std::vector<int32_t> idOf(regions.sizes.size(), 0);
    for (size_t c = 1; c < regionsOfClass.size(); ++c) {
        for (const int32_t r : regionsOfClass[c]) {
            Instance instance;
            instance.id = int32_t(set.instances.size()) + 1;
            instance.classIndex = int(c);
            instance.voxels = regions.sizes[size_t(r)];
            instance.volumeMm3 = double(instance.voxels) * voxelMm3;
            instance.first = {g.dims[0], g.dims[1], g.dims[2]};
            instance.last = {-1, -1, -1};
            idOf[size_t(r)] = instance.id;
            set.instances.push_back(instance);
        }
    }
    // The grid relabelled with instance ids, and the sums per instance, in one pass.
    set.components = std::move(regions.labels);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                const size_t n = g.linearIndex(i, j, k);
                const int32_t id = idOf[size_t(set.components[n])];
                set.components[n] = id;
                if (id == 0) continue;
                Instance& instance = set.instances[size_t(id - 1)];
                const float p = s.probabilities.at(size_t(instance.classIndex), n);
                instance.meanProbability += p;
                instance.maxProbability = std::max(instance.maxProbability, double(p));
                instance.centroid += glm::dvec3(double(i), double(j), double(k));
                const Index3 v{i, j, k};
                for (size_t a = 0; a < 3; ++a) {
                    instance.first[a] = std::min(instance.first[a], v[a]);
                    instance.last[a] = std::max(instance.last[a], v[a]);
                }
            }
    for (Instance& instance : set.instances) {
        instance.meanProbability /= double(instance.voxels);
        instance.centroid /= double(instance.voxels);
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
