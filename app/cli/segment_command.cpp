// `segxai segment`: a study's labels (and probabilities) from a TorchScript model.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/core/cpu_usage.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"
#include "engine/io/study_loader.h"
#include "engine/model/inference.h"

#include <cstdio>
#include <fmt/format.h>

namespace segxai::app {
namespace {

struct SegmentOptions {
    StudyOptions study;
    std::string model;
    std::string out;
    std::string probabilities;
    std::string report;
    NnunetOptions nnunet;
};

// What the segmentation was made of, with the time it took.
nlohmann::json segmentReport(const SegmentOptions& o, const Model& model, const Segmentation& s,
                             const std::vector<size_t>& counts) {
    nlohmann::json r;
    r["model"] = o.model;
    r["model_summary"] = model.summary();
    r["study"] = o.study.files;
    r["device"] = s.device;
    r["seconds"] = s.seconds;
    r["notes"] = s.notes;
    nlohmann::json classes = nlohmann::json::object();
    for (size_t c = 0; c < counts.size(); ++c)
        classes[s.classNames[c]] = counts[c];
    r["label_voxels"] = classes;
    if (const NnunetPlan* plan = model.nnunetPlan()) {
        std::vector<std::string> folds;
        for (const auto& fold : plan->folds)
            folds.push_back(fold.name);
        r["nnunet"] = {{"folder", plan->folder},
                       {"configuration", plan->configuration},
                       {"trainer", plan->trainer},
                       {"plans", plan->plansName},
                       {"network", plan->network.kindName()},
                       {"folds", folds},
                       {"checkpoint", o.nnunet.checkpointName},
                       {"mirroring", o.nnunet.mirroring},
                       {"tile_step", o.nnunet.tileStep}};
    }
    return r;
}

// All class probabilities in one file would need a 4D image; one file per class instead:
// probs.nii.gz -> probs_<class>.nii.gz.
std::string classPath(const std::string& path, const std::string& className) {
    std::string name = className;
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    const std::string ext =
        path.size() > 7 && path.compare(path.size() - 7, 7, ".nii.gz") == 0 ? ".nii.gz" : path.substr(path.rfind('.'));
    return path.substr(0, path.size() - ext.size()) + "_" + name + ext;
}

int run(const SegmentOptions& o) {
    // Outputs are checked before any work: a failure after minutes of computing loses them.
    std::vector<std::string> givenInputs = o.study.files;
    givenInputs.push_back(o.model);
    prepareOutputFile(o.out, givenInputs);
    if (!o.probabilities.empty()) prepareOutputFile(o.probabilities, givenInputs);
    ProgressBar progress("segment");
    const CpuMeter cpu;
    const auto model = Model::load(o.model, o.nnunet);
    const StudyRequest request = matchedToModel(o.study.request(), *model);
    // Only the study's geometry is needed once the model's input is made from it.
    const Segmentation s = segmentStudy(*model, loadStudy(request), progress.context());
    progress.finish();
    std::vector<std::string> inputs = request.channelPaths;
    inputs.push_back(o.model);
    writeLabelVolume(s.labels, o.out, inputs);
    if (!o.probabilities.empty()) {
        for (size_t c = 0; c < s.probabilities.size(); ++c) {
            writeVolume(s.probabilities.volume(c, s.classNames[c]), classPath(o.probabilities, s.classNames[c]),
                        inputs);
        }
    }
    std::vector<size_t> counts(s.classNames.size(), 0);
    for (uint16_t label : s.labels.labels)
        ++counts[label];
    std::fprintf(stderr, "segmented in %.2f s on %s:", s.seconds, s.device.c_str());
    for (size_t c = 0; c < counts.size(); ++c)
        std::fprintf(stderr, " %s %zu", s.classNames[c].c_str(), counts[c]);
    std::fprintf(stderr, " voxels\n");
    if (!o.report.empty()) writeFileAtomically(o.report, readableJson(segmentReport(o, *model, s, counts)), inputs);
    printCpuUsage(cpu);
    return 0;
}

} // namespace

CommandRun registerSegmentCommand(CLI::App& parser) {
    auto* command = parser.add_subcommand("segment", "Segment a study with a TorchScript model");
    auto o = std::make_shared<SegmentOptions>();
    addStudyOptions(*command, o->study, true, false);
    command->add_option("--model", o->model, kModelOptionHelp)->required();
    command->add_option("--out", o->out, "Labels (NIfTI, in the first study file's geometry)")->required();
    command->add_option("--report", o->report,
                        "JSON report: model, folds, mirroring, configuration, time, label counts");
    addNnunetOptions(*command, o->nnunet);
    command->add_option("--probs", o->probabilities,
                        "Also write class probabilities, one file per class: NAME_<class>.nii.gz");
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
