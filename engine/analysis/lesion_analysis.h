#pragma once
#include "engine/analysis/lesions.h"
#include "engine/explain/explanation.h"
#include "engine/io/study.h"
#include "engine/model/model.h"

#include <optional>
#include <string>
#include <vector>

namespace segxai {

class JobContext;

// Explanations of many lesions at once (docs/methods.md#instance-level-analyses).
struct LesionExplainOptions {
    bool smoothGradMean = true; // SmoothGrad of the whole lesion's score
    bool smoothGradMax = false; // per input voxel, the signed gradient of largest magnitude
                                // over the lesion's chunks (below), averaged over samples
    bool camPlusPlus = false;   // Seg-Grad-CAM++ of the lesion's score
    int samples = 20;
    double noiseFraction = 0.10;
    uint64_t seed = 0;
    // The max variant splits a lesion's voxels (on the model grid) into at most this many
    // spatially compact chunks (median splits along the longest extent); each chunk's gradient
    // is that of its summed score. As many chunks as voxels is the exact per-voxel definition.
    int maxChunks = 8;
    std::string layer; // CAM layer; empty: the model's default
    CamPlusPlusVariant variant = CamPlusPlusVariant::Paper;
};

// One target's maps, on the model's grid (as ExplanationMap; inStudyGrid() for the study's).
struct LesionMaps {
    std::vector<ExplanationMap> smoothGradMean; // one per input channel
    std::vector<ExplanationMap> smoothGradMax;  // one per input channel
    std::optional<ExplanationMap> camPlusPlus;
    double score = 0.0; // S of the unperturbed input
};

// Every target's maps. Work is shared: each batch of noise samples (sized to the memory
// budget; the noise of explain()'s SmoothGrad) is forwarded once and back-propagated once per
// target (and once per chunk for the max variant), Seg-Grad-CAM++
// takes one forward with the layer captured and a backward per target. Models that run by
// sliding window do one forward per backward (a forward per window is what they cost anyway).
// Reports progress, stops on cancel; throws segxai::Error like explain().
std::vector<LesionMaps> explainLesions(const Model& model, const Study& study, const std::vector<Target>& targets,
                                       const LesionExplainOptions& options, JobContext* job = nullptr);

// The context experiment: the model sees its input only inside the lesion dilated by d mm
// (zero elsewhere, in its normalised input: what a masked, normalised image is), for d = 0,
// `stepMm`, 2 `stepMm`, ... up to `maxMm`. A lesion counts as detected where any of its voxels (on
// the model's grid) has a probability of its class above `threshold`. d = 0 keeps the lesion alone.
struct ContextPoint {
    double mm = 0.0;
    bool detected = false;
    double meanProbability = 0.0; // over the lesion's voxels
};
struct ContextCurve {
    std::vector<ContextPoint> points;
    std::optional<double> sufficientMm; // the smallest d at which the lesion is detected
};
// Reports progress, stops on cancel; throws segxai::Error when the step is not positive or
// exceeds the maximum, a lesion does not belong to the study, or a forward fails.
std::vector<ContextCurve> contextExperiment(const Model& model, const Study& study, const std::vector<Target>& lesions,
                                            double threshold, double maxMm, double stepMm = 1.0,
                                            JobContext* job = nullptr);

} // namespace segxai
