#include "engine/analysis/model_comparison.h"

#include "engine/analysis/report_numbers.h"
#include "engine/analysis/uncertainty_report.h"
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/explain/map_statistics.h"
#include "engine/io/atomic_file.h"
#include "engine/io/csv.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"
#include "engine/model/inference.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <map>

namespace fs = std::filesystem;
using nlohmann::json;

namespace segxai {
namespace {

std::optional<size_t> classIndexOf(const std::vector<std::string>& names, const std::string& name) {
    const auto at = std::find(names.begin(), names.end(), name);
    return at == names.end() ? std::nullopt : std::optional<size_t>(size_t(at - names.begin()));
}

// Model m's classes against the reference's, matched by name (the first class, background, left out).
void compareClasses(ModelComparison& c, size_t m, double voxelMm3) {
    const auto& reference = c.classNames[0];
    const auto& names = c.classNames[m];
    std::map<std::string, std::pair<std::optional<size_t>, std::optional<size_t>>> byName;
    for (size_t k = 1; k < reference.size(); ++k)
        byName[reference[k]].first = k;
    for (size_t k = 1; k < names.size(); ++k)
        byName[names[k]].second = k;
    std::map<std::pair<size_t, size_t>, int64_t> common;
    std::vector<int64_t> referenceCount(reference.size(), 0), modelCount(names.size(), 0);
    const auto& a = c.labels[0].labels;
    const auto& b = c.labels[m].labels;
    for (size_t v = 0; v < a.size(); ++v) {
        ++referenceCount[a[v]];
        ++modelCount[b[v]];
        ++common[{a[v], b[v]}];
    }
    for (const auto& [name, indices] : byName) {
        if (!indices.second) {
            c.onlyInReference.push_back(name);
            continue;
        }
        if (!indices.first) {
            c.onlyInOthers.push_back(fmt::format("{} ({})", name, c.names[m]));
            continue;
        }
        ClassAgreement r;
        r.model = m;
        r.className = name;
        r.referenceVoxels = referenceCount[*indices.first];
        r.modelVoxels = modelCount[*indices.second];
        r.commonVoxels = common[{*indices.first, *indices.second}];
        const int64_t both = r.referenceVoxels + r.modelVoxels;
        r.dice = both > 0 ? 2.0 * double(r.commonVoxels) / double(both) : 1.0;
        r.referenceMm3 = double(r.referenceVoxels) * voxelMm3;
        r.modelMm3 = double(r.modelVoxels) * voxelMm3;
        r.volumeDifferencePercent = r.referenceVoxels > 0
                                        ? 100.0 * double(r.modelVoxels - r.referenceVoxels) / double(r.referenceVoxels)
                                        : std::nan("");
        if (both > 0) c.classes.push_back(r);
    }
}

// The share of the other models whose class name at each voxel differs from the reference's.
void disagreementMap(ModelComparison& c) {
    const Geometry& grid = c.labels[0].geometry;
    c.disagreement = Volume(grid, "disagreement");
    const double others = double(c.labels.size() - 1);
    size_t agreeing = 0;
    for (size_t v = 0; v < grid.voxelCount(); ++v) {
        const std::string& reference = c.classNames[0][c.labels[0].labels[v]];
        int differing = 0;
        for (size_t m = 1; m < c.labels.size(); ++m)
            differing += c.classNames[m][c.labels[m].labels[v]] != reference;
        c.disagreement.voxels[v] = float(double(differing) / others);
        agreeing += differing == 0;
    }
    c.voxelAgreement = double(agreeing) / double(std::max<size_t>(1, grid.voxelCount()));
}

void explainWithEach(ModelComparison& c, const std::vector<EnsembleMember>& models, const Study& study,
                     const Segmentation& reference, const StabilityRequest& request, JobContext* job) {
    c.target = resolveTarget(request.target, study, reference, request.parameters.instances);
    for (size_t m = 0; m < models.size(); ++m) {
        Target own = *c.target;
        const auto index = classIndexOf(c.classNames[m], c.target->className);
        if (!index) {
            throw Error(fmt::format("{} has no class '{}' to explain (its classes: {})", c.names[m],
                                    c.target->className, fmt::join(c.classNames[m], ", ")));
        }
        own.classIndex = int(*index);
        std::optional<JobContext> modelJob = stepContext(job, m, models.size(), "explaining with " + c.names[m]);
        const auto e =
            explain(*models[m].model, study, own, {request.method}, request.parameters, modelJob ? &*modelJob : nullptr,
                    isFeatureMethod(request.method) ? &c.labels[m] : nullptr);
        c.maps.push_back(combinedStudyMap(e.front(), study.geometry));
    }
    c.explanations = explanationSpread(c.maps, c.names, *c.target);
}

} // namespace

ModelComparison compareModels(const std::vector<EnsembleMember>& models, const Study& study,
                              const std::optional<StabilityRequest>& explanation, JobContext* job) {
    if (models.size() < 2) throw Error("comparing models needs at least two");
    const auto start = std::chrono::steady_clock::now();
    ModelComparison c;
    std::optional<Segmentation> reference;
    const float segmenting = explanation ? 0.5f : 1.0f;
    for (size_t m = 0; m < models.size(); ++m) {
        std::optional<JobContext> modelJob =
            stepContext(job, m, models.size(), "segmenting with " + models[m].name, 0.0f, segmenting);
        Segmentation s = segmentStudy(*models[m].model, study, modelJob ? &*modelJob : nullptr);
        c.names.push_back(models[m].name);
        c.classNames.push_back(s.classNames);
        c.labels.push_back(s.labels);
        if (m == 0) reference = std::move(s);
    }
    const Geometry& grid = study.geometry;
    const double voxelMm3 = grid.spacing.x * grid.spacing.y * grid.spacing.z;
    for (size_t m = 1; m < models.size(); ++m)
        compareClasses(c, m, voxelMm3);
    std::stable_sort(c.classes.begin(), c.classes.end(),
                     [](const ClassAgreement& a, const ClassAgreement& b) { return a.dice < b.dice; });
    disagreementMap(c);
    if (explanation) {
        std::optional<JobContext> explaining;
        if (job) explaining = job->sub(segmenting, 1.0f);
        explainWithEach(c, models, study, *reference, *explanation, explaining ? &*explaining : nullptr);
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return c;
}

json comparisonSummary(const ModelComparison& c) {
    json s;
    s["models"] = c.names;
    s["reference"] = c.names.front();
    s["voxel_agreement"] = c.voxelAgreement;
    s["seconds"] = c.seconds;
    json classes = json::array();
    for (const ClassAgreement& r : c.classes) {
        classes.push_back({{"model", c.names[r.model]},
                           {"class", r.className},
                           {"dice", r.dice},
                           {"reference_mm3", r.referenceMm3},
                           {"model_mm3", r.modelMm3},
                           {"volume_difference_percent", number(r.volumeDifferencePercent)}});
    }
    s["classes_least_agreeing_first"] = classes;
    s["only_in_reference"] = c.onlyInReference;
    s["only_in_others"] = c.onlyInOthers;
    if (c.explanations) s["explanations"] = spreadSummary(*c.explanations, *c.target);
    return s;
}

void writeModelComparison(const ModelComparison& c, const std::string& folder, const std::vector<std::string>& inputs,
                          bool maps) {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) throw Error(folder + ": cannot create the folder (" + ec.message() + ")");
    auto path = [&](const std::string& name) { return (fs::path(folder) / name).string(); };
    if (maps) {
        for (size_t m = 0; m < c.labels.size(); ++m)
            writeLabelVolume(c.labels[m], path(fmt::format("labels_{}.nii.gz", m + 1)), inputs);
        writeVolume(c.disagreement, path("disagreement.nii.gz"), inputs);
        for (size_t m = 0; m < c.maps.size(); ++m)
            writeVolume(c.maps[m], path(fmt::format("explanation_model_{}.nii.gz", m + 1)), inputs);
        if (c.maps.size() == 2)
            writeVolume(mapDifference(c.maps[1], c.maps[0], true), path("explanation_difference.nii.gz"), inputs);
    }
    std::string csv = "model,class,dice,reference_voxels,model_voxels,common_voxels,reference_mm3,model_mm3,"
                      "volume_difference_percent\n";
    for (const ClassAgreement& r : c.classes) {
        csv += fmt::format("{},{},{:.6g},{},{},{},{:.6g},{:.6g},{}\n", csvField(c.names[r.model]),
                           csvField(r.className), r.dice, r.referenceVoxels, r.modelVoxels, r.commonVoxels,
                           r.referenceMm3, r.modelMm3, csvNumber(r.volumeDifferencePercent));
    }
    writeFileAtomically(path("structures.csv"), csv, inputs);
    std::string models = "model,name\n";
    for (size_t m = 0; m < c.names.size(); ++m)
        models += fmt::format("{},{}\n", m + 1, csvField(c.names[m]));
    writeFileAtomically(path("models.csv"), models, inputs);
    writeFileAtomically(path("summary.json"), readableJson(comparisonSummary(c)), inputs);
}

} // namespace segxai
