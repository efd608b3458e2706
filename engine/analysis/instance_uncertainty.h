#pragma once
#include "engine/analysis/uncertainty.h"
#include "engine/explain/instances.h"

#include <vector>

namespace segxai {

// One structure's uncertainty (docs/methods.md#per-structure-uncertainty). A member "finds" the
// structure when one of its own connected components of the structure's class (26-connected)
// overlaps it; that member's volume of the structure is the volume of those components, and a
// member that does not find it has volume 0.
struct InstanceUncertainty {
    double meanEntropy = 0.0;           // over the structure's voxels, nats
    double meanMutualInformation = 0.0; // over the structure's voxels, nats
    double memberShare = 0.0;           // share of members that find it
    double volumeCv = 0.0;              // standard deviation / mean of the members' volumes
    std::vector<double> memberVolumesMm3;
};

// Per instance of `instances` (found on maps.labels), in the same order.
std::vector<InstanceUncertainty> instanceUncertainty(const InstanceSet& instances, const UncertaintyMaps& maps);

} // namespace segxai
