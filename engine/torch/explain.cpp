// The explanation methods of reference/methods.md on a model and a study (engine/explanation.h).
#include "engine/explain/explanation.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/model/model_input.h"
#include "engine/core/resample.h"
#include "engine/torch/explain_common.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/tensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace segxai {
namespace {

Explanation smoothGrad(const Problem& p, const ExplainParameters& parameters, const Target& target, JobContext* job) {
    Explanation e = base(Method::SmoothGrad, parameters, target, p.model);
    if (parameters.samples < 1) throw Error("SmoothGrad needs at least one sample");
    const auto start = Clock::now();
    const torch::Tensor range = torch::amax(p.x, {2, 3, 4}, true) - torch::amin(p.x, {2, 3, 4}, true);
    const torch::Tensor sigma = parameters.noiseFraction * range; // [1, C, 1, 1, 1]
    torch::Tensor sum = torch::zeros_like(p.x[0]);
    inBatches(parameters.samples, parameters.batch, job, "SmoothGrad sample", [&](int64_t first, int64_t count) {
        // One generator per sample, seeded from (seed, sample): the noise does not depend on
        // how samples are batched.
        const torch::Tensor noise = batchOf(first, count, [&](int64_t n) {
            auto generator = at::make_generator<at::CPUGeneratorImpl>(parameters.seed * 0x9E3779B97F4A7C15ull + uint64_t(n));
            return torch::randn({1, p.x.size(1), p.x.size(2), p.x.size(3), p.x.size(4)}, generator, torch::kFloat32);
        });
        const PassResult r = gradientPass(p.model, p.x + noise * sigma, p.target, {}, nullptr);
        sum += r.inputGradient.sum(0);
    });
    e.maps = perChannel(p, sum / double(parameters.samples), "smoothgrad", parameters.normalize, true);
    e.score = scoreBatch(p.model, p.x, p.target)[0];
    e.seconds = secondsSince(start);
    return e;
}

Explanation integratedGradients(const Problem& p, const ExplainParameters& parameters, const Target& target,
                                JobContext* job) {
    Explanation e = base(Method::IntegratedGradients, parameters, target, p.model);
    const auto start = Clock::now();
    const Quadrature q = quadrature(parameters.rule, parameters.steps);
    const torch::Tensor x0 = baselineFor(p, parameters.baseline);
    const torch::Tensor delta = p.x - x0;
    torch::Tensor sum = torch::zeros_like(p.x[0]);
    inBatches(int64_t(q.points.size()), parameters.batch, job, "IG step", [&](int64_t first, int64_t count) {
        const torch::Tensor inputs = batchOf(first, count, [&](int64_t n) { return x0 + q.points[size_t(n)] * delta; });
        const PassResult r = gradientPass(p.model, inputs, p.target, {}, nullptr);
        for (int64_t b = 0; b < count; ++b) sum += q.weights[size_t(first + b)] * r.inputGradient[b];
    });
    const torch::Tensor ig = delta[0] * sum;
    const auto ends = scoreBatch(p.model, torch::cat({p.x, x0}, 0), p.target);
    e.score = ends[0];
    const double change = ends[0] - ends[1];
    const double total = ig.sum().item<double>();
    e.completenessGap = change != 0.0 ? std::abs(total - change) / std::abs(change) : std::abs(total);
    e.maps = perChannel(p, ig, "integrated-gradients", parameters.normalize, true);
    e.seconds = secondsSince(start);
    return e;
}

Explanation occlusion(const Problem& p, const ExplainParameters& parameters, const Target& target, JobContext* job) {
    Explanation e = base(Method::Occlusion, parameters, target, p.model);
    if (parameters.window < 1 || parameters.stride < 1) throw Error("occlusion needs a window and a stride of at least 1");
    const auto start = Clock::now();
    const torch::Tensor fill = baselineFor(p, parameters.baseline);
    const int64_t X = p.x.size(2), Y = p.x.size(3), Z = p.x.size(4), w = parameters.window, s = parameters.stride;
    std::vector<std::array<int64_t, 3>> corners;
    for (int64_t i = 0; i < X; i += s)
        for (int64_t j = 0; j < Y; j += s)
            for (int64_t k = 0; k < Z; k += s) corners.push_back({i, j, k});
    auto cube = [&](const torch::Tensor& t, const std::array<int64_t, 3>& c, int64_t first) {
        return t.slice(first, c[0], std::min(X, c[0] + w)).slice(first + 1, c[1], std::min(Y, c[1] + w))
            .slice(first + 2, c[2], std::min(Z, c[2] + w));
    };
    e.score = scoreBatch(p.model, p.x, p.target)[0];
    torch::Tensor sum = torch::zeros({X, Y, Z}), count = torch::zeros({X, Y, Z});
    inBatches(int64_t(corners.size()), parameters.batch, job, "occlusion window", [&](int64_t first, int64_t n) {
        const torch::Tensor inputs = batchOf(first, n, [&](int64_t m) {
            torch::Tensor copy = p.x.clone();
            cube(copy, corners[size_t(m)], 2).copy_(cube(fill, corners[size_t(m)], 2));
            return copy;
        });
        const auto scores = scoreBatch(p.model, inputs, p.target);
        for (int64_t b = 0; b < n; ++b) {
            const auto& c = corners[size_t(first + b)];
            cube(sum, c, 0) += e.score - scores[size_t(b)];
            cube(count, c, 0) += 1.0;
        }
    });
    e.maps = {{"", toVolume(p, sum / count.clamp_min(1.0), "occlusion", parameters.normalize), true}};
    e.seconds = secondsSince(start);
    return e;
}

} // namespace

std::string defaultCamLayer(const Model& model, const std::vector<LayerInfo>& layers) {
    if (!model.card().camLayer.empty()) return model.card().camLayer;
    std::string best;
    int64_t smallest = std::numeric_limits<int64_t>::max();
    for (const LayerInfo& layer : layers) {
        if (!layer.capturable || layer.shape.size() != 5) continue;
        const int64_t voxels = layer.shape[2] * layer.shape[3] * layer.shape[4];
        if (voxels <= smallest) {
            smallest = voxels;
            best = layer.path;
        }
    }
    if (best.empty()) throw Error("the model has no layer with a 3D tensor output for CAM methods");
    return best;
}

std::vector<Explanation> explain(const Model& model, const Study& study, const Target& target,
                                 const std::vector<Method>& requested, const ExplainParameters& parameters,
                                 JobContext* job, const LabelVolume* segments) {
    std::vector<Method> methods;
    for (Method m : requested) {
        if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    }
    if (methods.empty()) return {};
    if (target.mask.size() != study.geometry.voxelCount()) throw Error("the target does not belong to this study");
    if (job) job->progress(0.0f, "preparing the input");
    Problem p{model, study, prepareModelInput(study, model.card(), model.expectedInputChannels()), {}, {}, model.card().reverseAxes};
    p.x = volumesToTensor(p.input.channels, p.reverseAxes);
    p.target = {maskOnModelGrid(target.mask, study.geometry, p.input.grid, p.reverseAxes), target.classIndex};

    std::vector<Method> gradientFamily, others;
    for (Method m : methods) (isGradientFamily(m) ? gradientFamily : others).push_back(m);
    const bool wantCam = std::any_of(methods.begin(), methods.end(), isCamMethod);
    std::string layer = parameters.layer;
    if (wantCam && layer.empty()) {
        const ModelInput& in = p.input;
        std::vector<int64_t> shape{int64_t(in.channels.size()), p.x.size(2), p.x.size(3), p.x.size(4)};
        layer = defaultCamLayer(model, model.card().camLayer.empty() ? model.layers(shape) : std::vector<LayerInfo>{});
    }

    // Progress: each remaining method gets a share by its count of backward passes.
    std::vector<std::pair<Method, double>> work;
    if (!gradientFamily.empty()) work.push_back({gradientFamily.front(), 1.0});
    for (Method m : others) {
        work.push_back({m, m == Method::SmoothGrad ? parameters.samples
                           : m == Method::IntegratedGradients ? parameters.steps + 1.0
                           : m == Method::KernelShap          ? 0.3 * parameters.coalitions
                           : m == Method::SegmentAblation     ? 3.0
                                                              : 0.3 * std::pow(std::max(1, 64 / std::max(1, parameters.stride)), 3)});
    }
    double totalWork = 0.0;
    for (const auto& w : work) totalWork += w.second;
    double doneWork = 0.0;
    auto stepJob = [&](double share) -> std::optional<JobContext> {
        if (!job) return std::nullopt;
        const float begin = float(doneWork / totalWork), end = float((doneWork + share) / totalWork);
        doneWork += share;
        return job->sub(begin, end);
    };

    std::map<Method, Explanation> results;
    if (!gradientFamily.empty()) {
        auto sub = stepJob(1.0);
        if (sub) sub->progress(0.0f, "forward and backward");
        const auto start = Clock::now();
        PassOptions options{layer, wantCam, parameters.variant, {false, false, false}};
        for (Method m : gradientFamily) {
            if (isCamMethod(m)) options.cams[m == Method::SegGradCam ? 0 : m == Method::SegHiResGradCam ? 1 : 2] = true;
        }
        const PassResult r = gradientPass(model, p.x, p.target, options, sub ? &*sub : nullptr);
        const double seconds = secondsSince(start);
        const torch::Tensor gradient = r.inputGradient[0];
        for (Method m : gradientFamily) {
            Explanation e = base(m, parameters, target, model);
            e.score = r.scores[0];
            e.seconds = seconds;
            if (gradientFamily.size() > 1) {
                e.notes.push_back(fmt::format("one forward and backward ({:.2f} s) served {} methods", seconds,
                                                 gradientFamily.size()));
            }
            switch (m) {
            case Method::Saliency: e.maps = perChannel(p, gradient, "saliency", parameters.normalize, true); break;
            case Method::SaliencyAbs: e.maps = perChannel(p, gradient.abs(), "saliency-abs", parameters.normalize, false); break;
            case Method::InputXGradient:
                e.maps = perChannel(p, p.x[0] * gradient, "input-x-gradient", parameters.normalize, true);
                break;
            default: {
                // PassResult::cams holds Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++.
                const int index = m == Method::SegGradCam ? 0 : m == Method::SegHiResGradCam ? 1 : 2;
                e.layer = layer;
                e.layerShape = r.layerShape;
                e.maps = {{"", toVolume(p, r.cams[size_t(index)], methodId(m), parameters.normalize), false}};
                e.layerMap = tensorToVolume(r.layerCams[size_t(index)], layerGrid(p.input.grid, r, p.reverseAxes),
                                            p.reverseAxes, std::string(methodId(m)) + "_layer");
                if (model.card().slidingWindow) {
                    e.notes.push_back("sliding window: the layer's activations are stitched across windows and its "
                                      "gradients summed, then the map is made as for a whole volume");
                }
            }
            }
            results[m] = std::move(e);
        }
    }
    for (Method m : others) {
        double share = 1.0;
        for (const auto& w : work) {
            if (w.first == m) share = w.second;
        }
        auto sub = stepJob(share);
        JobContext* context = sub ? &*sub : nullptr;
        if (m == Method::SmoothGrad) results[m] = smoothGrad(p, parameters, target, context);
        if (m == Method::IntegratedGradients) results[m] = integratedGradients(p, parameters, target, context);
        if (m == Method::Occlusion) results[m] = occlusion(p, parameters, target, context);
        if (isFeatureMethod(m)) results[m] = explainTargets(model, study, {target}, m, parameters, segments, context)[0];
    }
    std::vector<Explanation> ordered;
    for (Method m : methods) ordered.push_back(std::move(results.at(m)));
    if (job) job->progress(1.0f, "explained");
    return ordered;
}

} // namespace segxai
