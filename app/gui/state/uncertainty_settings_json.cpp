#include "app/gui/state/uncertainty_settings_json.h"

#include "engine/analysis/test_time_augmentation_json.h"
#include "engine/core/error.h"
#include "engine/io/json_fields.h"

namespace segxai::app {

using nlohmann::json;

json uncertaintySettingsToJson(const UncertaintySettings& s) {
    json j = {{"extra_models", s.extraModels}, {"mc_dropout", s.mcDropoutPasses}, {"mc_dropout_seed", s.mcDropoutSeed}};
    writeTestTimeAugmentation(s.augmentation(), j);
    return j;
}

UncertaintySettings uncertaintySettingsFromJson(const json& j, const std::string& where) {
    if (!j.is_object()) throw Error(where + " must be an object");
    UncertaintySettings s;
    const json models = j.value("extra_models", json::array());
    if (!models.is_array()) throw Error(where + ": 'extra_models' must be a list of model paths");
    for (const json& m : models) {
        if (!m.is_string() || m.get<std::string>().empty())
            throw Error(where + ": 'extra_models' must be a list of model paths");
        s.extraModels.push_back(m.get<std::string>());
    }
    TestTimeAugmentation tta;
    readTestTimeAugmentation(j, tta, where);
    s.setAugmentation(tta);
    s.mcDropoutPasses = jsonField<int>(j, "mc_dropout", s.mcDropoutPasses, where);
    s.mcDropoutSeed = jsonField<uint64_t>(j, "mc_dropout_seed", s.mcDropoutSeed, where);
    if (s.mcDropoutPasses < 0) throw Error(where + ": 'mc_dropout' cannot be negative");
    return s;
}

} // namespace segxai::app
