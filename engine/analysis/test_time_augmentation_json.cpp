#include "engine/analysis/test_time_augmentation_json.h"

#include "engine/core/error.h"
#include "engine/io/json_fields.h"

namespace segxai {

const char* const kTestTimeAugmentationKeys[9] = {"tta",
                                                  "flip_axes",
                                                  "intensity_passes",
                                                  "intensity_strength",
                                                  "intensity_seed",
                                                  "spatial_passes",
                                                  "max_rotation_deg",
                                                  "max_shift_voxels",
                                                  "spatial_seed"};

void readTestTimeAugmentation(const nlohmann::json& j, TestTimeAugmentation& t, const std::string& origin) {
    t.kind = jsonField<std::string>(j, "tta", t.kind, origin);
    t.flipAxes = jsonField<std::string>(j, "flip_axes", t.flipAxes, origin);
    t.intensityPasses = jsonField<int>(j, "intensity_passes", t.intensityPasses, origin);
    t.intensityStrength = jsonField<double>(j, "intensity_strength", t.intensityStrength, origin);
    t.intensitySeed = jsonField<uint64_t>(j, "intensity_seed", t.intensitySeed, origin);
    t.spatialPasses = jsonField<int>(j, "spatial_passes", t.spatialPasses, origin);
    t.maxRotationDegrees = jsonField<double>(j, "max_rotation_deg", t.maxRotationDegrees, origin);
    t.maxShiftVoxels = jsonField<int>(j, "max_shift_voxels", t.maxShiftVoxels, origin);
    t.spatialSeed = jsonField<uint64_t>(j, "spatial_seed", t.spatialSeed, origin);
    try {
        flipsOf(t.flipAxes);
        UncertaintyOptions check;
        t.applyTo(check);
    } catch (const Error& error) {
        throw Error(origin + ": " + error.what());
    }
}

void writeTestTimeAugmentation(const TestTimeAugmentation& t, nlohmann::json& j) {
    j["tta"] = t.kind;
    j["flip_axes"] = t.flipAxes;
    if (t.intensity()) {
        j["intensity_passes"] = t.intensityPasses;
        j["intensity_strength"] = t.intensityStrength;
        j["intensity_seed"] = t.intensitySeed;
    }
    if (t.spatial()) {
        j["spatial_passes"] = t.spatialPasses;
        j["max_rotation_deg"] = t.maxRotationDegrees;
        j["max_shift_voxels"] = t.maxShiftVoxels;
        j["spatial_seed"] = t.spatialSeed;
    }
}

} // namespace segxai
