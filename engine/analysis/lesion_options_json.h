#pragma once
#include "engine/analysis/lesion_report.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace segxai {

// The lesion analysis's options as JSON and back (batch.json's "lesions" section, sessions):
//   {"class": 1, "threshold": 0.5, "connectivity": 18, "min_size": 6,
//    "methods": ["smoothgrad", "seg-grad-cam++"], "samples": 20, "noise_fraction": 0.1,
//    "seed": ..., "max_chunks": 8, "layer": "", "context_max_mm": 10, "context_step_mm": 1,
//    "context_all": false}
// Missing fields keep their defaults. Unknown keys (other than `extraKeys`, which the caller
// reads), wrong types and values out of range throw segxai::Error naming `origin` and the field.
LesionAnalysisOptions lesionOptionsFromJson(const nlohmann::json& json, const std::string& origin,
                                            const std::set<std::string>& extraKeys = {});
nlohmann::json lesionOptionsToJson(const LesionAnalysisOptions& options);

} // namespace segxai
