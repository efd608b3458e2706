// Several targets of one input with one forward (engine/torch/gradient_pass.h).
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/sample_lanes.h"

#include <torch/csrc/autograd/autograd.h>

namespace segxai {

std::vector<torch::Tensor> inputGradients(const Model& model, const torch::Tensor& input,
                                          const std::vector<ScoreTarget>& targets, std::vector<double>* scores) {
    std::vector<torch::Tensor> gradients;
    if (scores) scores->clear();
    for (const PassResult& r : gradientPasses(model, input, targets, {}, nullptr)) {
        gradients.push_back(r.inputGradient);
        if (scores) scores->push_back(r.scores[0]);
    }
    return gradients;
}

std::vector<std::vector<torch::Tensor>> camMapsForTargets(const Model& model, const torch::Tensor& input,
                                                          const std::vector<ScoreTarget>& targets,
                                                          const std::string& layer, CamPlusPlusVariant variant,
                                                          std::array<bool, 3> which, JobContext* job,
                                                          std::vector<double>* scores) {
    PassOptions options{layer, true, variant, which};
    options.inputGradient = false;
    std::vector<std::vector<torch::Tensor>> maps;
    if (scores) scores->clear();
    for (PassResult& r : gradientPasses(model, input, targets, options, job)) {
        maps.push_back(std::move(r.cams));
        if (scores) scores->push_back(r.scores[0]);
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
        if (const int lanes = sampleLanes(model, inputs.size(0)); lanes > 1) {
            return joinedOverLanes<std::vector<double>>(model, inputs, lanes, [&](const torch::Tensor& part) {
                return scoresForTargets(model, part, targets);
            });
        }
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
