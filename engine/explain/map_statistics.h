#pragma once
#include "engine/core/volume.h"

#include <vector>

namespace segxai {

// Pearson correlation of two maps over their voxels (b is resampled onto a's grid when the
// grids differ). 0 when either map is constant.
double pearsonCorrelation(const Volume& a, const Volume& b);

// Each voxel's rank among all voxels, scaled to [0, 1] (ties share their mean rank).
std::vector<float> normalisedRanks(const std::vector<float>& values);

// A - B of two maps on a's grid: both divided by their largest |value| first, or, with
// `ranks`, both replaced by their normalised ranks.
Volume mapDifference(const Volume& a, const Volume& b, bool ranks);

} // namespace segxai
