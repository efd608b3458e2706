// Several targets of one input with one forward (engine/torch/gradient_pass.h).
#include "engine/error.h"
#include "engine/job_runner.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_impl.h"

#include <torch/csrc/autograd/autograd.h>

namespace segxai {
namespace {

torch::Tensor paddedWeights(const Model& model, const ScoreTarget& target) {
    Padding padding;
    return padForModel(model, target.weights.unsqueeze(0), padding).squeeze(0).to(model.impl().device);
}

} // namespace

std::vector<torch::Tensor> inputGradients(const Model& model, const torch::Tensor& input, const std::vector<ScoreTarget>& targets,
                                          std::vector<double>* scores) {
    std::vector<torch::Tensor> gradients;
    if (scores) scores->clear();
    if (model.card().slidingWindow) {
        for (const ScoreTarget& t : targets) {
            const PassResult r = gradientPass(model, input, t, {}, nullptr);
            gradients.push_back(r.inputGradient);
            if (scores) scores->push_back(r.scores[0]);
        }
        return gradients;
    }
    Padding padding;
    const torch::Tensor padded = padForModel(model, input, padding);
    const WindowForward f = forwardWithGrad(model, padded, {});
    for (size_t t = 0; t < targets.size(); ++t) {
        const torch::Tensor score = (classScores(f.output, targets[t].classIndex) * paddedWeights(model, targets[t])).sum();
        const bool more = t + 1 < targets.size();
        const auto grads = torch::autograd::grad({score}, {f.leaf}, {}, /*retain_graph=*/more);
        gradients.push_back(cropSpatial(grads[0].to(torch::kCPU), padding));
        if (scores) scores->push_back(score.item<double>());
    }
    return gradients;
}

std::vector<torch::Tensor> camPlusPlusMaps(const Model& model, const torch::Tensor& input, const std::vector<ScoreTarget>& targets,
                                           const std::string& layer, CamPlusPlusVariant variant, JobContext* job) {
    std::vector<torch::Tensor> maps;
    if (model.card().slidingWindow) {
        for (size_t t = 0; t < targets.size(); ++t) {
            if (job) job->throwIfStopped();
            const PassResult r = gradientPass(model, input, targets[t], {layer, true, variant, {false, false, true}}, nullptr);
            maps.push_back(r.cams[2]);
        }
        return maps;
    }
    Padding padding;
    const torch::Tensor padded = padForModel(model, input, padding);
    const WindowForward f = forwardWithGrad(model, padded, layer);
    if (!f.activation.defined()) throw Error("layer '" + layer + "' gave no activation");
    const std::vector<int64_t> size{padded.size(2), padded.size(3), padded.size(4)};
    for (size_t t = 0; t < targets.size(); ++t) {
        if (job) job->throwIfStopped();
        const torch::Tensor score = (classScores(f.output, targets[t].classIndex) * paddedWeights(model, targets[t])).sum();
        const auto grads = torch::autograd::grad({score}, {f.activation}, {}, /*retain_graph=*/t + 1 < targets.size());
        const torch::Tensor cam = camMaps(f.activation[0].detach(), grads[0][0].detach(), variant, {false, false, true})[2];
        maps.push_back(cropSpatial(upsample(cam, size).to(torch::kCPU), padding));
    }
    return maps;
}

} // namespace segxai
