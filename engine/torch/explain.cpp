// The explanation methods of reference/methods.md on a model and a study (engine/explanation.h).
#include "engine/explanation.h"

#include "engine/error.h"
#include "engine/job_runner.h"
#include "engine/memory_budget.h"
#include "engine/model_input.h"
#include "engine/resample.h"
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

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Everything the methods share: the model input, the target on the model grid.
struct Problem {
    const Model& model;
    const Study& study;
    ModelInput input;
    torch::Tensor x; // [1, C, X, Y, Z]
    ScoreTarget target;
    bool reverseAxes = false;
};

// Per-sample memory of a computation, from running its first sample alone.
template <typename Run> uint64_t measureOneSample(Run&& run) {
    PeakMemoryProbe probe;
    run();
    return probe.growthBytes();
}

torch::Tensor gaussianBlur(const torch::Tensor& x, const Geometry& grid, double sigmaMm, bool reverse) {
    torch::Tensor out = x;
    for (int axis = 0; axis < 3; ++axis) {
        const int gridAxis = reverse ? 2 - axis : axis;
        const double sigma = sigmaMm / grid.spacing[gridAxis];
        const int64_t radius = std::max<int64_t>(1, int64_t(std::ceil(3.0 * sigma)));
        torch::Tensor k = torch::arange(-radius, radius + 1, torch::kFloat32);
        k = torch::exp(-0.5 * (k / float(sigma)).pow(2));
        k = k / k.sum();
        std::vector<int64_t> shape{1, 1, 1, 1, 1};
        shape[size_t(2 + axis)] = 2 * radius + 1;
        std::vector<int64_t> padding{0, 0, 0};
        padding[size_t(axis)] = radius;
        const int64_t channels = out.size(1);
        out = F::conv3d(out, k.view(shape).repeat({channels, 1, 1, 1, 1}),
                        F::Conv3dFuncOptions().padding(padding).groups(channels));
    }
    return out;
}

torch::Tensor baselineFor(const Problem& p, const Baseline& b) {
    switch (b.kind) {
    case Baseline::Kind::Zero: return torch::zeros_like(p.x);
    case Baseline::Kind::Value: return torch::full_like(p.x, b.value);
    case Baseline::Kind::ChannelMinimum: return torch::amin(p.x, {2, 3, 4}, true).expand_as(p.x).clone();
    case Baseline::Kind::Blurred: return gaussianBlur(p.x, p.input.grid, b.blurSigmaMm, p.reverseAxes);
    }
    return torch::zeros_like(p.x);
}

// The grid of a layer's activation in the world: layer voxel u covers input voxels
// [u s, (u + 1) s) of the padded input (align_corners = false), s = padded / layer size.
Geometry layerGrid(const Geometry& modelGrid, const PassResult& pass, bool reverse) {
    Geometry g = modelGrid;
    glm::dvec3 firstCentre;
    for (int t = 0; t < 3; ++t) {
        const int a = reverse ? 2 - t : t; // grid axis of tensor axis t
        const int64_t layerSize = pass.layerShape[size_t(2 + t)];
        const double scale = double(pass.paddedSize[size_t(t)]) / double(layerSize);
        g.dims[a] = layerSize;
        g.spacing[a] = modelGrid.spacing[a] * scale;
        firstCentre[a] = 0.5 * scale - 0.5 - double(pass.padBefore[size_t(t)]);
    }
    g.origin = modelGrid.voxelToWorld(firstCentre);
    return g;
}

void normalise(Volume& v, Normalize n) {
    if (n == Normalize::None || v.voxels.empty()) return;
    const ValueRange r = finiteRange(v.voxels);
    if (n == Normalize::Max) {
        const float scale = std::max(std::abs(r.min), std::abs(r.max));
        if (scale > 0.0f) {
            for (float& x : v.voxels) x /= scale;
        }
    } else if (r.max > r.min) {
        for (float& x : v.voxels) x = (x - r.min) / (r.max - r.min);
    }
}

// A model-grid map [X, Y, Z] as a volume on the model's grid.
Volume toVolume(const Problem& p, const torch::Tensor& map, const std::string& name, Normalize normalize) {
    Volume v = tensorToVolume(map, p.input.grid, p.reverseAxes, name);
    normalise(v, normalize);
    return v;
}

std::vector<ExplanationMap> perChannel(const Problem& p, const torch::Tensor& maps, const std::string& method,
                                       Normalize normalize, bool signedValues) {
    std::vector<ExplanationMap> out;
    for (size_t c = 0; c < p.study.channels.size(); ++c) {
        const std::string channel = p.study.channels[c].name;
        out.push_back({channel, toVolume(p, maps[int64_t(c)], method + "_" + channel, normalize), signedValues});
    }
    return out;
}

Explanation base(Method method, const ExplainParameters& parameters, const Target& target, const Model& model) {
    Explanation e;
    e.method = method;
    e.parameters = parameters;
    e.classIndex = target.classIndex;
    e.className = target.className;
    e.targetDescription = target.description;
    e.targetVoxels = target.voxelCount;
    e.scoreOn = model.card().outputsProbabilities ? "probabilities" : "logits";
    e.warnings = target.warnings;
    return e;
}

// Inputs of a batch in `count` items from `first`, made by `make(index)` ([1, C, ...] each).
template <typename Make> torch::Tensor batchOf(int64_t first, int64_t count, Make&& make) {
    std::vector<torch::Tensor> items;
    for (int64_t n = first; n < first + count; ++n) items.push_back(make(n));
    return torch::cat(items, 0);
}

// Runs `total` samples in batches sized to the memory budget (or the user's batch size):
// the first sample alone, measured, then the rest. `run(first, count)` does the work.
template <typename Run>
void inBatches(int64_t total, int requested, JobContext* job, const char* stage, Run&& run) {
    int64_t done = 0;
    int batch = requested;
    if (batch <= 0) {
        const uint64_t perSample = measureOneSample([&] { run(0, 1); });
        done = 1;
        batch = batchForBudget(perSample, 16);
    }
    while (done < total) {
        if (job) {
            job->throwIfStopped();
            job->progress(float(done) / float(total), fmt::format("{} {} of {}", stage, done + 1, total));
        }
        const int64_t count = std::min<int64_t>(batch, total - done);
        run(done, count);
        done += count;
    }
    if (job) job->progress(1.0f, stage);
}

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
                                 JobContext* job) {
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
    }
    std::vector<Explanation> ordered;
    for (Method m : methods) ordered.push_back(std::move(results.at(m)));
    if (job) job->progress(1.0f, "explained");
    return ordered;
}

} // namespace segxai
