#include "engine/model/inference.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/core/resample.h"
#include "engine/model/model_input.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_model.h"
#include "engine/torch/tensors.h"

#include <chrono>
#include <fmt/format.h>

namespace segxai {
namespace {

// Per-class probabilities from the model's output [1, K, X, Y, Z].
torch::Tensor toProbabilities(const torch::Tensor& output, bool alreadyProbabilities) {
    if (alreadyProbabilities) return output;
    if (output.size(1) == 1) {
        // One sigmoid channel: background and foreground.
        const torch::Tensor p = torch::sigmoid(output);
        return torch::cat({1.0 - p, p}, 1);
    }
    return torch::softmax(output, 1);
}

// A card whose class list does not match the output channels: the classes are named by index,
// and the log and report say which names have no output (or which outputs no name).
std::optional<std::string> classCountNote(const ModelCard& card, int64_t channels) {
    if (card.classes.empty() || int64_t(card.classes.size()) == channels) return std::nullopt;
    std::vector<std::string> named;
    for (size_t c = 0; c < card.classes.size(); ++c)
        named.push_back(fmt::format("{} '{}'", c, card.classes[c].name));
    return fmt::format(
        "{}: the model card names {} classes ({}) but the model outputs {} channels; classes are "
        "taken by index{}",
        card.source, card.classes.size(), fmt::join(named, ", "), channels,
        int64_t(card.classes.size()) > channels
            ? fmt::format(", and the names from index {} on have no output", channels)
            : fmt::format(", and channels {} to {} are named by their index", card.classes.size(), channels - 1));
}

} // namespace

Segmentation segmentStudy(const Model& model, const Study& study, JobContext* job) {
    if (model.impl().nnunet) return segmentNnunet(model, study, job);
    const auto start = std::chrono::steady_clock::now();
    const Model::Impl& m = model.impl();
    const ModelCard& card = m.card;
    if (job) job->progress(0.02f, "preparing input");
    const ModelInput input = prepareModelInput(study, card, model.expectedInputChannels());
    if (job) job->throwIfStopped();

    torch::Tensor output;
    {
        torch::InferenceMode noAutograd;
        std::optional<JobContext> forwardJob;
        if (job) forwardJob = job->sub(0.1f, 0.85f);
        output =
            forwardModel(model, volumesToTensor(input.channels, card.reverseAxes), forwardJob ? &*forwardJob : nullptr);
        if (job) job->progress(0.86f, "mapping back");
        output = toProbabilities(output, card.outputsProbabilities).contiguous();
    }

    Segmentation segmentation;
    segmentation.device = m.device.str();
    if (m.tupleOutput) segmentation.notes.push_back(tupleOutputNote(model, "tuple"));
    if (const auto note = classCountNote(card, output.size(1))) {
        logWarning("{}", *note);
        segmentation.notes.push_back(*note);
    }
    segmentation.slidingWindow = card.slidingWindow.has_value();
    const int64_t classes = output.size(1);
    for (int64_t c = 0; c < classes; ++c) {
        segmentation.classNames.push_back(card.className(size_t(c)));
        Volume p = tensorChannelToVolume(output, c, input.grid, card.reverseAxes, card.className(size_t(c)));
        if (!input.grid.sameGrid(study.geometry)) p = resampleLinear(p, study.geometry);
        segmentation.probabilities.push_back(std::move(p));
        if (job) job->throwIfStopped();
    }
    segmentation.labels = LabelVolume(study.geometry, "segmentation");
    const size_t voxels = study.geometry.voxelCount();
    for (size_t n = 0; n < voxels; ++n) {
        uint16_t best = 0;
        float bestValue = segmentation.probabilities[0].voxels[n];
        for (int64_t c = 1; c < classes; ++c) {
            const float v = segmentation.probabilities[size_t(c)].voxels[n];
            if (v > bestValue) {
                bestValue = v;
                best = uint16_t(c);
            }
        }
        segmentation.labels.labels[n] = best;
    }
    segmentation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "segmented");
    return segmentation;
}

} // namespace segxai
