#pragma once
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

#include <vector>

namespace segxai {

class JobContext;

// An ellipsoidal lesion painted into a study: inside, each channel is multiplied by
// (1 + contrast of that channel); across a soft edge of `edgeMm` the change fades out
// smoothly (a smoothstep over the ellipsoid's surface, half inside, half outside).
struct SyntheticLesion {
    glm::dvec3 centre{0.0};       // world (mm)
    glm::dvec3 radiiMm{3.0};      // along the world axes
    std::vector<double> contrast; // per channel (0.5: 50 % brighter, -0.3: 30 % darker)
    double edgeMm = 1.0;
};

// How much of the change a voxel gets (0..1).
std::vector<float> syntheticLesionWeights(const Geometry& grid, const SyntheticLesion& lesion);
// The study with the lesion painted in; its ground truth (when it has one) gains the
// lesion's core (weight >= 0.5) as label 1. Throws segxai::Error when the contrasts do not
// match the channels or a radius is not positive.
Study withSyntheticLesion(const Study& study, const SyntheticLesion& lesion);

// Whether the model finds a painted lesion: a voxel of its core with class probability
// above `threshold`; the mean probability over the core.
struct SyntheticDetection {
    double radiusMm = 0.0;      // the lesion's radii scaled to this mean radius
    double contrastScale = 1.0; // ... and its contrasts by this factor
    bool detected = false;
    double meanProbability = 0.0;
    int64_t coreVoxels = 0;
};
SyntheticDetection detectSynthetic(const Segmentation& segmentation, const Study& painted,
                                   const SyntheticLesion& lesion, int classIndex, double threshold);

// The sweep: every mean radius x contrast scale, painted and segmented. Progress and cancel
// through `job`.
std::vector<SyntheticDetection> syntheticSweep(const Model& model, const Study& study, const SyntheticLesion& lesion,
                                               const std::vector<double>& radiiMm,
                                               const std::vector<double>& contrastScales, int classIndex,
                                               double threshold, JobContext* job = nullptr);

} // namespace segxai
