#include "engine/analysis/instance_uncertainty.h"

#include "engine/analysis/connected_components.h"
#include "engine/core/error.h"

#include <cmath>
#include <map>
#include <set>

namespace segxai {

std::vector<InstanceUncertainty> instanceUncertainty(const InstanceSet& instances, const UncertaintyMaps& maps) {
    const Geometry& grid = maps.labels.geometry;
    if (instances.components.size() != grid.voxelCount())
        throw Error("the structures were not found on the uncertainty maps' grid");
    std::map<int32_t, size_t> indexOf;
    std::set<int> classes;
    for (size_t n = 0; n < instances.instances.size(); ++n) {
        indexOf[instances.instances[n].id] = n;
        classes.insert(instances.instances[n].classIndex);
    }
    std::vector<InstanceUncertainty> out(instances.instances.size());
    std::vector<int64_t> voxels(out.size(), 0);
    for (size_t v = 0; v < instances.components.size(); ++v) {
        const int32_t id = instances.components[v];
        if (id == 0) continue;
        const size_t n = indexOf.at(id);
        out[n].meanEntropy += maps.entropy.voxels[v];
        out[n].meanMutualInformation += maps.mutualInformation.voxels[v];
        ++voxels[n];
    }
    for (size_t n = 0; n < out.size(); ++n) {
        if (voxels[n] == 0) continue;
        out[n].meanEntropy /= double(voxels[n]);
        out[n].meanMutualInformation /= double(voxels[n]);
    }
    const double voxelMm3 = grid.spacing.x * grid.spacing.y * grid.spacing.z;
    for (const LabelVolume& member : maps.memberLabels) {
        std::vector<double> volume(out.size(), 0.0);
        for (int classIndex : classes) {
            const Components own = connectedComponents(grid, labelMask(member, uint16_t(classIndex)), 26);
            std::vector<std::set<int32_t>> overlapping(out.size());
            for (size_t v = 0; v < instances.components.size(); ++v) {
                const int32_t id = instances.components[v], component = own.labels[v];
                if (id == 0 || component == 0) continue;
                const size_t n = indexOf.at(id);
                if (instances.instances[n].classIndex == classIndex) overlapping[n].insert(component);
            }
            for (size_t n = 0; n < out.size(); ++n) {
                for (int32_t component : overlapping[n])
                    volume[n] += double(own.sizes[size_t(component)]) * voxelMm3;
            }
        }
        for (size_t n = 0; n < out.size(); ++n) {
            out[n].memberVolumesMm3.push_back(volume[n]);
            if (volume[n] > 0.0) out[n].memberShare += 1.0;
        }
    }
    for (InstanceUncertainty& u : out) {
        const double members = double(u.memberVolumesMm3.size());
        if (members == 0.0) continue;
        u.memberShare /= members;
        double mean = 0.0, squares = 0.0;
        for (double v : u.memberVolumesMm3)
            mean += v / members;
        for (double v : u.memberVolumesMm3)
            squares += (v - mean) * (v - mean) / members;
        u.volumeCv = mean > 0.0 ? std::sqrt(squares) / mean : 0.0;
    }
    return out;
}

} // namespace segxai
