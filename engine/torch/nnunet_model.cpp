#include "engine/torch/nnunet_model.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/model/device.h"
#include "engine/model/inference.h"
#include "engine/model/nnunet_preprocess.h"
#include "engine/torch/convolutions.h"
#include "engine/torch/nnunet_network.h"
#include "engine/torch/nnunet_predict.h"
#include "engine/torch/torch_errors.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>

namespace fs = std::filesystem;

namespace segxai {
namespace {

// inference_allowed_mirroring_axes: a tuple of ints, or None (never mirrored; also when absent).
std::optional<std::vector<int>> mirrorAxesOf(const PickleValue& root, const std::string& origin) {
    const PickleValue* axes = find(root, "inference_allowed_mirroring_axes");
    if (!axes || axes->isNone()) return std::nullopt;
    if (!axes->is(PickleValue::Kind::Tuple) && !axes->is(PickleValue::Kind::List))
        throw Error(fmt::format("{}: 'inference_allowed_mirroring_axes' is a {}, not a tuple of axes", origin,
                                axes->describe()));
    std::vector<int> out;
    for (const auto& a : axes->items()) {
        if (!a.is(PickleValue::Kind::Int) || a.asInt() < 0 || a.asInt() > 2)
            throw Error(fmt::format("{}: 'inference_allowed_mirroring_axes' holds {}, not an axis 0, 1 or 2", origin,
                                    a.describe()));
        out.push_back(int(a.asInt()));
    }
    return out;
}

ModelCard cardOf(const NnunetPlan& plan) {
    ModelCard card;
    card.name = plan.datasetName;
    card.description = fmt::format("nnU-Net v2 {} ({}, {}, {})", plan.network.kindName(), plan.trainer, plan.plansName,
                                   plan.configuration);
    card.inputChannels = plan.channelNames;
    for (size_t c = 0; c < plan.labels.names.size(); ++c)
        card.classes.push_back({plan.labels.names[c], defaultClassColor(c)});
    card.camLayer = fmt::format("encoder.stages.{}", plan.network.stages() - 1);
    card.source = plan.folder;
    SlidingWindow window;
    window.patch = plan.patch;
    window.overlap = 0.5;
    card.slidingWindow = window;
    // Tensors hold nnU-Net's internal axis order: the model grid's axes reversed.
    card.reverseAxes = true;
    // Windows start on multiples of the network's total stride, so layer grids of windows agree.
    const auto stride = plan.network.totalStride();
    card.divisibleBy = std::max({stride[0], stride[1], stride[2]});
    return card;
}

std::string axesText(const std::vector<int>& axes) {
    return fmt::format("({})", fmt::join(axes, ", "));
}

} // namespace

void loadNnunetModel(Model::Impl& impl, const std::string& path, const NnunetOptions& options) {
    const NnunetLocation at = locateNnunetFolder(path, options);
    auto ensemble = std::make_shared<NnunetEnsemble>();
    NnunetEnsemble& e = *ensemble;
    e.plan = readNnunetFolder(at.folder, at.options);
    e.mirroring = options.mirroring;
    e.tileStep = options.tileStep;
    const ComputeDevice& device = computeDevice();
    impl.device = device.cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    for (size_t f = 0; f < e.plan.folds.size(); ++f) {
        const std::string& file = e.plan.folds[f].checkpoint;
        const PickleValue root = readTorchCheckpoint(file);
        if (f == 0) {
            e.mirrorAxes = mirrorAxesOf(root, file);
            if (const PickleValue* trainer = find(root, "trainer_name");
                trainer && trainer->is(PickleValue::Kind::String))
                e.trainer = trainer->asString();
        }
        torch::jit::Module network = buildNnunetNetwork(e.plan.network);
        loadNnunetWeights(network, stateDict(root, "network_weights"), file);
        useOwnConvolutions(network);
        for (auto parameter : network.parameters())
            parameter.requires_grad_(false);
        network.to(impl.device);
        e.folds.push_back(std::move(network));
    }
    if (!e.trainer.empty()) e.plan.trainer = e.trainer;
    e.selection.folder = at.folder;
    e.selection.datasetFolder = std::filesystem::path(at.folder).parent_path().string();
    e.selection.options = at.options;
    e.selection.options.folds.clear();
    for (const auto& fold : e.plan.folds)
        e.selection.options.folds.push_back(fold.name);
    e.selection.options.configuration = e.plan.configuration;
    e.selection.availableFolds = nnunetAvailableFolds(at.folder, at.options.checkpointName);
    e.selection.checkpointNames = nnunetCheckpointNames(at.folder);
    for (const auto& folder : nnunetConfigurationFolders(e.selection.datasetFolder))
        e.selection.configurations.push_back(nnunetConfigurationName(folder));
    e.selection.mirrorAxes = e.mirrorAxes;
    impl.module = e.folds[0];
    impl.card = cardOf(e.plan);
    impl.inputChannels = int64_t(e.plan.channelNames.size());
    impl.notes = at.notes;
    impl.notes.insert(impl.notes.end(), e.plan.notes.begin(), e.plan.notes.end());
    std::vector<std::string> folds;
    for (const auto& fold : e.plan.folds)
        folds.push_back(fold.name);
    impl.notes.push_back(fmt::format("nnU-Net {} {}, configuration {}, fold(s) {} ({}), the folds' logits averaged",
                                     e.plan.network.kindName(), e.plan.trainer, e.plan.configuration,
                                     fmt::join(folds, ", "), at.options.checkpointName));
    if (!e.mirrorAxes)
        impl.notes.push_back("mirroring: none (the checkpoint allows no mirroring axes)");
    else if (!e.mirroring)
        impl.notes.push_back(fmt::format("mirroring: off (the checkpoint allows axes {})", axesText(*e.mirrorAxes)));
    else
        impl.notes.push_back(fmt::format("mirroring: over axes {} ({} passes per window)", axesText(*e.mirrorAxes),
                                         e.mirrorCombinations().size() + 1));
    impl.nnunet = std::move(ensemble);
    for (const auto& note : impl.notes)
        logInfo("{}", note);
}

std::vector<ScoreTarget> nnunetScoreTargets(const Model& model, const NnunetCase& recipe,
                                            const std::vector<Target>& targets) {
    const NnunetPlan& plan = *model.nnunetPlan();
    const auto& shape = recipe.modelShape;
    std::vector<ScoreTarget> out;
    for (const Target& t : targets) {
        int64_t head = t.classIndex;
        if (plan.labels.regions) {
            const auto& order = plan.labels.regionOrder;
            const auto it = std::find(order.begin(), order.end(), int(t.classIndex));
            if (it == order.end())
                throw Error(fmt::format("{}: class {} is not one of the regions of this region-based model (its "
                                        "background has no output of its own)",
                                        plan.folder, t.classIndex));
            head = int64_t(it - order.begin());
        }
        const std::vector<float> weights = nnunetTargetWeights(t.mask, recipe, plan);
        out.push_back(
            {torch::from_blob(const_cast<float*>(weights.data()), {shape[0], shape[1], shape[2]}).clone(), head});
    }
    return out;
}

Segmentation segmentNnunet(const Model& model, const Study& study, JobContext* job, Study* releasable) {
    const auto start = std::chrono::steady_clock::now();
    const Model::Impl& m = model.impl();
    const NnunetEnsemble& e = *m.nnunet;
    if (job) job->progress(0.02f, "preprocessing as nnU-Net");
    const NnunetInput input = nnunetPreprocess(study.channels, e.plan);
    if (releasable) releaseChannels(*releasable);
    const auto& shape = input.recipe.modelShape;
    torch::Tensor data = torch::empty({1, int64_t(input.channels.size()), shape[0], shape[1], shape[2]});
    for (size_t c = 0; c < input.channels.size(); ++c)
        std::copy(input.channels[c].voxels.begin(), input.channels[c].voxels.end(),
                  data.data_ptr<float>() + c * input.channels[c].voxels.size());
    if (job) job->throwIfStopped();
    std::vector<uint16_t> logits;
    {
        torch::InferenceMode noAutograd;
        std::optional<JobContext> windows;
        if (job) windows = job->sub(0.1f, 0.9f);
        auto forward = [&](size_t fold, const torch::Tensor& window) {
            try {
                std::lock_guard lock(m.mutex);
                return const_cast<torch::jit::Module&>(e.folds[fold]).forward({window.to(m.device)}).toTensor();
            } catch (const std::exception& error) {
                throw Error(fmt::format("{}: the network's forward failed: {}", e.plan.folds[fold].checkpoint,
                                        torchErrorMessage(error.what())));
            }
        };
        logits = nnunetPredictLogits(e, data, forward, windows ? &*windows : nullptr);
    }
    if (job) job->progress(0.92f, "mapping back");
    // Region models: the network's output r is the region written as label regionOrder[r].
    const NnunetLabels& labels = e.plan.labels;
    const size_t voxels = size_t(shapeVoxels(shape));
    std::vector<uint16_t> classes(labels.names.size() * voxels, 0);
    for (size_t k = 0; k < size_t(labels.heads); ++k) {
        const size_t to = labels.regions ? size_t(labels.regionOrder[k]) : k;
        std::copy(logits.begin() + ptrdiff_t(k * voxels), logits.begin() + ptrdiff_t((k + 1) * voxels),
                  classes.begin() + ptrdiff_t(to * voxels));
    }
    Segmentation s = nnunetExport(classes, input.recipe, e.plan);
    s.device = m.device.str();
    s.slidingWindow = true;
    s.notes = m.notes;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "segmented");
    return s;
}

} // namespace segxai
