#include "app/cli/command.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/explain/quadrature.h"
#include "engine/io/study_channels.h"
#include "engine/io/study_loader.h"
#include "engine/model/device.h"

#include <cstdio>
#include <exception>

namespace segxai::app {

int runReportingErrors(const std::function<int()>& body) {
    try {
        return body();
    } catch (const JobCancelled&) {
        std::fprintf(stderr, "segxai: cancelled\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "segxai: error: %s\n", e.what());
    }
    return 1;
}

ExplainParameters ParameterOptions::resolved() const {
    ExplainParameters p = parameters;
    p.rule = parseQuadratureRule(rule);
    p.baseline = parseBaseline(baseline);
    p.variant = variant == "monai" ? CamPlusPlusVariant::Monai : CamPlusPlusVariant::Paper;
    p.normalize = normalize == "max" ? Normalize::Max : normalize == "minmax" ? Normalize::MinMax : Normalize::None;
    p.noiseSampling = parseNoiseSampling(noiseSampling, "--noise-sampling");
    return p;
}

void addParameterOptions(CLI::App& command, ParameterOptions& o) {
    ExplainParameters& p = o.parameters;
    command.add_option("--layer", p.layer,
                       "CAM layer path (segxai layers lists them; default: the card's, else the bottleneck)");
    command.add_option("--samples", p.samples, "SmoothGrad samples (20)")->check(CLI::Range(1, 100000));
    command.add_option("--noise-frac", p.noiseFraction, "SmoothGrad noise: fraction of each channel's range (0.1)")
        ->check(CLI::Range(0.0, 10.0));
    command
        .add_option("--noise-sampling", o.noiseSampling,
                    "SmoothGrad noise: independent (each sample its own draw) or antithetic (pairs +e, -e: "
                    "less variance per sample)")
        ->check(CLI::IsMember({"independent", "antithetic"}));
    command.add_option("--steps", p.steps, "Integrated Gradients steps (20)")->check(CLI::Range(1, 100000));
    command.add_option("--rule", o.rule, "riemann-left, riemann-right, riemann-middle, trapezoid, gauss-legendre");
    command.add_option("--baseline", o.baseline,
                       "zero, min, blur, blur:SIGMA_MM or a value (IG, occlusion, segment features)");
    command.add_option("--window", p.window, "Occlusion cube edge in model voxels (16)")->check(CLI::Range(1, 4096));
    command.add_option("--stride", p.stride, "Occlusion stride in model voxels (16)")->check(CLI::Range(1, 4096));
    command
        .add_option(
            "--feature-cube", p.featureCube,
            "Segment ablation, KernelSHAP: features are cubes of N model voxels (default 0: the predicted segments)")
        ->check(CLI::Range(0, 4096));
    command.add_option("--coalitions", p.coalitions, "KernelSHAP: sampled coalitions (64)")
        ->check(CLI::Range(1, 100000));
    command.add_option("--variant", o.variant, "Seg-Grad-CAM++ variant: paper or monai")
        ->check(CLI::IsMember({"paper", "monai"}));
    command.add_option("--normalize", o.normalize, "none, max or minmax (none)")
        ->check(CLI::IsMember({"none", "max", "minmax"}));
    command.add_option("--seed", p.seed, "Random seed (SmoothGrad, KernelSHAP)");
    command.add_option("--batch", p.batch, "Samples per forward (0: sized to memory)")->check(CLI::Range(0, 4096));
}

StudyRequest StudyOptions::request() const {
    StudyRequest r;
    r.channelPaths = files;
    if (!groundTruth.empty()) r.groundTruthPath = groundTruth;
    r.keepChannelOrder = keepChannelOrder;
    return r;
}

void addStudyOptions(CLI::App& command, StudyOptions& o, bool required, bool groundTruth) {
    auto* study = command.add_option(
        "--study", o.files, "Study channel file (repeat for more channels; matched to the model's inputs by name)");
    if (required) study->required();
    if (groundTruth) command.add_option("--gt", o.groundTruth, "Ground-truth label map");
    command.add_flag(
        "--no-channel-matching", o.keepChannelOrder,
        "Feed the --study files to the model in the order given, without matching their names to its inputs");
}

StudyRequest matchedToModel(StudyRequest request, const Model& model) {
    const ChannelMatch match = matchStudyRequestOrThrow(request, model.card().inputChannels);
    for (const auto& w : match.warnings)
        logWarning("channels: {}", w);
    if (match.outcome == ChannelMatch::Outcome::Reordered) {
        logInfo("channels: {} (matched to the model's inputs by name; --no-channel-matching keeps the given order)",
                match.mapping);
    } else if (match.outcome == ChannelMatch::Outcome::Unrecognised) {
        logInfo("channels: {} (in the order given: {})", match.mapping, match.reason);
    } else if (request.channelPaths.size() > 1) {
        logInfo("channels: {}", match.mapping);
    }
    return request;
}

void addNnunetOptions(CLI::App& command, NnunetOptions& o) {
    command.add_option("--folds", o.folds,
                       "nnU-Net folder: the folds to average (default: every fold with a checkpoint)");
    command.add_option("--checkpoint", o.checkpointName,
                       "nnU-Net folder: the checkpoint file of each fold (checkpoint_final.pth)");
    command.add_option("--configuration", o.configuration,
                       "nnU-Net dataset folder: the configuration to use (default 3d_fullres)");
    command.add_flag("!--no-mirroring", o.mirroring,
                     "nnU-Net folder: no test-time mirroring (on by default where the checkpoint allows it)");
    command.add_option("--step", o.tileStep, "nnU-Net folder: sliding-window step as a fraction of the patch (0.5)")
        ->check(CLI::Range(0.05, 1.0));
}

CommandInputs loadCommandInputs(const StudyOptions& studyOptions, const std::string& model, JobContext& job,
                                const NnunetOptions& nnunet) {
    job.progress(0.0f, "loading");
    auto loadedModel = Model::load(model, nnunet);
    const StudyRequest request = matchedToModel(studyOptions.request(), *loadedModel);
    CommandInputs inputs{loadStudy(request, nullptr), std::move(loadedModel), request.channelPaths, request};
    inputs.paths.push_back(model);
    if (request.groundTruthPath) inputs.paths.push_back(*request.groundTruthPath);
    return inputs;
}

std::optional<StabilityRequest> explanationRequest(const std::string& method, const std::string& target,
                                                   const ParameterOptions& parameters) {
    if (method.empty() && target.empty()) return std::nullopt;
    if (method.empty() || target.empty()) throw Error("--method and --target go together");
    return StabilityRequest{parseMethod(method), parseTargetSpec(target), parameters.resolved()};
}

void printCpuUsage(const CpuMeter& cpu) {
    std::fprintf(stderr, "%d threads; CPU time %.2f s in %.2f s wall (%.2f cores busy)\n", computeDevice().threads,
                 cpu.cpuSeconds(), cpu.wallSeconds(), cpu.cpuPerWall());
}

} // namespace segxai::app
