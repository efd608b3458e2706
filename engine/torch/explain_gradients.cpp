// The gradient methods (engine/torch/explain_families.h): saliency, input x gradient, the
// CAM methods, SmoothGrad and Integrated Gradients, each for every target of a problem.
#include "engine/core/error.h"
#include "engine/explain/quadrature.h"
#include "engine/torch/explain_families.h"
#include "engine/torch/tensors.h"

#include <optional>

namespace segxai {
namespace {

// Where a CAM method's map sits in the passes' CAM maps (Seg-Grad-CAM, Seg-HiRes-Grad-CAM,
// Seg-Grad-CAM++).
size_t camSlot(Method method) {
    return method == Method::SegGradCam ? 0 : method == Method::SegHiResGradCam ? 1 : 2;
}

// An input-space method's maps from its target's input gradient [C, X, Y, Z].
std::vector<ExplanationMap> inputSpaceMaps(const ExplanationProblem& p, Method method, const torch::Tensor& gradient,
                                           Normalize normalize) {
    const torch::Tensor map = method == Method::Saliency      ? gradient
                              : method == Method::SaliencyAbs ? gradient.abs()
                                                              : p.x[0] * gradient;
    return perChannel(p, map, methodId(method), normalize, method != Method::SaliencyAbs);
}

// A CAM method's maps from a gradient pass that computed them: on the model's grid and at
// the layer's own resolution.
void setCamMaps(Explanation& e, const ExplanationProblem& p, const PassResult& pass, const std::string& layer,
                Normalize normalize) {
    const size_t slot = camSlot(e.method);
    const std::string id = methodId(e.method);
    e.layer = layer;
    e.layerShape = pass.layerShape;
    e.maps = {{"", toVolume(p, pass.cams[slot], id, normalize), false}};
    e.layerMap = tensorToVolume(pass.layerCams[slot], layerGrid(p.input.grid, pass, p.reverseAxes), p.reverseAxes,
                                id + "_layer");
    if (p.model.card().slidingWindow) {
        e.notes.push_back("sliding window: the layer's activations are stitched across windows "
                          "and its gradients summed, then the map is made as for a whole volume");
    }
}

// One zero tensor shaped like the input's channels [C, X, Y, Z] per target (each its own).
std::vector<torch::Tensor> zeroSums(const ExplanationProblem& p) {
    std::vector<torch::Tensor> sums;
    for (size_t t = 0; t < p.targetCount(); ++t)
        sums.push_back(torch::zeros_like(p.x[0]));
    return sums;
}

} // namespace

std::vector<Explanation> explainInputGradients(const ExplanationProblem& p, Method method,
                                               const ExplainParameters& parameters) {
    std::vector<Explanation> out = explanationsWithoutMaps(p, method, parameters);
    std::vector<double> scores;
    std::vector<torch::Tensor> gradients = inputGradients(p.model, p.x, p.scoreTargets, &scores);
    for (size_t t = 0; t < out.size(); ++t) {
        out[t].maps = inputSpaceMaps(p, method, gradients[t][0], parameters.normalize);
        out[t].score = scores[t];
        gradients[t].reset(); // many targets: a map in place of each gradient, not beside it
    }
    return out;
}

std::vector<Explanation> explainCams(const ExplanationProblem& p, Method method, const ExplainParameters& parameters,
                                     JobContext* job) {
    std::vector<Explanation> out = explanationsWithoutMaps(p, method, parameters);
    const std::string layer = camLayerFor(p, parameters.layer);
    const size_t slot = camSlot(method);
    std::array<bool, 3> which{false, false, false};
    which[slot] = true;
    std::vector<double> scores;
    const auto maps = camMapsForTargets(p.model, p.x, p.scoreTargets, layer, parameters.variant, which, job, &scores);
    for (size_t t = 0; t < out.size(); ++t) {
        out[t].layer = layer;
        out[t].maps = {{"", toVolume(p, maps[t][slot], methodId(method), parameters.normalize), false}};
        out[t].score = scores[t];
    }
    return out;
}

// One pass serves every method: its time is each method's (they share it, not split it).
std::vector<Explanation> explainGradientMethodsTogether(const ExplanationProblem& p, const std::vector<Method>& methods,
                                                        const ExplainParameters& parameters, JobContext* job) {
    const bool wantCam = std::any_of(methods.begin(), methods.end(), isCamMethod);
    const std::string layer = wantCam ? camLayerFor(p, parameters.layer) : parameters.layer;
    if (job) job->progress(0.0f, "forward and backward");
    const auto start = Clock::now();
    PassOptions options{layer, wantCam, parameters.variant, {false, false, false}};
    options.inputGradient = false;
    for (Method m : methods) {
        if (isCamMethod(m)) {
            options.cams[camSlot(m)] = true;
        } else {
            options.inputGradient = true;
        }
    }
    const PassResult pass = gradientPass(p.model, p.x, p.scoreTargets.front(), options, job);
    const double seconds = secondsSince(start);
    std::vector<Explanation> out;
    for (Method m : methods) {
        Explanation e = explanationWithoutMaps(m, parameters, p.targets.front(), p.model);
        e.score = pass.scores[0];
        e.seconds = seconds;
        if (methods.size() > 1) {
            e.notes.push_back(
                fmt::format("one forward and backward ({:.2f} s) served {} methods", seconds, methods.size()));
        }
        if (isCamMethod(m)) {
            setCamMaps(e, p, pass, layer, parameters.normalize);
        } else {
            e.maps = inputSpaceMaps(p, m, pass.inputGradient[0], parameters.normalize);
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<Explanation> explainSmoothGrad(const ExplanationProblem& p, const ExplainParameters& parameters,
                                           JobContext* job) {
    if (parameters.samples < 1) throw Error("SmoothGrad needs at least one sample");
    std::vector<Explanation> out = explanationsWithoutMaps(p, Method::SmoothGrad, parameters);
    std::vector<torch::Tensor> sums = zeroSums(p);
    const SmoothGradNoise noise{parameters.samples, parameters.noiseFraction, parameters.seed,
                                parameters.noiseSampling};
    forEachNoisyBatch(p, p.scoreTargets, noise, parameters.batch, job,
                      [&](int64_t, int64_t count, const std::vector<torch::Tensor>& gradients) {
                          for (size_t t = 0; t < sums.size(); ++t) {
                              for (int64_t b = 0; b < count; ++b)
                                  sums[t] += gradients[t][b];
                          }
                      });
    const auto scores = scoresForTargets(p.model, p.x, p.scoreTargets)[0];
    for (size_t t = 0; t < out.size(); ++t) {
        out[t].score = scores[t];
        out[t].maps = perChannel(p, sums[t] / double(parameters.samples), methodId(Method::SmoothGrad),
                                 parameters.normalize, true);
    }
    return out;
}

std::vector<Explanation> explainIntegratedGradients(const ExplanationProblem& p, const ExplainParameters& parameters,
                                                    JobContext* job) {
    const Method method = Method::IntegratedGradients;
    std::vector<Explanation> out = explanationsWithoutMaps(p, method, parameters);
    const Quadrature q = quadrature(parameters.rule, parameters.steps);
    if (q.points.empty()) throw Error(std::string(methodTitle(method)) + " needs at least one sample");
    const torch::Tensor x0 = baselineFor(p, parameters.baseline);
    const torch::Tensor delta = p.x - x0;
    std::vector<torch::Tensor> sums = zeroSums(p);
    // S at the input and at the baseline, for the completeness check (the maps sum to their
    // change): taken from the path's own passes where a step's input is that end to the bit
    // (right Riemann ends at the input; left Riemann and the trapezoid start at the baseline),
    // so only the other end costs a forward.
    std::array<std::optional<std::vector<double>>, 2> ends;
    inBatches(int64_t(q.points.size()), parameters.batch, job, "IG step", [&](int64_t first, int64_t count) {
        const torch::Tensor inputs =
            batchOf(first, count, [&](int64_t n) { return torch::Tensor(x0 + q.points[size_t(n)] * delta); });
        const std::vector<PassResult> passes = gradientPasses(p.model, inputs, p.scoreTargets, {}, nullptr);
        for (size_t t = 0; t < sums.size(); ++t) {
            for (int64_t b = 0; b < count; ++b)
                sums[t] += q.weights[size_t(first + b)] * passes[t].inputGradient[b];
        }
        for (int64_t b = 0; b < count; ++b) {
            for (size_t end = 0; end < 2; ++end) {
                if (ends[end] || !torch::equal(inputs[b], (end == 0 ? p.x : x0)[0])) continue;
                ends[end].emplace();
                for (const PassResult& pass : passes)
                    ends[end]->push_back(pass.scores[size_t(b)]);
            }
        }
    });
    for (size_t end = 0; end < 2; ++end) {
        if (!ends[end]) ends[end] = scoresForTargets(p.model, end == 0 ? p.x : x0, p.scoreTargets)[0];
    }
    const std::vector<double>& atInput = *ends[0];
    const std::vector<double>& atBaseline = *ends[1];
    for (size_t t = 0; t < out.size(); ++t) {
        const torch::Tensor ig = delta[0] * sums[t];
        const double change = atInput[t] - atBaseline[t], sum = ig.sum().item<double>();
        out[t].score = atInput[t];
        out[t].completenessGap = change != 0.0 ? std::abs(sum - change) / std::abs(change) : std::abs(sum);
        out[t].maps = perChannel(p, ig, methodId(method), parameters.normalize, true);
    }
    return out;
}

} // namespace segxai
