#pragma once
#include "engine/io/study.h"
#include "engine/model/segmentation.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// What is being explained, as the user says it (docs/methods.md#targets):
//   class:C            the voxels labelled C (name or index)
//   class:C:P          ... whose probability of C is above P
//   instance:I,J,K     the connected component of its label containing voxel (I, J, K)
//   gt-instance:I,J,K  the ground-truth component containing (I, J, K) (a missed lesion)
//   mask:FILE          the non-zero voxels of a mask file
//   box:I0,J0,K0,I1,J1,K1   the voxels of a box (both corners included)
//   voxel:I,J,K        one voxel
//   channel:C          every voxel of class C's output channel
// Voxel indices refer to the study's (first file's) grid. mask, box and voxel take the class
// of their voxels' segmentation (the most frequent foreground label) unless "@C" follows:
// "box:10,10,10,20,20,20@lesion".
struct TargetSpec {
    enum class Kind { ClassRegion, Instance, GroundTruthInstance, Mask, Box, Voxel, Channel };
    Kind kind = Kind::ClassRegion;
    std::string classText; // name or index; empty: from the region
    std::optional<double> probabilityAbove;
    Index3 voxel{0, 0, 0};
    Index3 boxEnd{0, 0, 0};
    std::string maskPath;
    std::string text; // as given
};

struct InstanceOptions {
    int connectivity = 26;   // 6, 18 or 26
    int64_t minimumSize = 0; // components with fewer voxels do not count
};

// Throws segxai::Error with the grammar above when `text` does not parse.
TargetSpec parseTargetSpec(const std::string& text);
// The spec in the grammar above (what parseTargetSpec reads back to the same spec).
std::string formatTargetSpec(const TargetSpec& spec);
// The spec with its text set from its fields (for specs built in code, not parsed).
TargetSpec withText(TargetSpec spec);

// A target resolved on a study: a class and a mask in the study grid.
struct Target {
    int classIndex = 0;
    std::string className;
    std::vector<uint8_t> mask; // study grid, 1 inside
    size_t voxelCount = 0;
    std::string description; // "lesion instance at (90, 120, 70), 412 voxels"
    std::vector<std::string> warnings;
};

// Throws segxai::Error for a class the model does not have, a voxel outside the study, an
// instance voxel on background, a gt-instance without ground truth, an unreadable mask. An
// empty target is not an error: it gives a warning (and zero maps downstream).
Target resolveTarget(const TargetSpec& spec, const Study& study, const Segmentation& segmentation,
                     const InstanceOptions& instances = {});

// The predicted region of each class in `classes` (empty: every foreground class) that has
// voxels, described by the class name: the targets of the faithfulness metrics.
std::vector<Target> classTargets(const Study& study, const Segmentation& segmentation, std::vector<int> classes);

} // namespace segxai
