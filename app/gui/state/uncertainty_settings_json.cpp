#include "app/gui/state/uncertainty_settings_json.h"

#include "engine/core/error.h"
#include "engine/io/json_fields.h"

namespace segxai::app {

using nlohmann::json;

json uncertaintySettingsToJson(const UncertaintySettings& s) {
    return {{"extra_models", s.extraModels},
            {"flips", s.flips},
            {"flip_axes", s.flipAxes},
            {"intensity_passes", s.intensityPasses},
            {"intensity_strength", s.intensityStrength},
            {"intensity_seed", s.intensitySeed},
            {"spatial_passes", s.spatialPasses},
            {"max_rotation_deg", s.maxRotationDegrees},
            {"max_shift_voxels", s.maxShiftVoxels},
            {"spatial_seed", s.spatialSeed},
            {"mc_dropout", s.mcDropoutPasses},
            {"mc_dropout_seed", s.mcDropoutSeed}};
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
    s.flips = jsonField<bool>(j, "flips", s.flips, where);
    s.flipAxes = jsonField<std::string>(j, "flip_axes", s.flipAxes, where);
    s.intensityPasses = jsonField<int>(j, "intensity_passes", s.intensityPasses, where);
    s.intensityStrength = jsonField<double>(j, "intensity_strength", s.intensityStrength, where);
    s.intensitySeed = jsonField<uint64_t>(j, "intensity_seed", s.intensitySeed, where);
    s.spatialPasses = jsonField<int>(j, "spatial_passes", s.spatialPasses, where);
    s.maxRotationDegrees = jsonField<double>(j, "max_rotation_deg", s.maxRotationDegrees, where);
    s.maxShiftVoxels = jsonField<int>(j, "max_shift_voxels", s.maxShiftVoxels, where);
    s.spatialSeed = jsonField<uint64_t>(j, "spatial_seed", s.spatialSeed, where);
    s.mcDropoutPasses = jsonField<int>(j, "mc_dropout", s.mcDropoutPasses, where);
    s.mcDropoutSeed = jsonField<uint64_t>(j, "mc_dropout_seed", s.mcDropoutSeed, where);
    if (s.intensityPasses < 0 || s.spatialPasses < 0 || s.mcDropoutPasses < 0)
        throw Error(where + ": pass counts cannot be negative");
    try {
        flipsOf(s.flipAxes);
        UncertaintyOptions check;
        s.augmentation().applyTo(check); // axes, strength, angle and shift checked now
    } catch (const Error& error) {
        throw Error(where + ": " + error.what());
    }
    return s;
}

} // namespace segxai::app
