#pragma once
#include "engine/analysis/ensemble_uncertainty.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// Per structure, against a ground truth: true positive when it overlaps the truth's voxels of
// its class, else false positive. Empty without a truth.
std::vector<std::optional<bool>> structuresAgainstTruth(const InstanceSet& instances,
                                                        const std::optional<LabelVolume>& truth);

// summary.json: members, passes, the ensemble's mean uncertainty per class, and with a truth
// the true and false positives' uncertainty compared (medians, Mann-Whitney U).
nlohmann::json uncertaintySummary(const UncertaintyRun& run, const std::vector<std::optional<bool>>& truth);

// Into `folder`: labels.nii.gz (the ensemble), entropy, expected_entropy, mutual_information,
// disagreement and std_<class> maps (NIfTI, the study's grid), with an explanation by every
// member explanation_mean, explanation_std and explanation_member_<k>, then instances.csv,
// members.csv and summary.json, each file atomically, none over `inputs`.
// Without `maps`, only the tables and the summary. Returns the summary written.
nlohmann::json writeUncertainty(const UncertaintyRun& run, const std::optional<LabelVolume>& truth,
                                const std::string& folder, const std::vector<std::string>& inputs, bool maps = true);

// A class name as it appears in file names (letters and digits kept, the rest '_').
std::string fileSafeName(const std::string& name);

} // namespace segxai
