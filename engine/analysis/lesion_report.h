#pragma once
#include "engine/analysis/instance_uncertainty.h"
#include "engine/analysis/lesion_analysis.h"
#include "engine/analysis/lesion_maps.h"
#include "engine/analysis/lesions.h"
#include "engine/analysis/rank_tests.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// Everything `segxai lesions` and the Lesions panel compute for one study: the lesions, their
// maps, what the maps say inside and around each lesion, the context each needs, how peak
// saliency differs between TP, FP and FN, and whether the MS study's findings hold.
struct LesionAnalysisOptions {
    LesionOptions lesions;
    LesionExplainOptions explain; // which maps, samples, noise, seed, chunks
    bool context = true;
    double contextMaxMm = 10.0;
    double contextStepMm = 1.0;
    bool contextAllLesions = false; // false: true positives only (the study's choice)
    std::vector<double> ringEdgesMm{0.0, 1.0, 2.0, 4.0, 8.0};
};

// One map of one lesion: "smoothgrad", "smoothgrad-max" (per input channel) or
// "seg-grad-cam++" (channel "").
struct LesionMapSummary {
    int lesionId = 0;
    std::string method;
    std::string channel;
    RingProfile rings;
    Peak peak;
    double channelShare = 0.0; // this channel's share of the method's sum |value| (lesion and rings)
};

// Peak saliency compared across groups, for one method, channel and statistic.
struct GroupComparison {
    std::string method, channel;
    std::string statistic;                             // "maximum" or "maximum magnitude"
    std::map<std::string, std::vector<double>> values; // by group name: TP, FP, FN
    std::optional<RankTest> tpVersusFp, tpVersusFn, fpVersusFn, kruskalWallis;
};

// Fills the comparison's rank tests from its values: TP against FP and against FN, FP against
// FN (Mann-Whitney U), and the three groups (Kruskal-Wallis).
void testGroups(GroupComparison& comparison);
nlohmann::json comparisonJson(const GroupComparison& comparison);

// Each lesion's uncertainty under an ensemble (engine/analysis/instance_uncertainty.h): a
// predicted lesion over its voxels, a missed one over its ground-truth voxels; and the groups
// compared on each figure ("mean mutual information", "mean entropy", "member share",
// "volume cv") with the same rank tests as the peaks.
struct LesionUncertainty {
    std::vector<std::string> members;
    std::vector<InstanceUncertainty> perLesion; // id order
    std::vector<GroupComparison> comparisons;
};

// A finding of the MS lesion study, tested on this model: holds, does not, or cannot be
// assessed (no true positives, no second channel...).
struct Finding {
    std::string name;
    std::optional<bool> holds;
    std::string evidence;
};

struct LesionAnalysis {
    LesionAnalysisOptions options;
    std::vector<std::string> channels;
    LesionSet lesions;
    std::vector<LesionMaps> maps; // per lesion (index = id - 1), on the model's grid
    std::vector<LesionMapSummary> summaries;
    std::map<int, ContextCurve> context; // by lesion id
    std::vector<GroupComparison> comparisons;
    std::vector<Finding> findings;
    std::optional<LesionUncertainty> uncertainty; // with an ensemble (lesionUncertainty())
    double seconds = 0.0;

    nlohmann::json summary() const;
};

// The target a lesion is explained with: its predicted voxels (a missed lesion: its
// ground-truth voxels), with the analysis' class.
Target lesionTarget(const LesionSet& lesions, int id);

// The lesion maps asked for, by name ("smoothgrad", "smoothgrad-max", "seg-grad-cam++"), and
// back; "none" asks for none. Throws segxai::Error for another name.
std::vector<std::string> lesionMethods(const LesionExplainOptions& options);
void setLesionMethods(LesionExplainOptions& options, const std::vector<std::string>& methods);

// The lesions' uncertainty under an ensemble's maps on the study grid. Throws segxai::Error
// when the maps are on another grid.
LesionUncertainty lesionUncertainty(const LesionSet& lesions, const UncertaintyMaps& maps);

// Runs the whole analysis. Progress and cancel through `job`; throws segxai::Error.
LesionAnalysis analyseLesions(const Model& model, const Study& study, const Segmentation& segmentation,
                              const LesionAnalysisOptions& options, JobContext* job = nullptr);

// The analysis as files in `folder` (created): instances.csv, rings.csv, context.csv,
// peaks.csv, summary.json, lesions.nii.gz (lesion ids), and with `writeMaps` each lesion's
// maps in the study's geometry (maps/lesion_<id>_<method>[_<channel>].nii.gz). Every file
// appears atomically; none replaces one of `inputs`.
void writeLesionAnalysis(const LesionAnalysis& analysis, const Study& study, const std::string& folder, bool writeMaps,
                         const std::vector<std::string>& inputs);

} // namespace segxai
