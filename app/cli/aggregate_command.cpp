// `segxai aggregate`: the Agg2Exp class x segment matrix of one study or a cohort (CSV), and
// `segxai evaluate`: the faithfulness benchmark of several methods.
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "engine/analysis/aggregation.h"
#include "engine/batch/batch_config.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/memory_budget.h"
#include "engine/explain/faithfulness.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_text.h"
#include "engine/io/manifest.h"
#include "engine/io/study_channels.h"
#include "engine/io/study_loader.h"
#include "engine/model/inference.h"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <functional>

namespace fs = std::filesystem;

namespace segxai::app {
namespace {

struct CohortOptions {
    StudyOptions study;
    std::string manifest;
    std::string model;
    std::string classes = "all";
    ParameterOptions parameters;
};

// The studies to run: --study files as one study, or every row of --manifest, with their
// channels in the model's input order.
std::vector<ManifestEntry> studiesOf(const CohortOptions& o, const Model& model) {
    if (!o.manifest.empty() && !o.study.files.empty()) throw Error("give --study files or --manifest, not both");
    if (!o.manifest.empty()) {
        Manifest m = readManifest(o.manifest);
        if (m.studies.empty()) throw Error(o.manifest + ": no studies");
        const ChannelMatch match = matchManifest(m, model.card().inputChannels, o.study.keepChannelOrder, o.manifest);
        if (match.reorders())
            logInfo("channels: {} (manifest columns matched to the model's inputs by name)", match.mapping);
        return m.studies;
    }
    if (o.study.files.empty())
        throw Error("give the study's files (--study, one per channel) or a cohort (--manifest)");
    ManifestEntry e;
    e.id = fs::path(o.study.files.front()).filename().string();
    e.request = matchedToModel(o.study.request(), model);
    return {e};
}

// --classes as class indices (empty: every foreground class).
std::vector<int> classesOf(const std::string& text, const Segmentation& s) {
    try {
        return parseClassList(text, s.classNames);
    } catch (const Error& e) {
        throw Error(std::string("--classes: ") + e.what());
    }
}

void addCohortOptions(CLI::App* c, CohortOptions& o) {
    addStudyOptions(*c, o.study, false, false);
    c->add_option("--manifest", o.manifest, "A cohort: CSV with a header id,<channel>...[,gt] and a study per row");
    c->add_option("--model", o.model, kModelOptionHelp)->required();
    c->add_option("--classes", o.classes,
                  "Target classes: all (the foreground classes) or names / indices, comma-separated");
    addParameterOptions(*c, o.parameters);
}

// Loads and segments each study in turn (progress split evenly between studies, the first
// `segmentShare` of each for segmenting) and hands it to `body`, which may let go of its voxels.
// Returns the input paths outputs must never replace: --model and every study's channels.
std::vector<std::string>
forEachStudy(const std::vector<ManifestEntry>& entries, const std::string& modelArgument, const Model& model,
             JobContext& job, float segmentShare,
             const std::function<void(const ManifestEntry&, Study&, const Segmentation&, JobContext&)>& body) {
    std::vector<std::string> inputs{modelArgument};
    for (size_t s = 0; s < entries.size(); ++s) {
        JobContext study = job.sub(float(s) / float(entries.size()), float(s + 1) / float(entries.size()));
        study.progress(0.0f, "loading " + entries[s].id);
        Study loaded = loadStudy(entries[s].request);
        for (const auto& path : entries[s].request.channelPaths)
            inputs.push_back(path);
        JobContext segmenting = study.sub(0.0f, segmentShare), rest = study.sub(segmentShare, 1.0f);
        // As `segxai explain` does: the study's voxels go while the segmentation's windows run
        // and are read again afterwards (a body CT: 0.4 GB at the segmentation's peak, seconds
        // to read).
        Segmentation segmentation = segmentStudy(model, std::move(loaded), &segmenting);
        // Aggregation and the benchmark take their targets and features from the labels: the
        // class probabilities (16 bytes per study voxel with many classes) and the pages the
        // segmentation's windows freed go before the explanations.
        segmentation.probabilities = ClassProbabilities();
        releaseFreedMemory();
        loaded.channels = loadStudy(entries[s].request).channels;
        body(entries[s], loaded, segmentation, rest);
    }
    return inputs;
}

struct AggregateOptions : CohortOptions {
    std::string method;
    std::string out;
};

int runAggregate(const AggregateOptions& o) {
    prepareOutputFile(o.out, o.study.files);
    const Method method = parseMethod(o.method);
    const ExplainParameters p = o.parameters.resolved();
    const auto model = Model::load(o.model);
    const auto entries = studiesOf(o, *model);
    ProgressBar progress("aggregate");
    std::vector<AggregationMatrix> matrices;
    const std::vector<std::string> inputs = forEachStudy(
        entries, o.model, *model, *progress.context(), 0.1f,
        [&](const ManifestEntry& entry, Study& loaded, const Segmentation& segmentation, JobContext& explaining) {
            // The voxels go once on the model's grid: the chunks need only the study's geometry.
            matrices.push_back(aggregateStudy(*model, std::move(loaded), segmentation, method, p,
                                              classesOf(o.classes, segmentation), &explaining));
            if (matrices.back().classNames != matrices[0].classNames ||
                matrices.back().targetClasses != matrices[0].targetClasses) {
                throw Error("study " + entry.id + " does not have the first study's classes");
            }
        });
    progress.finish();
    const auto columns = aggregationColumns(matrices.front());
    std::string csv = "study";
    for (const auto& c : columns)
        csv += "," + c;
    csv += "\n";
    auto row = [&](const std::string& id, const AggregationMatrix& m) {
        std::string line = id;
        for (double v : aggregationRow(m))
            line += fmt::format(",{:.6g}", v);
        return line + "\n";
    };
    for (size_t s = 0; s < matrices.size(); ++s)
        csv += row(entries[s].id, matrices[s]);
    writeFileAtomically(o.out, csv, inputs);
    const AggregationMatrix mean = cohortMean(matrices);
    if (matrices.size() > 1) {
        const fs::path out(o.out);
        const std::string cohort = (out.parent_path() / (out.stem().string() + "_cohort_mean.csv")).string();
        std::string text = "study";
        for (const auto& c : columns)
            text += "," + c;
        writeFileAtomically(cohort, text + "\n" + row("cohort_mean", mean), inputs);
    }
    // The cohort's |E| masses, rows = target classes, on stderr.
    std::fprintf(stderr, "%s: share of each class's |attribution| per predicted segment (%zu stud%s)\n",
                 o.method.c_str(), matrices.size(), matrices.size() == 1 ? "y" : "ies");
    std::fprintf(stderr, "%-14s", "class \\ in");
    for (const auto& name : mean.classNames)
        std::fprintf(stderr, " %10.10s", name.c_str());
    std::fprintf(stderr, "\n");
    for (size_t r = 0; r < mean.rows.size(); ++r) {
        std::fprintf(stderr, "%-14.14s", mean.classNames[size_t(mean.targetClasses[r])].c_str());
        for (size_t k = 0; k < mean.classNames.size(); ++k)
            std::fprintf(stderr, " %10.3f", mean.mass(AttributionPart::Absolute, r, k));
        std::fprintf(stderr, "\n");
    }
    return 0;
}

struct EvaluateOptions : CohortOptions {
    std::vector<std::string> methods{"saliency",   "input-x-gradient",     "seg-grad-cam",     "seg-hires-grad-cam",
                                     "smoothgrad", "integrated-gradients", "segment-ablation", "kernel-shap"};
    std::vector<std::string> metrics;
    MetricOptions metricOptions;
    std::string out;
};

int runEvaluate(EvaluateOptions& o) {
    checkOutputFolder(o.out);
    Benchmark b;
    for (const auto& m : o.methods)
        b.methods.push_back(parseMethod(m));
    b.metrics = o.metrics.empty() ? allMetrics() : std::vector<Metric>{};
    for (const auto& m : o.metrics)
        b.metrics.push_back(parseMetric(m));
    b.options = o.metricOptions;
    b.options.baseline = parseBaseline(o.parameters.baseline);
    const ExplainParameters p = o.parameters.resolved();
    const auto model = Model::load(o.model);
    const auto entries = studiesOf(o, *model);
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec) throw Error(o.out + ": cannot create the folder (" + ec.message() + ")");
    ProgressBar progress("evaluate");
    const std::vector<std::string> inputs = forEachStudy(
        entries, o.model, *model, *progress.context(), 0.05f,
        [&](const ManifestEntry& entry, Study& loaded, const Segmentation& segmentation, JobContext& evaluating) {
            std::vector<Target> targets = classTargets(loaded, segmentation, classesOf(o.classes, segmentation));
            for (Target& t : targets)
                t.description = entry.id + ": " + t.description;
            const auto evaluations = evaluateMethods(*model, loaded, targets, b.methods, p, b.metrics, b.options,
                                                     &segmentation.labels, &evaluating);
            b.evaluations.insert(b.evaluations.end(), evaluations.begin(), evaluations.end());
        });
    progress.finish();
    b.summarise();
    const fs::path out(o.out);
    writeFileAtomically((out / "benchmark.csv").string(), b.csv(), inputs);
    writeFileAtomically((out / "benchmark.json").string(), readableJson(b.toJson()) + "\n", inputs);
    writeFileAtomically((out / "curves.csv").string(), b.curvesCsv(), inputs);
    std::fprintf(stderr, "%-22s", "method");
    std::vector<std::string> shown;
    for (Metric m : b.metrics) {
        if (m == Metric::Deletion) {
            shown.push_back("deletion-morf");
        } else if (m == Metric::Insertion) {
            shown.push_back("insertion-morf");
        } else {
            shown.push_back(metricId(m));
        }
    }
    for (const auto& s : shown)
        std::fprintf(stderr, " %16.16s", s.c_str());
    std::fprintf(stderr, " %10s\n", "s/target");
    for (Method m : b.methods) {
        const std::string id = methodId(m);
        std::fprintf(stderr, "%-22s", id.c_str());
        for (const auto& s : shown) {
            auto it = b.summary[id].find(s);
            if (it == b.summary[id].end()) {
                std::fprintf(stderr, " %16s", "-");
            } else {
                std::fprintf(stderr, " %16s",
                             fmt::format("{:.3f}+-{:.3f}", it->second.first, it->second.second).c_str());
            }
        }
        std::fprintf(stderr, " %10.2f\n", b.seconds[id]);
    }
    std::fprintf(stderr, "most faithful: %s (%s)\n", b.mostFaithful.empty() ? "-" : b.mostFaithful.c_str(),
                 b.ranking.c_str());
    return 0;
}

} // namespace

CommandRun registerAggregateCommand(CLI::App& parser) {
    auto* c =
        parser.add_subcommand("aggregate", "Agg2Exp: where each class's attribution lies across the predicted segments "
                                           "(a class x segment matrix per study, as CSV)");
    auto o = std::make_shared<AggregateOptions>();
    addCohortOptions(c, *o);
    c->add_option("--method", o->method, "Explanation method (segxai explain --help lists them)")->required();
    c->add_option("--out", o->out,
                  "CSV: a row per study, columns {class}_explanation_in_{segment}_mass and _mean "
                  "(|E|; then _positive_ and _negative_ parts); with several studies also <out>_cohort_mean.csv")
        ->required();
    return [o] { return runReportingErrors([&] { return runAggregate(*o); }); };
}

CommandRun registerEvaluateCommand(CLI::App& parser) {
    auto* c = parser.add_subcommand("evaluate",
                                    "Faithfulness benchmark: methods x metrics over every class of one study or a "
                                    "cohort, with run times");
    auto o = std::make_shared<EvaluateOptions>();
    addCohortOptions(c, *o);
    c->add_option("--methods", o->methods,
                  "Methods to compare (default: saliency, input-x-gradient, seg-grad-cam, "
                  "seg-hires-grad-cam, smoothgrad, integrated-gradients, segment-ablation, kernel-shap)")
        ->delimiter(',');
    c->add_option("--metrics", o->metrics,
                  "faithfulness-correlation, deletion, insertion, sensitivity, complexity, "
                  "randomisation (default: all)")
        ->delimiter(',');
    MetricOptions& m = o->metricOptions;
    c->add_option("--runs", m.correlationRuns, "Faithfulness correlation: random subsets (50)")
        ->check(CLI::Range(2, 100000));
    c->add_option("--subset", m.subsetFraction, "... each this share of the voxels (0.01)")
        ->check(CLI::Range(1e-6, 1.0));
    c->add_option("--curve-steps", m.curveSteps, "Deletion and insertion: steps (10)")->check(CLI::Range(1, 1000));
    c->add_option("--sensitivity-samples", m.sensitivitySamples, "Average sensitivity: noisy inputs (2)")
        ->check(CLI::Range(1, 1000));
    c->add_option("--sensitivity-radius", m.sensitivityRadius,
                  "... uniform noise, fraction of each channel's range (0.02)");
    c->add_option("--epsilon", m.complexityEpsilon, "Effective complexity: |E| > epsilon max |E| (0.01)");
    c->add_option("--stages", m.randomisationStages, "Cascading randomisation: stages of layers (4)")
        ->check(CLI::Range(1, 100));
    c->add_option("--out", o->out, "Folder for benchmark.csv, benchmark.json and curves.csv")->required();
    return [o] { return runReportingErrors([&] { return runEvaluate(*o); }); };
}

} // namespace segxai::app
