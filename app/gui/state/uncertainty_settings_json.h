#pragma once
#include "app/gui/state/uncertainty_work.h"

#include <nlohmann/json.hpp>
#include <string>

namespace segxai::app {

// The Uncertainty tab's settings as a session stores them (member paths as they are given; the
// stability request is not kept: it would explain again with every member).
nlohmann::json uncertaintySettingsToJson(const UncertaintySettings& settings);
// Throws segxai::Error naming `where` and the field on malformed content.
UncertaintySettings uncertaintySettingsFromJson(const nlohmann::json& json, const std::string& where);

} // namespace segxai::app
