#pragma once
#include "engine/core/mirror.h"
#include "engine/core/volume.h"
#include "engine/model/class_probabilities.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// The ensemble's uncertainty, voxel by voxel, on the study's grid. With p_m the class
// probabilities of member m (of M) and p = mean over m of p_m (docs/methods.md#uncertainty):
struct UncertaintyMaps {
    std::vector<std::string> classNames;
    LabelVolume labels;                    // argmax of p (the first of equals)
    Volume entropy;                        // predictive entropy H(p) = -sum_c p_c ln p_c, in nats
    Volume expectedEntropy;                // mean over m of H(p_m)
    Volume mutualInformation;              // H(p) - mean H(p_m), >= 0 (float rounding clamped at 0)
    Volume disagreement;                   // share of members whose label differs from `labels`
    std::vector<size_t> stdClasses;        // the classes whose standard deviation was asked for
    std::vector<Volume> classStd;          // per stdClasses[i]: sqrt(mean p_m,c^2 - p_c^2) over members
    ClassProbabilities probabilities;      // p, kept as a segmentation's are
    std::vector<LabelVolume> memberLabels; // each member's own labels (mirrored back)
    std::vector<std::string> memberNames;
};

// Adds members one at a time, so that one member's probabilities are held at a time, besides
// the sums: classes x voxels in float32 for the mean, two maps per class asked for its standard
// deviation, one for the entropies, and each member's labels (2 bytes per voxel).
class UncertaintyAccumulator {
public:
    // Throws segxai::Error, with both figures, when the sums would not fit the available memory.
    UncertaintyAccumulator(const Geometry& grid, std::vector<std::string> classNames, std::vector<size_t> stdClasses);

    // Bytes the sums need for `members` members (the check the constructor makes, for one).
    static uint64_t bytesNeeded(const Geometry& grid, size_t classes, size_t stdClasses, size_t members);

    // One member's probabilities and labels on the grid. A class left out at a voxel
    // (ClassProbabilities keeps 4 of many) counts 0 there, and the entropy counts the mass left
    // out as one more outcome (a lower bound of the member's entropy).
    void add(const ClassProbabilities& probabilities, const LabelVolume& labels, const std::string& name);

    size_t members() const { return m_memberNames.size(); }
    // The maps of the members added so far (at least one). The members' labels move into the
    // maps (not copied: K label maps would be held twice), so this is called once.
    UncertaintyMaps finish();

private:
    Geometry m_grid;
    std::vector<std::string> m_classNames;
    std::vector<size_t> m_stdClasses;
    std::vector<float> m_sum;        // [class][voxel]
    std::vector<float> m_first;      // [std class][voxel]: the first member's probability
    std::vector<float> m_sumSquares; // [std class][voxel]: squared deviations from m_first
    std::vector<float> m_sumEntropy; // [voxel]
    std::vector<LabelVolume> m_memberLabels;
    std::vector<std::string> m_memberNames;
};

} // namespace segxai
