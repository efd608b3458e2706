#pragma once
#include "engine/analysis/ensemble_uncertainty.h"

#include <nlohmann/json.hpp>
#include <string>

namespace segxai {

// The keys of a TestTimeAugmentation in JSON (batch.json's uncertainty section, sessions).
extern const char* const kTestTimeAugmentationKeys[9];

// Reads those keys of `object` over `tta`'s values and checks them (the flip axes even when
// flips are off, as a typo in them would be). Throws segxai::Error beginning with `origin`.
void readTestTimeAugmentation(const nlohmann::json& object, TestTimeAugmentation& tta, const std::string& origin);
// Writes them into `object`: the intensity and spatial fields only when those are used, so a
// configuration without them keeps the hash it had.
void writeTestTimeAugmentation(const TestTimeAugmentation& tta, nlohmann::json& object);

} // namespace segxai
