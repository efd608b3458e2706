#include "engine/model/inference.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/core/memory_budget.h"
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

// Class by class onto the study's grid: the label is the most probable class there (the first
// of equals), and the probabilities are kept compactly (ClassProbabilities).
void mapClassesToStudy(const torch::Tensor& output, const Geometry& modelGrid, bool reverseAxes,
                       const Geometry& studyGrid, Segmentation& segmentation, JobContext* job) {
    const int64_t classes = output.size(1);
    segmentation.probabilities = ClassProbabilities(studyGrid, size_t(classes));
    segmentation.labels = LabelVolume(studyGrid, "segmentation");
    std::vector<float> best;
    for (int64_t c = 0; c < classes; ++c) {
        Volume p = tensorChannelToVolume(output, c, modelGrid, reverseAxes, segmentation.classNames[size_t(c)]);
        if (!modelGrid.sameGrid(studyGrid)) p = resampleLinear(p, studyGrid);
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
}

// A sliding-window output received slab by slab (forwardModelSlabs): kept whole while every
// class's float32 map fits kFloatWindowSumsBytes and a quarter of the available memory, else reduced at once, slab by
// slab, to the most probable class and the kept class probabilities (ClassProbabilities) on the model's grid, so no
// classes x voxels copy of the output is ever made.
class SlabReduction {
public:
    SlabReduction(const Geometry& grid, bool reverseAxes, bool alreadyProbabilities)
        : m_grid(grid), m_reverseAxes(reverseAxes), m_probabilities(alreadyProbabilities) {}

    void operator()(const OutputSlab& slab) {
        const int64_t classes = slab.values.size(1);
        if (!m_started) {
            m_started = true;
            const uint64_t floatBytes = uint64_t(classes) * m_grid.voxelCount() * 4;
            const uint64_t available = availableMemoryBytes();
            const uint64_t limit = available ? std::min(kFloatWindowSumsBytes, available / 4) : kFloatWindowSumsBytes;
            if (floatBytes <= limit || size_t(classes) <= ClassProbabilities::kKeptPerVoxel) {
                const auto& d = m_grid.dims;
                whole = m_reverseAxes ? torch::zeros({1, classes, d[2], d[1], d[0]})
                                      : torch::zeros({1, classes, d[0], d[1], d[2]});
            } else {
                probabilities = ClassProbabilities(m_grid, size_t(classes));
                labels = LabelVolume(m_grid, "segmentation");
            }
        }
        if (whole.defined()) {
            whole.narrow(2 + slab.axis, slab.first, slab.values.size(2 + slab.axis)).copy_(slab.values);
            return;
        }
        reduce(slab);
    }

    torch::Tensor whole; // [1, K, tensor axes] when kept whole
    ClassProbabilities probabilities;
    LabelVolume labels;

private:
    // Per voxel: the probabilities of every class, the most probable kept with its label.
    void reduce(const OutputSlab& slab) {
        const torch::Tensor p = m_probabilities ? slab.values[0] : torch::softmax(slab.values[0], 0);
        // To [k][j][i][class], the grid's voxel order with the classes of a voxel together.
        const torch::Tensor byVoxel = (m_reverseAxes ? p.permute({1, 2, 3, 0}) : p.permute({3, 2, 1, 0})).contiguous();
        const int gridAxis = m_reverseAxes ? 2 - slab.axis : slab.axis;
        std::array<int64_t, 3> offset{0, 0, 0};
        offset[size_t(gridAxis)] = slab.first;
        const int64_t ni = byVoxel.size(2), nj = byVoxel.size(1), nk = byVoxel.size(0), classes = byVoxel.size(3);
        const float* values = byVoxel.data_ptr<float>();
        // Split by lines of voxels, not by k: a slab is often one k thick.
        parallelFor(nk * nj, [&](int64_t l0, int64_t l1) {
            for (int64_t line = l0; line < l1; ++line) {
                const int64_t k = line / nj, j = line % nj;
                for (int64_t i = 0; i < ni; ++i) {
                    const float* row = values + ((k * nj + j) * ni + i) * classes;
                    const size_t voxel = m_grid.linearIndex(offset[0] + i, offset[1] + j, offset[2] + k);
                    probabilities.setVoxel(voxel, row);
                    labels.labels[voxel] = uint16_t(std::max_element(row, row + classes) - row);
                }
            }
        });
    }

    Geometry m_grid;
    bool m_reverseAxes, m_probabilities, m_started = false;
};

} // namespace

void releaseChannels(Study& study) {
    std::vector<Volume>().swap(study.channels);
}

namespace {

// The tensor dimensions of a [1, C, spatial...] tensor that are the model grid's axes in `flip`.
std::vector<int64_t> flipDims(const FlipAxes& flip, bool reverseAxes) {
    std::vector<int64_t> dims;
    for (int64_t a = 0; a < 3; ++a) {
        if (flip[size_t(a)]) dims.push_back(reverseAxes ? 4 - a : 2 + a);
    }
    return dims;
}

// The model's prediction of its prepared input `x` on `modelGrid`, mirrored along `flip` of
// that grid and mirrored back, mapped onto `studyGrid`.
Segmentation predictPrepared(const Model& model, const torch::Tensor& x, const Geometry& modelGrid,
                             const Geometry& studyGrid, const FlipAxes& flip, JobContext* job) {
    const Model::Impl& m = model.impl();
    const ModelCard& card = m.card;
    const std::vector<int64_t> dims = flipDims(flip, card.reverseAxes);
    torch::Tensor output;
    std::string halfNote;
    SlabReduction reduction(modelGrid, card.reverseAxes, card.outputsProbabilities);
    {
        torch::InferenceMode noAutograd;
        std::optional<JobContext> forwardJob;
        if (job) forwardJob = job->sub(0.1f, 0.85f);
        torch::Tensor input = dims.empty() ? x : torch::flip(x, dims);
        if (card.slidingWindow) {
            forwardModelSlabs(model, std::move(input), forwardJob ? &*forwardJob : nullptr,
                              WindowSums{kFloatWindowSumsBytes, &halfNote}, std::ref(reduction));
            output = reduction.whole;
        } else {
            output = forwardModel(model, input, forwardJob ? &*forwardJob : nullptr);
        }
        if (job) job->progress(0.86f, "mapping back");
        if (output.defined()) {
            toProbabilitiesInPlace(output, card.outputsProbabilities);
            if (!dims.empty()) output = torch::flip(output, dims);
        } else if (!dims.empty()) {
            reduction.probabilities.mirror(flip);
            reduction.labels.labels = mirrored(reduction.labels.labels, modelGrid, flip);
        }
    }

    Segmentation segmentation;
    segmentation.device = m.device.str();
    if (m.tupleOutput) segmentation.notes.push_back(tupleOutputNote(model, "tuple"));
    if (!halfNote.empty()) {
        logInfo("{}", halfNote);
        segmentation.notes.push_back(halfNote);
    }
    const int64_t classes = output.defined() ? output.size(1) : int64_t(reduction.probabilities.size());
    if (const auto note = classCountNote(card, classes)) {
        logWarning("{}", *note);
        segmentation.notes.push_back(*note);
    }
    segmentation.slidingWindow = card.slidingWindow.has_value();
    for (int64_t c = 0; c < classes; ++c)
        segmentation.classNames.push_back(card.className(size_t(c)));
    if (output.defined()) {
        mapClassesToStudy(output, modelGrid, card.reverseAxes, studyGrid, segmentation, job);
    } else if (modelGrid.sameGrid(studyGrid)) {
        segmentation.probabilities = std::move(reduction.probabilities);
        segmentation.labels = std::move(reduction.labels);
        segmentation.labels.geometry = studyGrid;
    } else {
        segmentation.labels.name = "segmentation";
        segmentation.probabilities = reduction.probabilities.resampledLinear(studyGrid, segmentation.labels);
    }
    return segmentation;
}

// The study's channels prepared as the card says, as the model's input tensor.
torch::Tensor preparedTensor(const Model& model, const Study& study, Geometry& modelGrid, Study* releasable) {
    ModelInput input = prepareModelInput(study, model.impl().card, model.expectedInputChannels());
    if (releasable) releaseChannels(*releasable);
    modelGrid = input.grid;
    torch::Tensor x = volumesToTensor(input.channels, model.impl().card.reverseAxes);
    input.channels.clear(); // the tensor holds them now
    return x;
}

Segmentation segment(const Model& model, const Study& study, JobContext* job, Study* releasable) {
    if (model.impl().nnunet) return segmentNnunet(model, study, job, releasable);
    const auto start = std::chrono::steady_clock::now();
    if (job) job->progress(0.02f, "preparing input");
    Geometry modelGrid;
    const torch::Tensor x = preparedTensor(model, study, modelGrid, releasable);
    if (job) job->throwIfStopped();
    Segmentation segmentation = predictPrepared(model, x, modelGrid, study.geometry, {false, false, false}, job);
    segmentation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "segmented");
    return segmentation;
}

// The study mirrored along `flip` in voxel space (its geometry unchanged), channels only.
Study mirroredStudy(const Study& study, const FlipAxes& flip) {
    return transformedStudy(
        study, [&](const Volume& channel, size_t) { return mirrored(channel.voxels, channel.geometry, flip); });
}

} // namespace

struct PreparedStudy::Input {
    Geometry grid;
    torch::Tensor tensor;
};

PreparedStudy::PreparedStudy(const Model& model, const Study& study, JobContext* job) : m_model(model), m_study(study) {
    if (model.impl().nnunet) return;
    if (job) job->progress(0.02f, "preparing input");
    m_input = std::make_unique<Input>();
    m_input->tensor = preparedTensor(model, study, m_input->grid, nullptr);
}

PreparedStudy::~PreparedStudy() = default;

Segmentation PreparedStudy::predict(const FlipAxes& flip, JobContext* job) const {
    const auto start = std::chrono::steady_clock::now();
    Segmentation segmentation;
    if (!m_input) {
        // nnU-Net prepares (crops, resamples, normalises) per prediction; its study is mirrored.
        if (!anyFlip(flip)) return segmentNnunet(m_model, m_study, job);
        segmentation = segmentNnunet(m_model, mirroredStudy(m_study, flip), job);
        segmentation.probabilities.mirror(flip);
        segmentation.labels.labels = mirrored(segmentation.labels.labels, m_study.geometry, flip);
    } else {
        const FlipAxes onModelGrid = flipOnGrid(flip, m_study.geometry, m_input->grid);
        segmentation = predictPrepared(m_model, m_input->tensor, m_input->grid, m_study.geometry, onModelGrid, job);
    }
    segmentation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "segmented");
    return segmentation;
}

Segmentation segmentStudy(const Model& model, const Study& study, JobContext* job) {
    return segment(model, study, job, nullptr);
}

Segmentation segmentStudy(const Model& model, Study&& study, JobContext* job) {
    return segment(model, study, job, &study);
}

} // namespace segxai
