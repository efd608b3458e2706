// `segxai compare-models`: several models (versions) on one study, without ground truth
// (engine/analysis/model_comparison.h): where their labels differ, class by class, and how far
// their explanations of one target agree.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/analysis/model_comparison.h"
#include "engine/core/cpu_usage.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/study_loader.h"

#include <cstdio>
#include <fmt/format.h>

namespace segxai::app {
namespace {

struct CompareModelsOptions {
    StudyOptions study;
    std::vector<std::string> models;
    NnunetOptions nnunet;
    std::string method, target;
    ParameterOptions parameterOptions;
    std::string out;
};

int run(const CompareModelsOptions& o) {
    if (o.models.size() < 2) throw Error("--model: give at least two models to compare");
    const std::optional<StabilityRequest> explanation = explanationRequest(o.method, o.target, o.parameterOptions);
    checkOutputFolder(o.out);
    ProgressBar progress("compare-models");
    JobContext& job = *progress.context();
    const CpuMeter cpu;
    job.progress(0.0f, "loading");
    std::vector<EnsembleMember> models;
    for (const std::string& path : o.models)
        models.push_back({Model::load(path, o.nnunet), path});
    const StudyRequest request = matchedToModel(o.study.request(), *models.front().model);
    const Study study = loadStudy(request, nullptr);
    std::vector<std::string> inputs = request.channelPaths;
    inputs.insert(inputs.end(), o.models.begin(), o.models.end());

    JobContext comparing = job.sub(0.0f, 0.95f);
    const ModelComparison c = compareModels(models, study, explanation, &comparing);
    job.progress(0.95f, "writing");
    writeModelComparison(c, o.out, inputs);
    progress.finish();

    std::fprintf(stderr, "%zu models, reference %s: %.4f of voxels labelled alike\n", models.size(),
                 c.names.front().c_str(), c.voxelAgreement);
    const size_t shown = std::min<size_t>(c.classes.size(), 5);
    for (size_t r = 0; r < shown; ++r) {
        const ClassAgreement& a = c.classes[r];
        std::fprintf(stderr, "  %s in %s: Dice %.3f, %.0f against %.0f mm3\n", a.className.c_str(),
                     c.names[a.model].c_str(), a.dice, a.modelMm3, a.referenceMm3);
    }
    if (c.explanations) {
        std::fprintf(stderr, "%s of %s by each model: mean rank correlation %.3f, top-5%% overlap %.3f\n",
                     o.method.c_str(), c.target->description.c_str(), c.explanations->meanRankCorrelation,
                     c.explanations->meanTopOverlap);
    }
    printCpuUsage(cpu);
    return 0;
}

} // namespace

CommandRun registerCompareModelsCommand(CLI::App& parser) {
    auto* c = parser.add_subcommand("compare-models", "Several models (versions) on one study: class-by-class Dice "
                                                      "and volumes, a disagreement map, and their explanations "
                                                      "compared");
    auto o = std::make_shared<CompareModelsOptions>();
    addStudyOptions(*c, o->study, true, false);
    c->add_option("--model", o->models,
                  "A model (repeat; the first is the reference): TorchScript file, model folder, MONAI bundle or "
                  "nnU-Net results folder")
        ->required();
    addNnunetOptions(*c, o->nnunet);
    c->add_option("--method", o->method, "Explain --target with every model and compare the maps");
    c->add_option("--target", o->target,
                  "The target of --method (as for explain), resolved on the reference's labels; its class is matched "
                  "by name in each model");
    addParameterOptions(*c, o->parameterOptions);
    c->add_option("--out", o->out,
                  "Folder for labels_<k>.nii.gz, disagreement.nii.gz, structures.csv, models.csv, summary.json and "
                  "the explanations")
        ->required();
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
