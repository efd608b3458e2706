// Several targets of one input with one forward (engine/torch/gradient_pass.h).
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"

#include <torch/csrc/autograd/autograd.h>

namespace segxai {
namespace {

torch::Tensor paddedWeights(const Model& model, const ScoreTarget& target) {
    Padding padding;
    return padForModel(model, target.weights.unsqueeze(0), padding).squeeze(0).to(model.impl().device);
}

} // namespace

std::vector<torch::Tensor> inputGradients(const Model& model, const torch::Tensor& input,
                                          const std::vector<ScoreTarget>& targets, std::vector<double>* scores) {
    std::vector<torch::Tensor> gradients;
    if (scores) scores->clear();
    if (model.card().slidingWindow) {
        for (const PassResult& r : gradientPasses(model, input, targets, {}, nullptr)) {
            gradients.push_back(r.inputGradient);
            if (scores) scores->push_back(r.scores[0]);
        }
        return gradients;
    }
    Padding padding;
    const torch::Tensor padded = padForModel(model, input, padding);
    const WindowForward f = forwardWithGrad(model, padded, {});
    for (size_t t = 0; t < targets.size(); ++t) {
        const torch::Tensor score =
            (classScores(f.output, targets[t].classIndex) * paddedWeights(model, targets[t])).sum();
        const bool more = t + 1 < targets.size();
        const auto grads = torch::autograd::grad({score}, {f.leaf}, {}, /*retain_graph=*/more);
        gradients.push_back(cropSpatial(grads[0].to(torch::kCPU), padding));
        if (scores) scores->push_back(score.item<double>());
    }
    return gradients;
}

std::vector<std::vector<torch::Tensor>> camMapsForTargets(const Model& model, const torch::Tensor& input,
                                                          const std::vector<ScoreTarget>& targets,
                                                          const std::string& layer, CamPlusPlusVariant variant,
                                                          std::array<bool, 3> which, JobContext* job) {
    std::vector<std::vector<torch::Tensor>> maps;
    if (model.card().slidingWindow) {
        PassOptions options{layer, true, variant, which};
        options.inputGradient = false;
        for (PassResult& r : gradientPasses(model, input, targets, options, job))
            maps.push_back(std::move(r.cams));
        return maps;
    }
    Padding padding;
    const torch::Tensor padded = padForModel(model, input, padding);
    const WindowForward f = forwardWithGrad(model, padded, layer);
    if (!f.activation.defined()) throw Error("layer '" + layer + "' gave no activation");
    const std::vector<int64_t> size{padded.size(2), padded.size(3), padded.size(4)};
    for (size_t t = 0; t < targets.size(); ++t) {
        if (job) job->throwIfStopped();
        const torch::Tensor score =
            (classScores(f.output, targets[t].classIndex) * paddedWeights(model, targets[t])).sum();
        const auto grads = torch::autograd::grad({score}, {f.activation}, {}, /*retain_graph=*/t + 1 < targets.size());
        std::vector<torch::Tensor> cams;
        for (const torch::Tensor& cam : camMaps(f.activation[0].detach(), grads[0][0].detach(), variant, which)) {
            cams.push_back(cam.defined() ? cropSpatial(upsample(cam, size).to(torch::kCPU), padding) : cam);
        }
        maps.push_back(std::move(cams));
    }
    return maps;
}

std::vector<std::vector<double>> scoresForTargets(const Model& model, const torch::Tensor& inputs,
                                                  const std::vector<ScoreTarget>& targets) {
    torch::InferenceMode noGrad;
    std::vector<std::vector<double>> scores;
    auto score = [&](const torch::Tensor& out) {
        std::vector<double> row;
        for (const ScoreTarget& t : targets)
            row.push_back((classScores(out, t.classIndex).to(torch::kCPU)[0] * t.weights).sum().item<double>());
        return row;
    };
    if (!model.card().slidingWindow) {
        const torch::Tensor out = forwardModel(model, inputs, nullptr, false);
        for (int64_t b = 0; b < out.size(0); ++b)
            scores.push_back(score(out.slice(0, b, b + 1)));
        return scores;
    }
    for (int64_t b = 0; b < inputs.size(0); ++b)
        scores.push_back(score(forwardModel(model, inputs.slice(0, b, b + 1), nullptr, false)));
    return scores;
}

} // namespace segxai
