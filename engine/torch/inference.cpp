#include "engine/model/inference.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
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

// Class sums of sliding windows beyond this size are kept in half precision (as nnU-Net does):
// 105 classes on a 181 x 217 x 181 grid would need 3 GB in float32.
constexpr uint64_t kFloatWindowSumsBytes = 1ull << 30;

// The model's output [1, K, X, Y, Z] (float32 or half) as per-class probabilities, in place:
// the softmax is taken slab by slab along X, so that no second classes x voxels copy is made.
void toProbabilitiesInPlace(torch::Tensor& output, bool alreadyProbabilities) {
    if (alreadyProbabilities) return;
    if (output.size(1) == 1) {
        // One sigmoid channel: background and foreground.
        const torch::Tensor p = torch::sigmoid(output.to(torch::kFloat32));
        output = torch::cat({1.0 - p, p}, 1);
        return;
    }
    const int64_t slab = 8;
    for (int64_t x = 0; x < output.size(2); x += slab) {
        torch::Tensor part = output.slice(2, x, std::min(output.size(2), x + slab));
        part.copy_(torch::softmax(part.to(torch::kFloat32), 1));
    }
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
    std::string halfNote;
    {
        torch::InferenceMode noAutograd;
        std::optional<JobContext> forwardJob;
        if (job) forwardJob = job->sub(0.1f, 0.85f);
        output = forwardModel(model, volumesToTensor(input.channels, card.reverseAxes),
                              forwardJob ? &*forwardJob : nullptr, true, WindowSums{kFloatWindowSumsBytes, &halfNote});
        if (job) job->progress(0.86f, "mapping back");
        toProbabilitiesInPlace(output, card.outputsProbabilities);
    }

    Segmentation segmentation;
    segmentation.device = m.device.str();
    if (m.tupleOutput) segmentation.notes.push_back(tupleOutputNote(model, "tuple"));
    if (!halfNote.empty()) {
        logInfo("{}", halfNote);
        segmentation.notes.push_back(halfNote);
    }
    if (const auto note = classCountNote(card, output.size(1))) {
        logWarning("{}", *note);
        segmentation.notes.push_back(*note);
    }
    segmentation.slidingWindow = card.slidingWindow.has_value();
    const int64_t classes = output.size(1);
    // Class by class onto the study's grid: the label is the most probable class there (the
    // first of equals), and the probabilities are kept compactly (ClassProbabilities).
    segmentation.probabilities = ClassProbabilities(study.geometry, size_t(classes));
    segmentation.labels = LabelVolume(study.geometry, "segmentation");
    std::vector<float> best;
    for (int64_t c = 0; c < classes; ++c) {
        segmentation.classNames.push_back(card.className(size_t(c)));
        Volume p = tensorChannelToVolume(output, c, input.grid, card.reverseAxes, card.className(size_t(c)));
        if (!input.grid.sameGrid(study.geometry)) p = resampleLinear(p, study.geometry);
        if (c == 0) {
            best = p.voxels;
        } else {
            auto& labels = segmentation.labels.labels;
            parallelFor(
                int64_t(best.size()),
                [&](int64_t n0, int64_t n1) {
                    for (int64_t n = n0; n < n1; ++n) {
                        if (p.voxels[size_t(n)] > best[size_t(n)]) {
                            best[size_t(n)] = p.voxels[size_t(n)];
                            labels[size_t(n)] = uint16_t(c);
                        }
                    }
                },
                1 << 16);
        }
        segmentation.probabilities.offer(size_t(c), p.voxels);
        if (job) job->throwIfStopped();
    }
    segmentation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "segmented");
    return segmentation;
}

} // namespace segxai
