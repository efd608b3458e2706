#pragma once
#include "engine/explain/explanation.h"

#include <nlohmann/json.hpp>
#include <string>

namespace segxai {

// ExplainParameters as JSON and back (sessions, batch configurations). Missing fields keep
// their defaults; fields of the wrong type or out of range throw segxai::Error naming
// `origin` and the field.
nlohmann::json parametersToJson(const ExplainParameters& parameters);
ExplainParameters parametersFromJson(const nlohmann::json& json, const std::string& origin);

nlohmann::json methodsToJson(const std::vector<Method>& methods);
std::vector<Method> methodsFromJson(const nlohmann::json& json, const std::string& origin);

} // namespace segxai
