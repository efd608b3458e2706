#pragma once
#include "engine/core/volume.h"
#include "engine/model/segmentation.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// Lesion-level analysis (docs/methods.md#instance-level-analyses): the connected
// components of a class's thresholded probability, matched against a ground truth.
struct LesionOptions {
    int classIndex = 1;
    double threshold = 0.5;  // probability above which a voxel is lesion
    int connectivity = 18;   // as the MS study
    int64_t minimumSize = 6; // the MS study dropped components of 5 voxels or fewer
};

// TP: a predicted component that overlaps the ground truth; FP: one that does not; FN: a
// ground-truth component (of at least the minimum size) that no predicted component touches.
enum class LesionGroup { TruePositive, FalsePositive, FalseNegative, Unmatched /* no ground truth */ };
const char* lesionGroupName(LesionGroup group); // "TP", "FP", "FN", "-"

struct Lesion {
    int id = 0; // 1..: predicted lesions, largest first, then missed ones, largest first
    LesionGroup group = LesionGroup::Unmatched;
    int64_t voxels = 0;
    double volumeMm3 = 0.0;
    double meanProbability = 0.0; // of the class over its voxels (a missed lesion: its GT voxels)
    double maxProbability = 0.0;
    glm::dvec3 centroid{0.0};       // voxel index (continuous)
    Index3 representative{0, 0, 0}; // its voxel nearest the centroid
    // TP 0; FP: mm from its nearest voxel to the nearest ground-truth voxel; FN: to the nearest
    // predicted lesion voxel; no ground truth (or nothing to measure to): empty.
    std::optional<double> distanceMm;
};

struct LesionSet {
    Geometry grid;
    LesionOptions options;
    std::vector<Lesion> lesions; // id order
    std::vector<int32_t> ids;    // per voxel: the lesion id (predicted, else missed), 0 none
    bool hasTruth = false;
    // Lesion-wise figures (with ground truth): sensitivity = detected / ground-truth lesions,
    // precision = TP / predicted lesions, F1; voxel Dice of the thresholded class against the
    // ground truth's non-zero voxels.
    int truthLesions = 0;
    int detectedTruthLesions = 0;
    double sensitivity = 0.0, precision = 0.0, f1 = 0.0, voxelDice = 0.0;

    const Lesion& lesion(int id) const { return lesions.at(size_t(id - 1)); }
    std::vector<uint8_t> mask(int id) const;
    // The lesion under a voxel (0: none).
    int lesionAt(const Index3& voxel) const;
};

// Throws segxai::Error for a class the segmentation lacks, a connectivity other than 6, 18
// or 26, or a ground truth on another grid.
LesionSet findLesions(const Segmentation& segmentation, const LabelVolume* truth, const LesionOptions& options);

} // namespace segxai
