#pragma once
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/explanation_agreement.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// One class of a compared model against the reference model (the first), matched by name.
struct ClassAgreement {
    size_t model = 1;      // index of the compared model (1..)
    std::string className; // as both models name it
    int64_t referenceVoxels = 0, modelVoxels = 0, commonVoxels = 0;
    double dice = 0.0; // 2 |A n B| / (|A| + |B|); 1 when neither has the class
    double referenceMm3 = 0.0, modelMm3 = 0.0;
    double volumeDifferencePercent = 0.0; // (model - reference) / reference x 100; NaN when the reference has none
};

// Several models on one study without ground truth (docs/methods.md#model-comparison).
struct ModelComparison {
    std::vector<std::string> names;
    std::vector<LabelVolume> labels; // each model's own labels, study grid
    std::vector<std::vector<std::string>> classNames;
    Volume disagreement;                 // share of the other models whose class (by name) differs from the reference's
    double voxelAgreement = 0.0;         // share of voxels where every model names the same class
    std::vector<ClassAgreement> classes; // foreground classes of either, least agreeing first
    std::vector<std::string> onlyInReference, onlyInOthers; // classes one side does not predict at all
    // With an explanation request: the target (on the reference's labels) and each model's map.
    std::optional<Target> target;
    std::vector<Volume> maps;
    std::optional<ExplanationSpread> explanations;
    double seconds = 0.0;
};

// Segments the study with every model (2 or more; the first is the reference) and compares
// their labels class by class; with `explanation`, each model explains the same target (its
// class matched by name). Throws segxai::Error for fewer than 2 models or a target class a
// model does not have.
ModelComparison compareModels(const std::vector<EnsembleMember>& models, const Study& study,
                              const std::optional<StabilityRequest>& explanation = std::nullopt,
                              JobContext* job = nullptr);

nlohmann::json comparisonSummary(const ModelComparison& comparison);

// Into `folder`: labels_<k>.nii.gz, disagreement.nii.gz, structures.csv, summary.json and, with
// explanations, explanation_model_<k>.nii.gz and (two models) explanation_difference.nii.gz.
// Without `maps`, only the tables and the summary.
void writeModelComparison(const ModelComparison& comparison, const std::string& folder,
                          const std::vector<std::string>& inputs, bool maps = true);

} // namespace segxai
