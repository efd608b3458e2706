#pragma once
#include "engine/core/volume.h"
#include "engine/explain/explanation.h"
#include "engine/explain/target.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace segxai {

// How far two explanations of one target agree (docs/methods.md#explanation-agreement).
struct MapAgreement {
    double rankCorrelation = 0.0; // Spearman: Pearson of the voxels' ranks (ties share their mean rank)
    double topOverlap = 0.0;      // share of the top `topFraction` voxels (largest values) in common
};

// Both maps on one grid. Throws segxai::Error when the grids differ or `topFraction` is not
// in (0, 1].
MapAgreement mapAgreement(const Volume& a, const Volume& b, double topFraction = 0.05);

// The share of a map's positive attribution that falls inside the target (0 when none is
// positive).
double positiveMassInside(const Volume& map, const Target& target);

// An explanation as one map on the study's grid: its maps (one per input channel for
// input-space methods) summed voxel by voxel.
Volume combinedStudyMap(const Explanation& explanation, const Geometry& studyGrid);

// Several explanations of one target (ensemble members, or models compared), each on the
// study's grid: their mean and standard deviation maps, and every pair's agreement.
struct ExplanationSpread {
    std::vector<std::string> names;
    Volume mean, deviation;                                 // population standard deviation over explanations
    std::vector<std::vector<MapAgreement>> pairs;           // [a][b], a < b filled (and mirrored)
    double meanRankCorrelation = 0.0, meanTopOverlap = 0.0; // over pairs a < b
    std::vector<double> massInside;                         // per explanation: positiveMassInside()
};

// The target, the means, each pair's figures and each explanation's mass inside, as JSON.
nlohmann::json spreadSummary(const ExplanationSpread& spread, const Target& target);

ExplanationSpread explanationSpread(const std::vector<Volume>& maps, const std::vector<std::string>& names,
                                    const Target& target, double topFraction = 0.05);

} // namespace segxai
