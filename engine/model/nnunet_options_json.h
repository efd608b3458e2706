#pragma once
#include "engine/model/nnunet_plans.h"

#include <nlohmann/json.hpp>
#include <string>

namespace segxai {

// How an nnU-Net folder is predicted (folds, checkpoint, configuration, mirroring, step) as
// sessions store it.
nlohmann::json nnunetToJson(const NnunetOptions& options);
// Throws segxai::Error naming `where` and the field on malformed content.
NnunetOptions nnunetFromJson(const nlohmann::json& json, const std::string& where);

} // namespace segxai
