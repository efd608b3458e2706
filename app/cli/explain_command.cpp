// `segxai explain`: explanation maps of a model's prediction for one target, as NIfTI.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/core/cpu_usage.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/explain/explanation.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"
#include "engine/io/study_loader.h"
#include "engine/model/device.h"
#include "engine/model/inference.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

namespace fs = std::filesystem;

namespace segxai::app {
namespace {

struct ExplainOptions {
    StudyOptions study;
    std::string model;
    std::string method;
    std::string target;
    std::string out;
    std::string report;
    ParameterOptions parameterOptions;
    NnunetOptions nnunet;
};

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// "maps/saliency.nii.gz" + "t1" -> "maps/saliency_t1.nii.gz".
std::string withSuffix(const std::string& path, const std::string& suffix) {
    if (suffix.empty()) return path;
    std::string stem = path, ext;
    for (const char* e : {".nii.gz", ".nii", ".nrrd", ".mha"}) {
        const std::string s(e);
        if (path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0) {
            stem = path.substr(0, path.size() - s.size());
            ext = s;
            break;
        }
    }
    if (ext.empty()) throw Error(path + ": maps are written as NIfTI (.nii.gz or .nii), NRRD or MetaImage");
    return stem + "_" + suffix + ext;
}

int run(ExplainOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    const CpuMeter cpu;
    const ExplainParameters p = o.parameterOptions.resolved();
    const bool allGradient = o.method == "all-gradient";
    std::vector<std::string> inputPaths = o.study.files;
    inputPaths.push_back(o.model);
    if (allGradient) {
        checkOutputFolder(o.out);
    } else {
        prepareOutputFile(o.out, inputPaths);
    }
    if (!o.report.empty()) prepareOutputFile(o.report, inputPaths);
    std::vector<Method> methods;
    if (allGradient) {
        for (Method m : allMethods()) {
            if (isGradientFamily(m)) methods.push_back(m);
        }
    } else {
        methods = {parseMethod(o.method)};
    }
    const TargetSpec spec = parseTargetSpec(o.target);

    ProgressBar progress("explain");
    JobContext& job = *progress.context();
    CommandInputs inputs = loadCommandInputs(o.study, o.model, job, o.nnunet);
    Study& study = inputs.study;
    const auto& model = inputs.model;
    const double loadSeconds = since(start);
    auto segmentStep = job.sub(0.0f, 0.15f);
    // The study's voxels are released while the segmentation's windows run and read again for
    // the explanation: a 512 x 512 x 400 CT holds 0.4 GB in float32, at the segmentation's peak
    // (docs/performance.md#the-scale-benchmark); reading it again costs seconds.
    Segmentation segmentation = segmentStudy(*model, std::move(study), &segmentStep);
    const Target target = resolveTarget(spec, study, segmentation, p.instances);
    // The explanation needs the labels at most (as the features of segment ablation and
    // KernelSHAP): the class probabilities (16 bytes per voxel for many classes), and the labels
    // when no method uses them, go before the work that needs the most memory, and the pages
    // the segmentation's windows freed go back to the system, so the explanation's windows do
    // not stack on the segmentation's heap (at the scale benchmark: 8.4 GB -> see
    // docs/performance.md#the-scale-benchmark).
    segmentation.probabilities = ClassProbabilities();
    const bool needsSegments = std::any_of(methods.begin(), methods.end(), isFeatureMethod);
    if (!needsSegments) segmentation.labels = LabelVolume();
    releaseFreedMemory();
    study.channels = loadStudy(inputs.request, nullptr).channels;
    const auto methodStart = std::chrono::steady_clock::now();
    auto explainStep = job.sub(0.15f, 1.0f);
    // Its voxels go again once they are on the model's grid (the maps are written on its geometry).
    const std::vector<Explanation> explanations = explain(*model, std::move(study), target, methods, p, &explainStep,
                                                          needsSegments ? &segmentation.labels : nullptr);
    const double methodSeconds = since(methodStart);
    progress.finish();

    const std::vector<std::string>& protectedPaths = inputs.paths;
    if (allGradient) fs::create_directories(o.out);
    nlohmann::json reports = nlohmann::json::array();
    std::vector<std::string> written;
    for (const Explanation& e : explanations) {
        const std::string base =
            allGradient ? (fs::path(o.out) / (std::string(methodId(e.method)) + ".nii.gz")).string() : o.out;
        const bool perChannel = e.maps.size() > 1;
        for (const ExplanationMap& map : e.maps) {
            const std::string path = withSuffix(base, perChannel ? map.channel : "");
            writeVolume(inStudyGrid(map, study.geometry), path, protectedPaths);
            written.push_back(path);
        }
        if (e.layerMap) {
            const std::string path = withSuffix(base, "layer");
            writeVolume(*e.layerMap, path, protectedPaths);
            written.push_back(path);
        }
        nlohmann::json r = e.report();
        r["files"] = written;
        written.clear();
        reports.push_back(r);
        for (const auto& w : e.warnings)
            std::fprintf(stderr, "segxai: warning: %s\n", w.c_str());
    }
    const double total = since(start);
    nlohmann::json report = allGradient ? nlohmann::json{{"methods", reports}} : reports[0];
    report["study"] = inputs.study.sourcePaths;
    report["model"] = o.model;
    report["target_spec"] = o.target;
    report["timing_s"] = {
        {"load", loadSeconds}, {"segment", segmentation.seconds}, {"method", methodSeconds}, {"total", total}};
    report["device"] = segmentation.device;
    report["threads"] = computeDevice().threads;
    report["cpu_s"] = cpu.cpuSeconds();
    // CPU time per wall time over the whole run: near "threads" when every core was busy.
    report["cpu_per_wall"] = cpu.cpuPerWall();
    if (!segmentation.notes.empty()) report["model_notes"] = segmentation.notes;
    if (!o.report.empty()) writeFileAtomically(o.report, readableJson(report), protectedPaths);
    std::fprintf(stderr, "%s: %s, S = %.6g, %.2f s (total %.2f s)\n",
                 allGradient ? "all-gradient" : methodId(methods[0]), target.description.c_str(), explanations[0].score,
                 methodSeconds, total);
    return 0;
}

} // namespace

CommandRun registerExplainCommand(CLI::App& parser) {
    auto* command = parser.add_subcommand("explain", "Explain a model's segmentation of one target (NIfTI maps)");
    auto o = std::make_shared<ExplainOptions>();
    ExplainParameters& p = o->parameterOptions.parameters;
    addStudyOptions(*command, o->study);
    command->add_option("--model", o->model, kModelOptionHelp)->required();
    addNnunetOptions(*command, o->nnunet);
    command
        ->add_option("--method", o->method,
                     "seg-grad-cam, seg-hires-grad-cam, seg-grad-cam++, saliency, saliency-abs, input-x-gradient, "
                     "smoothgrad, integrated-gradients, occlusion, segment-ablation, kernel-shap, or all-gradient "
                     "(every gradient-family map from one pass, into the folder --out)")
        ->required();
    command
        ->add_option("--target", o->target,
                     "class:C, class:C:P, instance:I,J,K, gt-instance:I,J,K, mask:FILE, box:I0,J0,K0,I1,J1,K1, "
                     "voxel:I,J,K, channel:C (voxels of the first study file)")
        ->required();
    addParameterOptions(*command, o->parameterOptions);
    command->add_option("--connectivity", p.instances.connectivity, "Instance connectivity: 6, 18 or 26 (26)")
        ->check(CLI::IsMember({6, 18, 26}));
    command->add_option("--min-size", p.instances.minimumSize, "Smallest instance in voxels (0)");
    command->add_option("--out", o->out, "Map file (.nii.gz); a folder for all-gradient")->required();
    command->add_option("--report", o->report, "JSON report: target, score, parameters, timing");
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
