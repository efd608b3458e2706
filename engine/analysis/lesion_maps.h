#pragma once
#include "engine/analysis/lesions.h"
#include "engine/core/volume.h"

#include <string>
#include <vector>

namespace segxai {

// What one explanation map says about one lesion: its values inside the lesion and in rings
// around it (distance from the lesion's nearest voxel, mm, with the grid's true spacing).
struct RingRegion {
    std::string name;                // "inside", "0-1 mm", ...
    double fromMm = 0.0, toMm = 0.0; // inside: 0, 0; a ring holds distances in (from, to]
    int64_t voxels = 0;
    double sum = 0.0, positiveSum = 0.0, negativeSum = 0.0, absSum = 0.0;
    double mean = 0.0;
    double sharePositive = 0.0;     // of its voxels with a value > 0
    double shareNegative = 0.0;     // ... < 0
    std::vector<int64_t> histogram; // signed bins over [-limit, limit] (RingProfile::limit)
};

struct RingProfile {
    std::vector<RingRegion> regions; // inside, then the rings
    double limit = 0.0;              // the histogram's range: the largest |value| in any region
    double absTotal = 0.0;           // sum of |value| over every region
    // Summaries of the MS study: the share of positive voxels inside, and of negative ones in
    // the rim (distances in (0, 2] mm).
    double sharePositiveInside = 0.0;
    double shareNegativeRim = 0.0;
};

constexpr double kRimMm = 2.0;

// `lesionMask` on `studyGrid`; `map` on any grid placed in the world (a model's coarser grid
// is sampled trilinearly at the study's voxel centres). Ring edges default to 0, 1, 2, 4,
// 8 mm. Works on the lesion's bounding box grown by the outer edge: little work per lesion.
RingProfile ringProfile(const Volume& map, const Geometry& studyGrid, const std::vector<uint8_t>& lesionMask,
                        const std::vector<double>& edgesMm = {0.0, 1.0, 2.0, 4.0, 8.0}, int bins = 21);

// The largest value of a map over a lesion's voxels, and the value of largest magnitude
// (signed). Both 0 for an empty mask.
struct Peak {
    double maximum = 0.0;
    double maximumMagnitude = 0.0;
};
Peak peakOf(const Volume& map, const Geometry& studyGrid, const std::vector<uint8_t>& lesionMask);

// Per element, the value of larger magnitude of a and b (a on ties): how the max-magnitude
// SmoothGrad variant combines the gradients of a lesion's voxels (TV7).
std::vector<float> maxMagnitude(const std::vector<float>& a, const std::vector<float>& b);

} // namespace segxai
