#include "engine/model/nnunet_options_json.h"

#include "engine/core/error.h"
#include "engine/io/json_fields.h"

namespace segxai {

using nlohmann::json;

json nnunetToJson(const NnunetOptions& o) {
    return {{"folds", o.folds},
            {"checkpoint", o.checkpointName},
            {"configuration", o.configuration},
            {"mirroring", o.mirroring},
            {"step", o.tileStep}};
}

NnunetOptions nnunetFromJson(const json& j, const std::string& where) {
    if (!j.is_object()) throw Error(where + " must be an object");
    NnunetOptions o;
    const json folds = j.value("folds", json::array());
    if (!folds.is_array()) throw Error(where + ": 'folds' must be a list of fold names");
    for (const auto& f : folds) {
        if (!f.is_string()) throw Error(where + ": 'folds' must be a list of fold names");
        o.folds.push_back(f.get<std::string>());
    }
    o.checkpointName = jsonField<std::string>(j, "checkpoint", o.checkpointName, where);
    o.configuration = jsonField<std::string>(j, "configuration", "", where);
    o.mirroring = jsonField<bool>(j, "mirroring", true, where);
    o.tileStep = jsonField<double>(j, "step", o.tileStep, where);
    if (!(o.tileStep >= 0.05 && o.tileStep <= 1.0)) throw Error(where + ": 'step' must be in [0.05, 1]");
    return o;
}

} // namespace segxai
