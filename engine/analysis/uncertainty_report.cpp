#include "engine/analysis/uncertainty_report.h"

#include "engine/analysis/report_numbers.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/csv.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"

#include <cctype>
#include <filesystem>
#include <fmt/format.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace segxai {
namespace {

json groupJson(const std::vector<double>& values) {
    return {{"structures", values.size()}, {"median", number(median(values))}};
}

// The true and false positives' figure `of`, compared.
json truthComparison(const UncertaintyRun& run, const std::vector<std::optional<bool>>& truth,
                     double InstanceUncertainty::*of) {
    std::vector<double> tp, fp;
    for (size_t n = 0; n < run.perInstance.size(); ++n) {
        if (!truth[n]) continue;
        (*truth[n] ? tp : fp).push_back(run.perInstance[n].*of);
    }
    return {{"tp", groupJson(tp)}, {"fp", groupJson(fp)}, {"mann_whitney", testJson(mannWhitneyU(tp, fp))}};
}

} // namespace

std::string fileSafeName(const std::string& name) {
    std::string out = name;
    for (char& c : out) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return out;
}

std::vector<std::optional<bool>> structuresAgainstTruth(const InstanceSet& instances,
                                                        const std::optional<LabelVolume>& truth) {
    std::vector<std::optional<bool>> out(instances.instances.size());
    if (!truth) return out;
    if (truth->labels.size() != instances.components.size()) throw Error("the ground truth is not on the study's grid");
    std::vector<size_t> indexOf;
    for (size_t n = 0; n < instances.instances.size(); ++n) {
        const size_t id = size_t(instances.instances[n].id);
        if (indexOf.size() <= id) indexOf.resize(id + 1, 0);
        indexOf[id] = n;
        out[n] = false;
    }
    for (size_t v = 0; v < instances.components.size(); ++v) {
        const int32_t id = instances.components[v];
        if (id == 0 || truth->labels[v] == 0) continue;
        const size_t n = indexOf[size_t(id)];
        // A binary truth (0/1) marks any class; a multi-class truth must name the structure's.
        if (truth->labels[v] == 1 || truth->labels[v] == instances.instances[n].classIndex) out[n] = true;
    }
    return out;
}

json uncertaintySummary(const UncertaintyRun& run, const std::vector<std::optional<bool>>& truth) {
    const UncertaintyMaps& m = run.maps;
    json s;
    s["members"] = m.memberNames;
    s["passes"] = run.passes;
    s["seconds"] = run.seconds;
    s["notes"] = run.notes;
    s["entropy_unit"] = "nats";
    // Per predicted class: the mean of each map over its voxels.
    json classes = json::array();
    const size_t count = m.classNames.size();
    std::vector<double> entropy(count, 0.0), information(count, 0.0), disagreement(count, 0.0);
    std::vector<size_t> voxels(count, 0);
    for (size_t v = 0; v < m.labels.labels.size(); ++v) {
        const size_t c = m.labels.labels[v];
        entropy[c] += m.entropy.voxels[v];
        information[c] += m.mutualInformation.voxels[v];
        disagreement[c] += m.disagreement.voxels[v];
        ++voxels[c];
    }
    for (size_t c = 0; c < count; ++c) {
        const double n = double(std::max<size_t>(voxels[c], 1));
        classes.push_back({{"class", m.classNames[c]},
                           {"voxels", voxels[c]},
                           {"mean_entropy", entropy[c] / n},
                           {"mean_mutual_information", information[c] / n},
                           {"mean_disagreement", disagreement[c] / n}});
    }
    s["classes"] = classes;
    s["structures"] = run.instances.instances.size();
    if (run.stability) s["explanation_stability"] = spreadSummary(*run.stability, *run.target);
    const bool hasTruth = std::any_of(truth.begin(), truth.end(), [](const auto& t) { return t.has_value(); });
    if (hasTruth) {
        s["tp_vs_fp"] = {
            {"mean_entropy", truthComparison(run, truth, &InstanceUncertainty::meanEntropy)},
            {"mean_mutual_information", truthComparison(run, truth, &InstanceUncertainty::meanMutualInformation)},
            {"member_share", truthComparison(run, truth, &InstanceUncertainty::memberShare)},
            {"volume_cv", truthComparison(run, truth, &InstanceUncertainty::volumeCv)}};
    }
    return s;
}

json writeUncertainty(const UncertaintyRun& run, const std::optional<LabelVolume>& truth, const std::string& folder,
                      const std::vector<std::string>& inputs, bool maps) {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) throw Error(folder + ": cannot create the folder (" + ec.message() + ")");
    auto path = [&](const std::string& name) { return (fs::path(folder) / name).string(); };
    const UncertaintyMaps& m = run.maps;
    if (maps) {
        writeLabelVolume(m.labels, path("labels.nii.gz"), inputs);
        writeVolume(m.entropy, path("entropy.nii.gz"), inputs);
        writeVolume(m.expectedEntropy, path("expected_entropy.nii.gz"), inputs);
        writeVolume(m.mutualInformation, path("mutual_information.nii.gz"), inputs);
        writeVolume(m.disagreement, path("disagreement.nii.gz"), inputs);
        for (size_t s = 0; s < m.stdClasses.size(); ++s)
            writeVolume(m.classStd[s], path("std_" + fileSafeName(m.classNames[m.stdClasses[s]]) + ".nii.gz"), inputs);

        if (run.stability) {
            writeVolume(run.stability->mean, path("explanation_mean.nii.gz"), inputs);
            writeVolume(run.stability->deviation, path("explanation_std.nii.gz"), inputs);
            for (size_t k = 0; k < run.memberMaps.size(); ++k)
                writeVolume(run.memberMaps[k], path(fmt::format("explanation_member_{}.nii.gz", k + 1)), inputs);
        }
    }
    const std::vector<std::optional<bool>> truthOf = structuresAgainstTruth(run.instances, truth);
    std::string csv = "id,class,voxels,volume_mm3,mean_probability,voxel_i,voxel_j,voxel_k,truth,mean_entropy,"
                      "mean_mutual_information,member_share,volume_cv";
    for (size_t k = 0; k < m.memberNames.size(); ++k)
        csv += fmt::format(",volume_mm3_member_{}", k + 1);
    csv += "\n";
    for (size_t n = 0; n < run.instances.instances.size(); ++n) {
        const Instance& i = run.instances.instances[n];
        const InstanceUncertainty& u = run.perInstance[n];
        const char* truthText = !truthOf[n] ? "" : *truthOf[n] ? "tp" : "fp";
        csv += fmt::format("{},{},{},{:.6g},{:.6g},{},{},{},{},{:.6g},{:.6g},{:.6g},{}", i.id,
                           csvField(m.classNames[size_t(i.classIndex)]), i.voxels, i.volumeMm3, i.meanProbability,
                           i.representative[0], i.representative[1], i.representative[2], truthText, u.meanEntropy,
                           u.meanMutualInformation, u.memberShare, csvNumber(u.volumeCv));
        for (double volume : u.memberVolumesMm3)
            csv += fmt::format(",{:.6g}", volume);
        csv += "\n";
    }
    writeFileAtomically(path("instances.csv"), csv, inputs);
    std::string members = "member,name\n";
    for (size_t k = 0; k < m.memberNames.size(); ++k)
        members += fmt::format("{},{}\n", k + 1, csvField(m.memberNames[k]));
    writeFileAtomically(path("members.csv"), members, inputs);
    json summary = uncertaintySummary(run, truthOf);
    writeFileAtomically(path("summary.json"), readableJson(summary), inputs);
    return summary;
}

} // namespace segxai
