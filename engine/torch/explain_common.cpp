#include "engine/torch/explain_common.h"

#include "engine/core/error.h"
#include "engine/model/model.h"
#include "engine/torch/nnunet_model.h"
#include "engine/torch/tensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <limits>

namespace segxai {

namespace F = torch::nn::functional;

ProblemInput prepareProblemInput(const Model& model, const Study& study, JobContext* job) {
    if (job) job->progress(0.0f, "preparing the input");
    ProblemInput out;
    out.reverseAxes = model.card().reverseAxes;
    if (model.nnunetPlan()) {
        NnunetInput prepared = nnunetPreprocess(study.channels, *model.nnunetPlan());
        out.grid = prepared.recipe.modelGrid;
        out.x = volumesToTensor(prepared.channels, out.reverseAxes);
        out.nnunetRecipe = std::move(prepared.recipe);
        return out;
    }
    const ModelInput input = prepareModelInput(study, model.card(), model.expectedInputChannels());
    out.grid = input.grid;
    out.x = volumesToTensor(input.channels, out.reverseAxes);
    return out;
}

namespace {

void requireTargetsOf(const Study& study, const std::vector<Target>& targets) {
    for (const Target& t : targets) {
        if (t.mask.size() != study.geometry.voxelCount()) {
            throw Error("a target does not belong to this study");
        }
    }
}

} // namespace

ExplanationProblem problemOn(const Model& model, const Study& study, const ProblemInput& input,
                             const std::vector<Target>& targets) {
    requireTargetsOf(study, targets);
    ExplanationProblem p{model, study, targets, ModelInput{input.grid, {}}, input.x, {}, input.reverseAxes};
    if (input.nnunetRecipe) {
        p.scoreTargets = nnunetScoreTargets(model, *input.nnunetRecipe, targets);
        return p;
    }
    for (const Target& t : targets) {
        p.scoreTargets.push_back({maskOnModelGrid(t.mask, study.geometry, p.input.grid, p.reverseAxes), t.classIndex});
    }
    return p;
}

ExplanationProblem makeProblem(const Model& model, const Study& study, const std::vector<Target>& targets,
                               JobContext* job) {
    requireTargetsOf(study, targets); // before the input's work
    return problemOn(model, study, prepareProblemInput(model, study, job), targets);
}

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

std::string camLayerFor(const ExplanationProblem& p, const std::string& requested) {
    if (!requested.empty()) return requested;
    // Listing the layers runs the model once: only when the card names no layer.
    if (!p.model.card().camLayer.empty()) return defaultCamLayer(p.model, {});
    const std::vector<int64_t> shape{p.x.size(1), p.x.size(2), p.x.size(3), p.x.size(4)};
    return defaultCamLayer(p.model, p.model.layers(shape));
}

at::Generator streamGenerator(uint64_t seed, SeedStream stream, uint64_t sample) {
    return at::make_generator<at::CPUGeneratorImpl>(streamSeed(seed, stream, sample));
}

namespace {

// SmoothGrad's noisy inputs first..first+count, [count, C, X, Y, Z]. PyTorch's normal sampler
// runs on one core (at 64^3, 8 samples took 40-85 ms, a tenth of their forward and
// backward); each sample draws from its own generator, so the samples are drawn in parallel,
// one per core, with the values they have when drawn one by one.
torch::Tensor noisyInputs(const torch::Tensor& x, const torch::Tensor& sigma, const SmoothGradNoise& noise,
                          int64_t first, int64_t count) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = count;
    const torch::Tensor inputs = torch::empty(shape, x.options());
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const int64_t n = first + i;
            // Antithetic: samples 2m and 2m + 1 share draw m, with opposite signs.
            const bool antithetic = noise.sampling == NoiseSampling::Antithetic;
            const uint64_t draw = antithetic ? uint64_t(n / 2) : uint64_t(n);
            const float sign = antithetic && n % 2 == 1 ? -1.0f : 1.0f;
            torch::Tensor item = inputs.narrow(0, i, 1);
            item.normal_(0.0, 1.0, streamGenerator(noise.seed, SeedStream::SmoothGradNoise, draw));
            item.mul_(sigma * sign).add_(x);
        }
    });
    return inputs;
}

} // namespace

void forEachNoisyBatch(const ExplanationProblem& p, const std::vector<ScoreTarget>& targets,
                       const SmoothGradNoise& noise, int batch, JobContext* job, const NoisyGradients& use) {
    const torch::Tensor range = torch::amax(p.x, {2, 3, 4}, true) - torch::amin(p.x, {2, 3, 4}, true);
    const torch::Tensor sigma = noise.fraction * range; // [1, C, 1, 1, 1]
    inBatches(noise.samples, batch, job, "SmoothGrad sample", [&](int64_t first, int64_t count) {
        use(first, count, inputGradients(p.model, noisyInputs(p.x, sigma, noise, first, count), targets));
    });
}

std::optional<JobContext> JobShares::next(double share) {
    if (!m_job) return std::nullopt;
    m_job->throwIfStopped();
    const float begin = float(m_done / m_total), end = float((m_done + share) / m_total);
    m_done += share;
    return m_job->sub(begin, end);
}

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
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

torch::Tensor baselineFor(const ExplanationProblem& p, const Baseline& b) {
    switch (b.kind) {
    case Baseline::Kind::Zero:
        return torch::zeros_like(p.x);
    case Baseline::Kind::Value:
        return torch::full_like(p.x, b.value);
    case Baseline::Kind::ChannelMinimum:
        return torch::amin(p.x, {2, 3, 4}, true).expand_as(p.x).clone();
    case Baseline::Kind::Blurred:
        return gaussianBlur(p.x, p.input.grid, b.blurSigmaMm, p.reverseAxes);
    }
    return torch::zeros_like(p.x);
}

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
            for (float& x : v.voxels)
                x /= scale;
        }
    } else if (r.max > r.min) {
        for (float& x : v.voxels)
            x = (x - r.min) / (r.max - r.min);
    }
}

Volume toVolume(const ExplanationProblem& p, const torch::Tensor& map, const std::string& name, Normalize normalize) {
    Volume v = tensorToVolume(map, p.input.grid, p.reverseAxes, name);
    normalise(v, normalize);
    return v;
}

std::vector<ExplanationMap> perChannel(const ExplanationProblem& p, const torch::Tensor& maps,
                                       const std::string& method, Normalize normalize, bool signedValues) {
    std::vector<ExplanationMap> out;
    for (size_t c = 0; c < p.study.channels.size(); ++c) {
        const std::string channel = p.study.channels[c].name;
        out.push_back({channel, toVolume(p, maps[int64_t(c)], method + "_" + channel, normalize), signedValues});
    }
    return out;
}

Explanation explanationWithoutMaps(Method method, const ExplainParameters& parameters, const Target& target,
                                   const Model& model) {
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

std::vector<Explanation> explanationsWithoutMaps(const ExplanationProblem& p, Method method,
                                                 const ExplainParameters& parameters) {
    std::vector<Explanation> out;
    for (const Target& t : p.targets)
        out.push_back(explanationWithoutMaps(method, parameters, t, p.model));
    return out;
}

} // namespace segxai
