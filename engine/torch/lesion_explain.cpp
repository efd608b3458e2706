// Many lesions explained at once, and the context experiment (engine/lesion_analysis.h), on
// the explanation core (engine/torch/explain_common.h): its set-up, SmoothGrad's noise and
// batching, the CAM layer.
#include "engine/analysis/distance_transform.h"
#include "engine/analysis/lesion_analysis.h"
#include "engine/core/error.h"
#include "engine/torch/explain_common.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/tensors.h"

#include <fmt/format.h>

namespace segxai {
namespace {

// A lesion's weights [X, Y, Z] split into at most `maxChunks` spatially compact parts: the
// largest part is split at its median along its longest extent until there are enough.
std::vector<torch::Tensor> chunksOf(const torch::Tensor& weights, int maxChunks) {
    std::vector<torch::Tensor> groups{torch::nonzero(weights > 0)}; // [N, 3] voxel indices
    if (groups[0].size(0) == 0) return {weights};
    while (int(groups.size()) < std::max(1, maxChunks)) {
        size_t largest = 0;
        for (size_t g = 1; g < groups.size(); ++g) {
            if (groups[g].size(0) > groups[largest].size(0)) largest = g;
        }
        const torch::Tensor g = groups[largest];
        const int64_t n = g.size(0);
        if (n < 2) break;
        const torch::Tensor extent = std::get<0>(g.max(0)) - std::get<0>(g.min(0));
        const int64_t axis = extent.argmax().item<int64_t>();
        const torch::Tensor order = g.select(1, axis).argsort();
        groups[largest] = g.index_select(0, order.slice(0, 0, n / 2));
        groups.push_back(g.index_select(0, order.slice(0, n / 2, n)));
    }
    std::vector<torch::Tensor> chunks;
    for (const torch::Tensor& g : groups) {
        // Flat indices: copying LibTorch 1.13's TensorIndex reads an uninitialised bool
        // (UndefinedBehaviorSanitizer reports it in its header).
        torch::Tensor w = torch::zeros_like(weights, torch::MemoryFormat::Contiguous);
        const torch::Tensor flat =
            (g.select(1, 0) * weights.size(1) + g.select(1, 1)) * weights.size(2) + g.select(1, 2);
        w.view(-1).index_copy_(0, flat, weights.reshape(-1).index_select(0, flat));
        chunks.push_back(w);
    }
    return chunks;
}

// Each lesion's chunks as score targets (the max variant's; none when it is not asked for).
std::vector<std::vector<ScoreTarget>> chunkTargetsOf(const ExplanationProblem& p, const LesionExplainOptions& options) {
    std::vector<std::vector<ScoreTarget>> chunkTargets(p.targetCount());
    if (!options.smoothGradMax) return chunkTargets;
    for (size_t t = 0; t < p.targetCount(); ++t) {
        for (const torch::Tensor& w : chunksOf(p.scoreTargets[t].weights, options.maxChunks)) {
            chunkTargets[t].push_back({w, p.scoreTargets[t].classIndex});
        }
    }
    return chunkTargets;
}

// SmoothGrad of every lesion, both variants, from one noise loop: every noisy input is
// forwarded once for the backward passes of the lesions (mean variant) and of their chunks
// (max variant: per sample, the chunks' gradient of largest magnitude).
void addSmoothGrads(const ExplanationProblem& p, const std::vector<std::vector<ScoreTarget>>& chunkTargets,
                    const LesionExplainOptions& options, JobContext* job, std::vector<LesionMaps>& results) {
    std::vector<ScoreTarget> all; // the lesions, then their chunks
    if (options.smoothGradMean) all = p.scoreTargets;
    for (const auto& chunks : chunkTargets)
        all.insert(all.end(), chunks.begin(), chunks.end());
    std::vector<torch::Tensor> meanSums, maxSums; // per lesion, as asked
    for (size_t t = 0; t < p.targetCount(); ++t) {
        if (options.smoothGradMean) meanSums.push_back(torch::zeros_like(p.x[0]));
        if (options.smoothGradMax) maxSums.push_back(torch::zeros_like(p.x[0]));
    }
    const SmoothGradNoise noise{options.samples, options.noiseFraction, options.seed};
    // The memory budget sizes the batches (0: no batch size asked for).
    forEachNoisyBatch(p, all, noise, 0, job, [&](int64_t, int64_t count, const std::vector<torch::Tensor>& gradients) {
        for (int64_t b = 0; b < count; ++b) {
            size_t next = 0;
            for (torch::Tensor& sum : meanSums)
                sum += gradients[next++][b];
            for (size_t t = 0; t < maxSums.size(); ++t) {
                torch::Tensor strongest;
                for (size_t c = 0; c < chunkTargets[t].size(); ++c, ++next) {
                    const torch::Tensor g = gradients[next][b];
                    strongest = strongest.defined() ? torch::where(g.abs() > strongest.abs(), g, strongest) : g;
                }
                maxSums[t] += strongest;
            }
        }
    });
    for (size_t t = 0; t < meanSums.size(); ++t) {
        results[t].smoothGradMean =
            perChannel(p, meanSums[t] / double(options.samples), methodId(Method::SmoothGrad), Normalize::None, true);
    }
    for (size_t t = 0; t < maxSums.size(); ++t) {
        results[t].smoothGradMax =
            perChannel(p, maxSums[t] / double(options.samples), "smoothgrad-max", Normalize::None, true);
    }
}

// S of each target on the unperturbed input (a checked forward: NaN or infinite outputs
// throw, as in segmentation).
std::vector<double> unperturbedScores(const ExplanationProblem& p) {
    torch::Tensor out;
    {
        torch::InferenceMode noGrad;
        out = forwardModel(p.model, p.x, nullptr);
    }
    std::vector<double> scores;
    for (size_t t = 0; t < p.targetCount(); ++t) {
        const int64_t classIndex = p.scoreTargets[t].classIndex;
        scores.push_back((out[0][classIndex] * p.scoreTargets[t].weights).sum().item<double>());
    }
    return scores;
}

// A lesion on the model's grid: its voxels at least half inside (a model voxel holds the
// weight of `ratio` study voxels), and every voxel's distance from them (mm).
struct LesionOnGrid {
    torch::Tensor inside;   // bool [X, Y, Z]
    torch::Tensor distance; // [X, Y, Z]
    double voxels = 0.0;    // inside
};

LesionOnGrid lesionOnGrid(const ExplanationProblem& p, const Target& lesion) {
    const Geometry& study = p.study.geometry;
    const Geometry& grid = p.input.grid;
    if (lesion.mask.size() != study.voxelCount()) throw Error("a lesion does not belong to this study");
    const double ratio =
        (grid.spacing.x * grid.spacing.y * grid.spacing.z) / (study.spacing.x * study.spacing.y * study.spacing.z);
    const torch::Tensor weights = maskOnModelGrid(lesion.mask, study, grid, p.reverseAxes) / float(ratio);
    const Volume onGrid = tensorToVolume(weights, grid, p.reverseAxes, "lesion");
    std::vector<uint8_t> mask(onGrid.voxels.size());
    for (size_t n = 0; n < mask.size(); ++n)
        mask[n] = onGrid.voxels[n] >= 0.5f;
    Volume distance(grid, "distance");
    distance.voxels = distanceToMask(grid, mask);
    LesionOnGrid out;
    out.inside = weights >= 0.5f;
    out.distance = volumesToTensor({distance}, p.reverseAxes)[0][0];
    out.voxels = out.inside.sum().item<double>();
    return out;
}

// Whether the model finds the lesion (a voxel's probability of its class above `threshold`)
// when it sees only the input within `mm` of the lesion (zero elsewhere).
ContextPoint contextPoint(const ExplanationProblem& p, const LesionOnGrid& lesion, int64_t classIndex, double mm,
                          double threshold) {
    const torch::Tensor keep = (lesion.distance <= float(mm * (1.0 + 1e-6))).to(torch::kFloat32);
    torch::Tensor out;
    {
        torch::InferenceMode noGrad;
        out = forwardModel(p.model, p.x * keep, nullptr);
    }
    const bool probabilities = p.model.card().outputsProbabilities;
    const torch::Tensor probability = (probabilities ? out : torch::softmax(out, 1))[0][classIndex];
    ContextPoint point;
    point.mm = mm;
    if (lesion.voxels > 0) {
        const torch::Tensor inside = probability.masked_select(lesion.inside);
        point.detected = (inside > float(threshold)).any().item<bool>();
        point.meanProbability = inside.mean().item<double>();
    }
    return point;
}

} // namespace

std::vector<LesionMaps> explainLesions(const Model& model, const Study& study, const std::vector<Target>& targets,
                                       const LesionExplainOptions& options, JobContext* job) {
    if (targets.empty()) return {};
    const bool smoothGrad = options.smoothGradMean || options.smoothGradMax;
    if (smoothGrad && options.samples < 1) throw Error("SmoothGrad needs at least one sample");
    const ExplanationProblem p = makeProblem(model, study, targets, job);
    const auto chunkTargets = chunkTargetsOf(p, options);
    std::vector<LesionMaps> results(targets.size());

    // Progress in backward passes: per sample, one per lesion (mean) and per chunk (max).
    double perSample = options.smoothGradMean ? double(targets.size()) : 0.0;
    for (const auto& chunks : chunkTargets)
        perSample += double(chunks.size());
    const double smoothGradWork = smoothGrad ? perSample * options.samples : 0.0;
    const double restWork = (options.camPlusPlus ? double(targets.size()) : 0.0) + 1.0;
    JobShares shares(job, smoothGradWork + restWork);
    if (smoothGrad) {
        auto sub = shares.next(smoothGradWork);
        addSmoothGrads(p, chunkTargets, options, orNull(sub), results);
    }
    auto rest = shares.next(restWork);
    if (rest) rest->progress(0.0f, options.camPlusPlus ? "scores and Seg-Grad-CAM++" : "scores");
    std::vector<double> scores; // S of each lesion: from the CAM's forward, or a forward of its own
    if (options.camPlusPlus) {
        const std::string layer = camLayerFor(p, options.layer);
        const auto maps = camMapsForTargets(model, p.x, p.scoreTargets, layer, options.variant, {false, false, true},
                                            orNull(rest), &scores);
        for (size_t t = 0; t < targets.size(); ++t) {
            results[t].camPlusPlus = ExplanationMap{
                "", toVolume(p, maps[t][2], methodId(Method::SegGradCamPlusPlus), Normalize::None), false};
        }
    } else {
        scores = unperturbedScores(p);
    }
    for (size_t t = 0; t < targets.size(); ++t)
        results[t].score = scores[t];
    if (job) job->progress(1.0f, "explained");
    return results;
}

std::vector<ContextCurve> contextExperiment(const Model& model, const Study& study, const std::vector<Target>& lesions,
                                            double threshold, double maxMm, double stepMm, JobContext* job) {
    if (stepMm <= 0.0 || maxMm < stepMm) {
        throw Error("the context experiment needs 0 < step <= maximum distance");
    }
    const std::vector<Target> noTargets; // each lesion is checked and put on the grid below
    const ExplanationProblem p = makeProblem(model, study, noTargets, job);
    std::vector<double> distances;
    for (int n = 0; double(n) * stepMm <= maxMm + 1e-9; ++n)
        distances.push_back(double(n) * stepMm);
    std::vector<ContextCurve> curves(lesions.size());
    for (size_t l = 0; l < lesions.size(); ++l) {
        const LesionOnGrid lesion = lesionOnGrid(p, lesions[l]);
        for (size_t d = 0; d < distances.size(); ++d) {
            if (job) {
                job->throwIfStopped();
                job->progress(float(l * distances.size() + d) / float(lesions.size() * distances.size()),
                              fmt::format("lesion {} of {}: {:g} mm of context", l + 1, lesions.size(), distances[d]));
            }
            const ContextPoint point = contextPoint(p, lesion, lesions[l].classIndex, distances[d], threshold);
            if (point.detected && !curves[l].sufficientMm) curves[l].sufficientMm = point.mm;
            curves[l].points.push_back(point);
        }
    }
    if (job) job->progress(1.0f, "context measured");
    return curves;
}

} // namespace segxai
