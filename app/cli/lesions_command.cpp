// `segxai lesions`: the lesion-level analysis of a study (engine/lesion_report.h) as files.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/lesion_report.h"
#include "engine/analysis/report_numbers.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/study_loader.h"
#include "engine/model/inference.h"

#include <cstdio>
#include <fmt/format.h>
#include <sstream>

namespace segxai::app {
namespace {

struct LesionsOptions {
    StudyOptions study;
    std::string model;
    std::string out;
    std::vector<std::string> methods{"smoothgrad", "seg-grad-cam++"};
    std::string layer;
    bool noMaps = false;
    bool allContext = false;
    bool uncertainty = false;
    std::vector<std::string> uncertaintyModels;
    LesionAnalysisOptions analysis;
};

// "TP 0.061, FP 0.210 (Mann-Whitney p = 0.03)".
std::string groupMedians(const GroupComparison& c) {
    std::string line;
    for (const auto& [group, values] : c.values)
        line += fmt::format("{}{} {:.3f}", line.empty() ? "" : ", ", group, median(values));
    if (c.tpVersusFp) line += fmt::format(" (TP vs FP Mann-Whitney p = {:.3g})", c.tpVersusFp->pValue);
    return line;
}

int run(LesionsOptions& o) {
    LesionExplainOptions& e = o.analysis.explain;
    try {
        setLesionMethods(e, o.methods);
    } catch (const Error& error) {
        throw Error(std::string("--methods: ") + error.what());
    }
    e.layer = o.layer;
    checkOutputFolder(o.out);
    o.analysis.contextAllLesions = o.allContext;
    o.analysis.context = o.analysis.contextMaxMm > 0.0;

    ProgressBar progress("lesions");
    JobContext& job = *progress.context();
    const CommandInputs inputs = loadCommandInputs(o.study, o.model, job);
    const Study& study = inputs.study;
    const auto& model = inputs.model;
    JobContext segmenting = job.sub(0.0f, 0.1f);
    const Segmentation segmentation = segmentStudy(*model, study, &segmenting);
    JobContext analysing = job.sub(0.1f, 1.0f);
    LesionAnalysis analysis = analyseLesions(*model, study, segmentation, o.analysis, &analysing);
    if (o.uncertainty || !o.uncertaintyModels.empty()) {
        // The ensemble: the model (an nnU-Net folder's folds each) and the other members.
        std::vector<std::string> paths{o.model};
        paths.insert(paths.end(), o.uncertaintyModels.begin(), o.uncertaintyModels.end());
        job.progress(1.0f, "uncertainty of the ensemble");
        const UncertaintyRun run = ensembleUncertainty(loadEnsemble(paths, {}, true), study, {});
        analysis.uncertainty = lesionUncertainty(analysis.lesions, run.maps);
    }
    progress.finish();
    writeLesionAnalysis(analysis, study, o.out, !o.noMaps, inputs.paths);

    std::map<std::string, int> groups;
    for (const Lesion& l : analysis.lesions.lesions)
        ++groups[lesionGroupName(l.group)];
    std::ostringstream line;
    line << analysis.lesions.lesions.size() << " lesions";
    for (const auto& [group, count] : groups)
        line << ", " << count << " " << group;
    if (analysis.lesions.hasTruth) {
        line << fmt::format("; sensitivity {:.2f}, precision {:.2f}, F1 {:.2f}, voxel Dice {:.3f}",
                            analysis.lesions.sensitivity, analysis.lesions.precision, analysis.lesions.f1,
                            analysis.lesions.voxelDice);
    }
    std::fprintf(stderr, "%s (%.1f s)\n", line.str().c_str(), analysis.seconds);
    if (analysis.uncertainty) {
        const GroupComparison& mi = analysis.uncertainty->comparisons.front();
        std::fprintf(stderr, "  uncertainty of %zu members: median mutual information %s\n",
                     analysis.uncertainty->members.size(), groupMedians(mi).c_str());
    }
    for (const Finding& f : analysis.findings) {
        std::fprintf(stderr, "  %s: %s (%s)\n", f.name.c_str(),
                     !f.holds   ? "not assessable"
                     : *f.holds ? "holds"
                                : "does not hold",
                     f.evidence.c_str());
    }
    return 0;
}

} // namespace

CommandRun registerLesionsCommand(CLI::App& parser) {
    auto* c = parser.add_subcommand("lesions", "Lesion-level analysis: TP/FP/FN lesions, their SmoothGrad and "
                                               "Seg-Grad-CAM++ maps, saliency in rings around them, peak saliency per "
                                               "group, and the context each needs");
    auto o = std::make_shared<LesionsOptions>();
    LesionAnalysisOptions& a = o->analysis;
    addStudyOptions(*c, o->study, true, false);
    c->add_option("--gt", o->study.groundTruth, "Ground-truth lesion mask (non-zero = lesion): TP, FP and FN need it");
    c->add_option("--model", o->model, kModelOptionHelp)->required();
    c->add_option("--out", o->out,
                  "Folder for instances.csv, rings.csv, context.csv, peaks.csv, summary.json, "
                  "lesions.nii.gz and maps/")
        ->required();
    c->add_option("--methods", o->methods,
                  "smoothgrad (the lesion's whole score), smoothgrad-max (max-magnitude over the "
                  "lesion's chunks; a backward per chunk), seg-grad-cam++, or none "
                  "(default smoothgrad,seg-grad-cam++)")
        ->delimiter(',');
    c->add_option("--samples", a.explain.samples, "SmoothGrad samples (default 20; the MS study used 50)");
    c->add_option("--noise-frac", a.explain.noiseFraction,
                  "SmoothGrad noise, fraction of each channel's range (default 0.10; "
                  "the MS study used 0.05)");
    c->add_option("--seed", a.explain.seed, "Noise seed (default 0)");
    c->add_option("--max-chunks", a.explain.maxChunks, "Chunks per lesion of the max-magnitude variant (default 8)");
    c->add_option("--layer", o->layer, "Seg-Grad-CAM++ layer (default: the model card's)");
    c->add_option("--context-max-mm", a.contextMaxMm,
                  "Context experiment up to D mm around each lesion, 0 to skip (default 10)");
    c->add_option("--context-step-mm", a.contextStepMm, "... in steps of this many mm (default 1)");
    c->add_flag("--context-all", o->allContext, "Context experiment on every lesion, not only the true positives");
    c->add_option("--threshold", a.lesions.threshold, "Probability above which a voxel is lesion (default 0.5)");
    c->add_option("--connectivity", a.lesions.connectivity, "6, 18 or 26 (default 18, as the MS study)")
        ->check(CLI::IsMember({6, 18, 26}));
    c->add_option("--min-size", a.lesions.minimumSize,
                  "Smallest lesion in voxels (default 6: the MS study dropped 5 or fewer)");
    c->add_option("--class", a.lesions.classIndex, "The lesion class index (default 1)");
    c->add_flag("--no-maps", o->noMaps, "Do not write each lesion's maps as NIfTI");
    c->add_flag("--uncertainty", o->uncertainty,
                "Each lesion's uncertainty under the ensemble of the model (an nnU-Net folder: its folds) and "
                "--uncertainty-model: columns in instances.csv, TP/FP/FN compared in summary.json");
    c->add_option("--uncertainty-model", o->uncertaintyModels,
                  "Another member of that ensemble (repeat; implies --uncertainty)");
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
