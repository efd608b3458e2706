// `segxai uncertainty`: an ensemble's uncertainty on one study (engine/analysis/ensemble_uncertainty.h)
// as maps, a structure table and a summary.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/analysis/uncertainty_report.h"
#include "engine/core/cpu_usage.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/study_loader.h"

#include <cstdio>
#include <fmt/format.h>

namespace segxai::app {
namespace {

struct UncertaintyCommandOptions {
    StudyOptions study;
    std::vector<std::string> models;
    NnunetOptions nnunet;
    TestTimeAugmentation tta;
    std::vector<std::string> stdClasses;
    int mcDropout = 0;
    uint64_t mcDropoutSeed = 0;
    std::string method, target;
    ParameterOptions parameterOptions;
    std::string out;
};

int run(const UncertaintyCommandOptions& o) {
    UncertaintyOptions options;
    try {
        o.tta.applyTo(options);
    } catch (const Error& e) {
        throw Error(std::string("--tta: ") + e.what());
    }
    const std::optional<StabilityRequest> stability = explanationRequest(o.method, o.target, o.parameterOptions);
    checkOutputFolder(o.out);
    ProgressBar progress("uncertainty");
    JobContext& job = *progress.context();
    const CpuMeter cpu;
    job.progress(0.0f, "loading");
    const bool flips = o.tta.flips();
    options.stdClasses = o.stdClasses;
    options.mcDropoutPasses = o.mcDropout;
    options.mcDropoutSeed = o.mcDropoutSeed;
    // With flips as members of their own, nnU-Net's mirroring inside each fold is off.
    const std::vector<EnsembleMember> members = loadEnsemble(o.models, o.nnunet, !flips);
    const StudyRequest request = matchedToModel(o.study.request(), *members.front().model);
    const Study study = loadStudy(request, nullptr);
    std::vector<std::string> inputs = request.channelPaths;
    inputs.insert(inputs.end(), o.models.begin(), o.models.end());
    if (request.groundTruthPath) inputs.push_back(*request.groundTruthPath);

    JobContext predicting = job.sub(0.0f, 0.95f);
    const UncertaintyRun result = ensembleUncertainty(members, study, options, &predicting, stability);
    job.progress(0.95f, "writing");
    const nlohmann::json summary = writeUncertainty(result, study.groundTruth, o.out, inputs);
    progress.finish();

    std::fprintf(stderr, "%zu members x %zu passes = %zu predictions in %.1f s; %zu structures\n", members.size(),
                 result.passes / members.size(), result.passes, result.seconds, result.instances.instances.size());
    for (const auto& c : summary["classes"]) {
        if (c["voxels"].get<size_t>() == 0) continue;
        std::fprintf(stderr, "  %s: mean entropy %.4f, mutual information %.4f, disagreement %.4f (%zu voxels)\n",
                     c["class"].get<std::string>().c_str(), c["mean_entropy"].get<double>(),
                     c["mean_mutual_information"].get<double>(), c["mean_disagreement"].get<double>(),
                     c["voxels"].get<size_t>());
    }
    if (result.stability) {
        std::fprintf(stderr, "%s of %s by each member: mean rank correlation %.3f, top-5%% overlap %.3f\n",
                     o.method.c_str(), result.target->description.c_str(), result.stability->meanRankCorrelation,
                     result.stability->meanTopOverlap);
    }
    printCpuUsage(cpu);
    return 0;
}

} // namespace

CommandRun registerUncertaintyCommand(CLI::App& parser) {
    auto* c = parser.add_subcommand("uncertainty", "An ensemble's uncertainty: entropy, mutual information, class "
                                                   "deviation and disagreement maps, and each structure's");
    auto o = std::make_shared<UncertaintyCommandOptions>();
    addStudyOptions(*c, o->study, true, true);
    c->add_option("--model", o->models,
                  "A member (repeat for more): TorchScript file, model folder, MONAI bundle, or an nnU-Net results "
                  "folder (each of its folds a member)")
        ->required();
    addNnunetOptions(*c, o->nnunet);
    c->add_option("--tta", o->tta.kind,
                  "Test-time augmentation: none (default), flips (each member on every mirror image, mapped back), "
                  "intensity (seeded gain, gamma and noise), spatial (seeded small rotations and whole-voxel "
                  "shifts, mapped back), or several joined by + (flips+intensity+spatial)");
    c->add_option("--flip-axes", o->tta.flipAxes,
                  "Voxel axes flipped with --tta flips: x, y, z in any combination "
                  "(default xyz: 8 passes per member)");
    c->add_option("--intensity-passes", o->tta.intensityPasses,
                  "Passes per member with --tta intensity, each with its own draw (default 4)")
        ->check(CLI::Range(0, 1000));
    c->add_option("--intensity-strength", o->tta.intensityStrength,
                  "Gain and gamma drawn in [1 - s, 1 + s], noise s / 5 of each channel's range (default 0.1)");
    c->add_option("--intensity-seed", o->tta.intensitySeed, "Seed of the intensity draws (default 0)");
    c->add_option("--spatial-passes", o->tta.spatialPasses,
                  "Passes per member with --tta spatial, each with its own rotation and shift (default 4)")
        ->check(CLI::Range(0, 1000));
    c->add_option(
        "--max-rotation", o->tta.maxRotationDegrees,
        "Rotations about each voxel axis drawn in [-D, D] degrees with --tta spatial (default 5, at most 30)");
    c->add_option(
        "--max-shift", o->tta.maxShiftVoxels,
        "Shifts along each voxel axis drawn in whole voxels in [-N, N] with --tta spatial (default 2, at most "
        "16)");
    c->add_option("--spatial-seed", o->tta.spatialSeed, "Seed of the rotation and shift draws (default 0)");
    c->add_option("--mc-dropout", o->mcDropout,
                  "Monte Carlo dropout: N passes per member and flip with the dropout layers on (scripted models)")
        ->check(CLI::Range(0, 10000));
    c->add_option("--mc-dropout-seed", o->mcDropoutSeed,
                  "Seed of pass 1 of --mc-dropout (pass t: seed + t - 1; default 0)");
    c->add_option("--std-classes", o->stdClasses,
                  "Classes (names or indices) whose probability standard deviation is mapped (default: every class "
                  "but background when there are at most 8)")
        ->delimiter(',');
    c->add_option("--method", o->method,
                  "Explain --target with every member (unflipped) and report how stable the map is across them");
    c->add_option("--target", o->target, "The target of --method (as for explain), resolved on the ensemble's labels");
    addParameterOptions(*c, o->parameterOptions);
    c->add_option("--out", o->out,
                  "Folder for labels, entropy, expected_entropy, mutual_information, disagreement and std_<class> "
                  "(.nii.gz), instances.csv, members.csv and summary.json")
        ->required();
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
