// Many lesions explained at once, and the context experiment (engine/lesion_analysis.h).
#include "engine/analysis/lesion_analysis.h"

#include "engine/analysis/distance_transform.h"
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/model/model_input.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/tensors.h"

#include <ATen/CPUGeneratorImpl.h>
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
        const torch::Tensor flat = (g.select(1, 0) * weights.size(1) + g.select(1, 1)) * weights.size(2) + g.select(1, 2);
        w.view(-1).index_copy_(0, flat, weights.reshape(-1).index_select(0, flat));
        chunks.push_back(w);
    }
    return chunks;
}

std::vector<ExplanationMap> perChannel(const Study& study, const torch::Tensor& maps, const Geometry& grid, bool reverse,
                                       const std::string& method) {
    std::vector<ExplanationMap> out;
    for (size_t c = 0; c < study.channels.size(); ++c) {
        const std::string& channel = study.channels[c].name;
        out.push_back({channel, tensorToVolume(maps[int64_t(c)], grid, reverse, method + "_" + channel), true});
    }
    return out;
}

} // namespace

std::vector<LesionMaps> explainLesions(const Model& model, const Study& study, const std::vector<Target>& targets,
                                       const LesionExplainOptions& options, JobContext* job) {
    if (targets.empty()) return {};
    if ((options.smoothGradMean || options.smoothGradMax) && options.samples < 1) {
        throw Error("SmoothGrad needs at least one sample");
    }
    for (const Target& t : targets) {
        if (t.mask.size() != study.geometry.voxelCount()) throw Error("a target does not belong to this study");
    }
    if (job) job->progress(0.0f, "preparing the input");
    const ModelInput input = prepareModelInput(study, model.card(), model.expectedInputChannels());
    const bool reverse = model.card().reverseAxes;
    const torch::Tensor x = volumesToTensor(input.channels, reverse);
    std::vector<ScoreTarget> scoreTargets;
    std::vector<std::vector<ScoreTarget>> chunkTargets(targets.size());
    for (size_t t = 0; t < targets.size(); ++t) {
        scoreTargets.push_back({maskOnModelGrid(targets[t].mask, study.geometry, input.grid, reverse), targets[t].classIndex});
        if (options.smoothGradMax) {
            for (const torch::Tensor& w : chunksOf(scoreTargets[t].weights, options.maxChunks)) {
                chunkTargets[t].push_back({w, targets[t].classIndex});
            }
        }
    }
    std::vector<LesionMaps> results(targets.size());
    // Progress in backward passes.
    double perSample = options.smoothGradMean ? double(targets.size()) : 0.0;
    for (const auto& chunks : chunkTargets) perSample += double(chunks.size());
    const bool smoothGrad = options.smoothGradMean || options.smoothGradMax;
    const double total = (smoothGrad ? perSample * options.samples : 0.0) + (options.camPlusPlus ? double(targets.size()) : 0.0) + 1.0;
    double done = 0.0;

    if (smoothGrad) {
        // The noise of explain()'s SmoothGrad: one generator per sample, seeded from (seed, sample).
        const torch::Tensor range = torch::amax(x, {2, 3, 4}, true) - torch::amin(x, {2, 3, 4}, true);
        const torch::Tensor sigma = options.noiseFraction * range;
        std::vector<torch::Tensor> meanSums(targets.size()), maxSums(targets.size());
        for (int s = 0; s < options.samples; ++s) {
            if (job) {
                job->throwIfStopped();
                job->progress(float(done / total), fmt::format("SmoothGrad sample {} of {}", s + 1, options.samples));
            }
            auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed * 0x9E3779B97F4A7C15ull + uint64_t(s));
            const torch::Tensor noisy = x + torch::randn(x.sizes(), generator, torch::kFloat32) * sigma;
            // One forward for every backward of this sample: the lesions, then their chunks.
            std::vector<ScoreTarget> all;
            if (options.smoothGradMean) all = scoreTargets;
            for (const auto& chunks : chunkTargets) all.insert(all.end(), chunks.begin(), chunks.end());
            const std::vector<torch::Tensor> gradients = inputGradients(model, noisy, all);
            size_t next = 0;
            for (size_t t = 0; options.smoothGradMean && t < targets.size(); ++t, ++next) {
                meanSums[t] = meanSums[t].defined() ? meanSums[t] + gradients[next][0] : gradients[next][0].clone();
            }
            for (size_t t = 0; t < targets.size(); ++t) {
                torch::Tensor strongest;
                for (size_t c = 0; c < chunkTargets[t].size(); ++c, ++next) {
                    const torch::Tensor& g = gradients[next][0];
                    strongest = strongest.defined() ? torch::where(g.abs() > strongest.abs(), g, strongest) : g;
                }
                if (strongest.defined()) maxSums[t] = maxSums[t].defined() ? maxSums[t] + strongest : strongest.clone();
            }
            done += perSample;
        }
        for (size_t t = 0; t < targets.size(); ++t) {
            if (meanSums[t].defined()) {
                results[t].smoothGradMean = perChannel(study, meanSums[t] / double(options.samples), input.grid, reverse, "smoothgrad");
            }
            if (maxSums[t].defined()) {
                results[t].smoothGradMax = perChannel(study, maxSums[t] / double(options.samples), input.grid, reverse, "smoothgrad-max");
            }
        }
    }
    {
        // Scores of the unperturbed input, with Seg-Grad-CAM++ when asked (its forward serves both).
        if (job) job->progress(float(done / total), "scores" + std::string(options.camPlusPlus ? " and Seg-Grad-CAM++" : ""));
        std::vector<double> scores;
        if (options.camPlusPlus) {
            std::string layer = options.layer;
            if (layer.empty()) {
                const std::vector<int64_t> shape{x.size(1), x.size(2), x.size(3), x.size(4)};
                layer = defaultCamLayer(model, model.card().camLayer.empty() ? model.layers(shape) : std::vector<LayerInfo>{});
            }
            const auto maps = camMapsForTargets(model, x, scoreTargets, layer, options.variant, {false, false, true}, job);
            for (size_t t = 0; t < targets.size(); ++t) {
                results[t].camPlusPlus = ExplanationMap{"", tensorToVolume(maps[t][2], input.grid, reverse, "seg-grad-cam++"), false};
            }
        }
        torch::Tensor out;
        {
            torch::InferenceMode noGrad;
            out = forwardModel(model, x, nullptr);
        }
        for (size_t t = 0; t < targets.size(); ++t) {
            results[t].score = (out[0][targets[t].classIndex] * scoreTargets[t].weights).sum().item<double>();
        }
    }
    if (job) job->progress(1.0f, "explained");
    return results;
}

std::vector<ContextCurve> contextExperiment(const Model& model, const Study& study, const std::vector<Target>& lesions,
                                            double threshold, double maxMm, double stepMm, JobContext* job) {
    if (stepMm <= 0.0 || maxMm < stepMm) throw Error("the context experiment needs 0 < step <= maximum distance");
    if (job) job->progress(0.0f, "preparing the input");
    const ModelInput input = prepareModelInput(study, model.card(), model.expectedInputChannels());
    const bool reverse = model.card().reverseAxes;
    const torch::Tensor x = volumesToTensor(input.channels, reverse);
    const Geometry& grid = input.grid;
    const bool probabilities = model.card().outputsProbabilities;
    std::vector<double> distances;
    for (int n = 0; double(n) * stepMm <= maxMm + 1e-9; ++n) distances.push_back(double(n) * stepMm);
    std::vector<ContextCurve> curves(lesions.size());
    for (size_t l = 0; l < lesions.size(); ++l) {
        const Target& lesion = lesions[l];
        if (lesion.mask.size() != study.geometry.voxelCount()) throw Error("a lesion does not belong to this study");
        // The lesion on the model's grid: its voxels at least half inside (a model voxel holds
        // the weight of `ratio` study voxels).
        const double ratio = (grid.spacing.x * grid.spacing.y * grid.spacing.z) /
                             (study.geometry.spacing.x * study.geometry.spacing.y * study.geometry.spacing.z);
        const torch::Tensor weights = maskOnModelGrid(lesion.mask, study.geometry, grid, reverse) / float(ratio);
        Volume onGrid = tensorToVolume(weights, grid, reverse, "lesion");
        std::vector<uint8_t> mask(onGrid.voxels.size());
        for (size_t n = 0; n < mask.size(); ++n) mask[n] = onGrid.voxels[n] >= 0.5f;
        const torch::Tensor inLesion = weights >= 0.5f;
        const std::vector<float> distance = distanceToMask(grid, mask);
        Volume distanceVolume(grid, "distance");
        distanceVolume.voxels = distance;
        const torch::Tensor distanceTensor = volumesToTensor({distanceVolume}, reverse)[0][0];
        const double lesionVoxels = inLesion.sum().item<double>();
        for (size_t d = 0; d < distances.size(); ++d) {
            if (job) {
                job->throwIfStopped();
                job->progress(float(l * distances.size() + d) / float(lesions.size() * distances.size()),
                              fmt::format("lesion {} of {}: {:g} mm of context", l + 1, lesions.size(), distances[d]));
            }
            const torch::Tensor keep = (distanceTensor <= float(distances[d] * (1.0 + 1e-6))).to(torch::kFloat32);
            torch::Tensor out;
            {
                torch::InferenceMode noGrad;
                out = forwardModel(model, x * keep, nullptr);
            }
            const torch::Tensor p = (probabilities ? out : torch::softmax(out, 1))[0][lesion.classIndex];
            ContextPoint point;
            point.mm = distances[d];
            point.detected = lesionVoxels > 0 && (p.masked_select(inLesion) > float(threshold)).any().item<bool>();
            point.meanProbability = lesionVoxels > 0 ? p.masked_select(inLesion).mean().item<double>() : 0.0;
            if (point.detected && !curves[l].sufficientMm) curves[l].sufficientMm = point.mm;
            curves[l].points.push_back(point);
        }
    }
    if (job) job->progress(1.0f, "context measured");
    return curves;
}

} // namespace segxai
