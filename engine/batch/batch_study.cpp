#include "engine/batch/batch_study.h"

#include "engine/analysis/aggregation.h"
#include "engine/analysis/lesion_report.h"
#include "engine/analysis/model_comparison.h"
#include "engine/analysis/uncertainty_report.h"
#include "engine/core/error.h"
#include "engine/explain/instances.h"
#include "engine/io/atomic_file.h"
#include "engine/io/csv.h"
#include "engine/io/image_io.h"
#include "engine/model/inference.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>

namespace fs = std::filesystem;

namespace segxai {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string number(double v) {
    return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string();
}

std::string segmentationTable(const std::string& id, const Study& study, const Segmentation& s) {
    const size_t classes = s.classNames.size(), n = s.labels.labels.size();
    std::vector<int64_t> predicted(classes, 0), truth(classes, 0), both(classes, 0);
    std::vector<double> probability(classes, 0.0);
    const auto* gt = study.groundTruth ? &study.groundTruth->labels : nullptr;
    for (size_t v = 0; v < n; ++v) {
        const size_t p = s.labels.labels[v];
        if (p < classes) {
            ++predicted[p];
            probability[p] += s.probabilities.at(p, v);
        }
        if (gt) {
            const size_t g = (*gt)[v];
            if (g < classes) ++truth[g];
            if (g == p && p < classes) ++both[p];
        }
    }
    const glm::dvec3 sp = study.geometry.spacing;
    const double voxelMl = sp.x * sp.y * sp.z / 1000.0;
    std::string csv = "study,class,voxels,volume_ml,mean_probability,dice\n";
    for (size_t c = 1; c < classes; ++c) {
        const double dice =
            gt && predicted[c] + truth[c] > 0 ? 2.0 * double(both[c]) / double(predicted[c] + truth[c]) : NAN;
        csv += fmt::format("{},{},{},{},{},{}\n", csvField(id), csvField(s.classNames[c]), predicted[c],
                           number(double(predicted[c]) * voxelMl),
                           number(predicted[c] > 0 ? probability[c] / double(predicted[c]) : NAN), number(dice));
    }
    return csv;
}

// One target of an explanation entry: its file-name part, and how to make it (its mask is made
// only when its chunk is explained).
struct TargetMaker {
    std::string name;
    std::function<Target()> make;
};

// The targets of one explanation entry: every foreground class with voxels, every instance,
// or the given specs.
std::vector<TargetMaker> targetsOf(const BatchExplanation& e, const Study& study, const Segmentation& s) {
    std::vector<TargetMaker> out;
    const InstanceOptions& options = e.parameters.instances;
    for (const std::string& t : e.targets) {
        if (t == "every-class") {
            std::vector<int64_t> voxels(s.classNames.size(), 0);
            for (uint16_t label : s.labels.labels)
                if (label < voxels.size()) ++voxels[label];
            for (size_t c = 1; c < s.classNames.size(); ++c) {
                if (voxels[c] == 0) continue;
                const TargetSpec spec = parseTargetSpec(fmt::format("class:{}", c));
                out.push_back({fileNamePart(s.classNames[c]),
                               [spec, &study, &s, options] { return resolveTarget(spec, study, s, options); }});
            }
        } else if (t == "every-instance") {
            const auto instances =
                std::make_shared<const InstanceSet>(findInstances(s, options.connectivity, options.minimumSize));
            for (size_t i = 0; i < instances->instances.size(); ++i) {
                const std::string className = s.classNames[size_t(instances->instances[i].classIndex)];
                out.push_back({fmt::format("instance{}_{}", i + 1, fileNamePart(className)), [instances, i, className] {
                                   const Instance& instance = instances->instances[i];
                                   Target target;
                                   target.classIndex = instance.classIndex;
                                   target.className = className;
                                   target.mask.assign(instances->components.size(), 0);
                                   for (size_t v = 0; v < instances->components.size(); ++v)
                                       target.mask[v] = instances->components[v] == instance.id;
                                   target.voxelCount = size_t(instance.voxels);
                                   const Index3 r = instance.representative;
                                   target.description =
                                       fmt::format("{} instance {} at ({}, {}, {}), {} voxels", className, i + 1, r[0],
                                                   r[1], r[2], instance.voxels);
                                   return target;
                               }});
            }
        } else {
            const TargetSpec spec = parseTargetSpec(t);
            out.push_back(
                {fileNamePart(t), [spec, &study, &s, options] { return resolveTarget(spec, study, s, options); }});
        }
    }
    return out;
}

// The explanation entries' maps and table rows. Each entry's targets are explained as many
// together as fit the memory (explainInChunks), each chunk's maps written and let go before the
// next: every lesion of a study with hundreds holds one chunk's masks and maps, not all.
std::string explanationsTable(const std::string& id, const BatchConfig& config, const Model& model, const Study& study,
                              const Segmentation& s, const std::string& folder, const std::vector<std::string>& inputs,
                              JobContext& job) {
    std::string csv = "study,method,target,class,target_voxels,score,files\n";
    const fs::path maps = fs::path(folder) / "maps";
    if (config.writeMaps && !config.explanations.empty()) fs::create_directories(maps);
    std::optional<ExplanationInput> input; // the study on the model's grid, once for every entry
    for (size_t e = 0; e < config.explanations.size(); ++e) {
        const BatchExplanation& entry = config.explanations[e];
        JobContext step =
            job.sub(float(e) / float(config.explanations.size()), float(e + 1) / float(config.explanations.size()));
        step.progress(0.0f, std::string("explaining: ") + methodId(entry.method));
        const std::vector<TargetMaker> targets = targetsOf(entry, study, s);
        if (targets.empty()) continue;
        if (!input) input.emplace(model, study, &step);
        const auto take = [&](size_t t, Explanation&& x) {
            std::string files;
            if (config.writeMaps) {
                for (const ExplanationMap& map : x.maps) {
                    // Appended piece by piece: `"literal" + std::string&&` makes GCC 12 warn
                    // (-Wrestrict, a false positive) in a Release build.
                    std::string name = fmt::format("{}_{}", methodId(x.method), targets[t].name);
                    if (x.maps.size() > 1) name.append("_").append(fileNamePart(map.channel));
                    name.append(".nii.gz");
                    writeVolume(inStudyGrid(map, study.geometry), (maps / name).string(), inputs);
                    if (!files.empty()) files.append(" ");
                    files.append("maps/").append(name);
                }
            }
            csv +=
                fmt::format("{},{},{},{},{},{},{}\n", csvField(id), methodId(x.method), csvField(x.targetDescription),
                            csvField(x.className), x.targetVoxels, number(x.score), csvField(files));
        };
        explainInChunks(
            *input, targets.size(), targetsPerChunk(model, study, targets.size(), entry.method),
            [&](size_t t) { return targets[t].make(); }, entry.method, entry.parameters, &s.labels, &step, take);
    }
    return csv;
}

std::string aggregationTable(const std::string& id, const AggregationMatrix& m) {
    // Appended piece by piece (GCC 12's -Wrestrict false positive, as above).
    std::string csv = "study";
    for (const auto& c : aggregationColumns(m))
        csv.append(",").append(c);
    csv.append("\n").append(csvField(id));
    for (double v : aggregationRow(m))
        csv.append(",").append(number(v));
    csv.append("\n");
    return csv;
}

std::string evaluationsTable(const std::string& id, const std::vector<MethodEvaluation>& evaluations) {
    std::string csv = "study,target,method,metric,value\n";
    for (const auto& e : evaluations) {
        for (const auto& [metric, value] : e.values) {
            csv += fmt::format("{},{},{},{},{}\n", csvField(id), csvField(e.target), e.method, metric, number(value));
        }
    }
    return csv;
}

} // namespace

std::string fileNamePart(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        out += keep ? c : '_';
    }
    return out.empty() ? std::string("_") : out;
}

namespace {

// The batch's model as an ensemble: an nnU-Net folder's folds loaded one by one (without each
// fold's own mirroring when flips are members of their own), a model with the members its card
// lists, any other model as it is.
std::vector<EnsembleMember> batchMembers(const Model& model, bool flips) {
    const NnunetSelection* selection = model.nnunetSelection();
    if (selection && (model.nnunetPlan()->folds.size() > 1 || (flips && selection->options.mirroring)))
        return loadEnsemble({selection->folder}, selection->options, !flips);
    if (!model.card().members.empty()) return loadEnsemble({model.path()}, {}, !flips); // with its card's members
    // Not owned: the batch holds the model for longer than this study.
    return {{std::shared_ptr<const Model>(&model, [](const Model*) {}), fs::path(model.path()).filename().string()}};
}

UncertaintyRun runUncertainty(const Model& model, const Study& study, const BatchUncertainty& u, const fs::path& out,
                              const std::vector<std::string>& inputs, JobContext& job) {
    job.progress(0.0f, "uncertainty");
    const bool flips = u.tta.flips();
    UncertaintyOptions options;
    u.tta.applyTo(options);
    options.stdClasses = u.stdClasses;
    options.mcDropoutPasses = u.mcDropout;
    options.mcDropoutSeed = u.mcDropoutSeed;
    UncertaintyRun run = ensembleUncertainty(batchMembers(model, flips), study, options, &job);
    writeUncertainty(run, study.groundTruth, (out / "uncertainty").string(), inputs, u.writeMaps);
    return run;
}

// The batch's model (the reference) against each other version, on this study.
void runComparison(const Model& model, const Study& study, const BatchModelComparison& c, const fs::path& out,
                   const std::vector<std::string>& inputs, JobContext& job) {
    job.progress(0.0f, "comparing models");
    // Not owned: the batch holds its model for longer than this study.
    std::vector<EnsembleMember> models{
        {std::shared_ptr<const Model>(&model, [](const Model*) {}), fs::path(model.path()).filename().string()}};
    for (const std::string& path : c.models)
        models.push_back({Model::load(path), fs::path(path).filename().string()});
    const ModelComparison comparison = compareModels(models, study, c.explanation, &job);
    std::vector<std::string> protectedPaths = inputs;
    protectedPaths.insert(protectedPaths.end(), c.models.begin(), c.models.end());
    writeModelComparison(comparison, (out / "model_comparison").string(), protectedPaths, c.writeMaps);
}

} // namespace

std::map<std::string, double> runBatchStudy(const Model& model, const Study& study, const std::string& id,
                                            const BatchConfig& config, const std::string& folder,
                                            const std::vector<std::string>& inputs, JobContext* job) {
    StandaloneJob standalone;
    JobContext own = standalone.context();
    JobContext& j = job ? *job : own;
    std::map<std::string, double> seconds;
    const fs::path out(folder);
    // Shares of the study's progress per stage, by their usual cost.
    const bool lesions = config.lesions.has_value(), aggregation = config.aggregation.has_value(),
               metrics = config.metrics.has_value(), uncertainty = config.uncertainty.has_value(),
               comparison = config.compareModels.has_value();
    const float wExplain = config.explanations.empty() ? 0.0f : 1.0f, wLesions = lesions ? 2.0f : 0.0f,
                wAggregation = aggregation ? 1.0f : 0.0f, wMetrics = metrics ? 3.0f : 0.0f, wSegment = 0.3f,
                wUncertainty = uncertainty ? 1.0f : 0.0f, wComparison = comparison ? 0.5f : 0.0f;
    const float total = wSegment + wExplain + wLesions + wAggregation + wMetrics + wUncertainty + wComparison;
    float at = 0.0f;
    auto stage = [&](float weight) {
        JobContext c = j.sub(at / total, (at + weight) / total);
        at += weight;
        return c;
    };

    auto t = Clock::now();
    JobContext segmenting = stage(wSegment);
    segmenting.progress(0.0f, "segmenting");
    const Segmentation s = segmentStudy(model, study, &segmenting);
    writeFileAtomically((out / "segmentation.csv").string(), segmentationTable(id, study, s), inputs);
    if (config.writeLabels) writeLabelVolume(s.labels, (out / "labels.nii.gz").string(), inputs);
    if (config.writeProbabilities) {
        fs::create_directories(out / "probabilities");
        for (size_t c = 0; c < s.classNames.size(); ++c) {
            writeVolume(s.probabilities.volume(c, s.classNames[c]),
                        (out / "probabilities" / ("probs_" + fileNamePart(s.classNames[c]) + ".nii.gz")).string(),
                        inputs);
        }
    }
    seconds["segment"] = since(t);

    // Before the lesions: their table takes each lesion's uncertainty from the ensemble's maps.
    std::optional<UncertaintyRun> ensembleRun;
    if (uncertainty) {
        t = Clock::now();
        JobContext ensemble = stage(wUncertainty);
        ensembleRun = runUncertainty(model, study, *config.uncertainty, out, inputs, ensemble);
        seconds["uncertainty"] = since(t);
    }
    if (!config.explanations.empty()) {
        t = Clock::now();
        JobContext explaining = stage(wExplain);
        writeFileAtomically((out / "explanations.csv").string(),
                            explanationsTable(id, config, model, study, s, folder, inputs, explaining), inputs);
        seconds["explain"] = since(t);
    }
    if (lesions) {
        t = Clock::now();
        JobContext analysing = stage(wLesions);
        analysing.progress(0.0f, "lesion analysis");
        LesionAnalysis analysis = analyseLesions(model, study, s, config.lesions->options, &analysing);
        if (ensembleRun) analysis.uncertainty = lesionUncertainty(analysis.lesions, ensembleRun->maps);
        writeLesionAnalysis(analysis, study, (out / "lesions").string(), config.lesions->writeMaps, inputs);
        seconds["lesions"] = since(t);
    }
    if (aggregation) {
        t = Clock::now();
        JobContext aggregating = stage(wAggregation);
        const BatchAggregation& a = *config.aggregation;
        const std::vector<int> classes = parseClassList(a.classes, s.classNames);
        for (size_t m = 0; m < a.methods.size(); ++m) {
            JobContext one =
                aggregating.sub(float(m) / float(a.methods.size()), float(m + 1) / float(a.methods.size()));
            one.progress(0.0f, std::string("aggregating: ") + methodId(a.methods[m]));
            const AggregationMatrix matrix = aggregateStudy(model, study, s, a.methods[m], a.parameters, classes, &one);
            writeFileAtomically((out / fmt::format("aggregation_{}.csv", methodId(a.methods[m]))).string(),
                                aggregationTable(id, matrix), inputs);
        }
        seconds["aggregation"] = since(t);
    }
    if (metrics) {
        t = Clock::now();
        JobContext evaluating = stage(wMetrics);
        evaluating.progress(0.0f, "faithfulness metrics");
        const BatchMetrics& m = *config.metrics;
        const std::vector<Target> targets = classTargets(study, s, parseClassList(m.classes, s.classNames));
        Benchmark b;
        b.methods = m.methods;
        b.metrics = m.metrics;
        b.options = m.options;
        b.evaluations = evaluateMethods(model, study, targets, m.methods, m.parameters, m.metrics, m.options, &s.labels,
                                        &evaluating);
        writeFileAtomically((out / "evaluations.csv").string(), evaluationsTable(id, b.evaluations), inputs);
        writeFileAtomically((out / "curves.csv").string(), b.curvesCsv(), inputs);
        seconds["metrics"] = since(t);
    }
    if (comparison) {
        t = Clock::now();
        JobContext comparing = stage(wComparison);
        runComparison(model, study, *config.compareModels, out, inputs, comparing);
        seconds["compare_models"] = since(t);
    }
    j.progress(1.0f, "done");
    return seconds;
}

} // namespace segxai
