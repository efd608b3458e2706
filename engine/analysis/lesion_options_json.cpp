#include "engine/analysis/lesion_options_json.h"

#include "engine/core/error.h"
#include "engine/io/json_fields.h"

namespace segxai {

using nlohmann::json;

namespace {

void checkRanges(const LesionAnalysisOptions& o, const std::string& origin) {
    const LesionExplainOptions& e = o.explain;
    if (o.lesions.classIndex < 1) throw Error(origin + ": 'class' must be a foreground class index (1 or more)");
    if (!(o.lesions.threshold > 0.0 && o.lesions.threshold < 1.0))
        throw Error(origin + ": 'threshold' must be between 0 and 1");
    if (o.lesions.connectivity != 6 && o.lesions.connectivity != 18 && o.lesions.connectivity != 26) {
        throw Error(origin + ": 'connectivity' must be 6, 18 or 26");
    }
    if (e.samples < 1 || e.samples > 100000) throw Error(origin + ": 'samples' must be from 1 to 100000");
    if (e.maxChunks < 1) throw Error(origin + ": 'max_chunks' must be at least 1");
    if (!(o.contextMaxMm >= 0.0) || !(o.contextStepMm > 0.0)) {
        throw Error(origin + ": 'context_max_mm' must be 0 or more and 'context_step_mm' more than 0");
    }
}

} // namespace

LesionAnalysisOptions lesionOptionsFromJson(const json& j, const std::string& origin,
                                            const std::set<std::string>& extraKeys) {
    std::set<std::string> known{"class",      "methods",      "samples",        "noise_fraction",  "seed",
                                "max_chunks", "layer",        "context_max_mm", "context_step_mm", "context_all",
                                "threshold",  "connectivity", "min_size"};
    known.insert(extraKeys.begin(), extraKeys.end());
    refuseUnknownKeys(j, known, origin);
    LesionAnalysisOptions o;
    o.lesions.classIndex = jsonField<int>(j, "class", o.lesions.classIndex, origin);
    o.lesions.threshold = jsonField<double>(j, "threshold", o.lesions.threshold, origin);
    o.lesions.connectivity = jsonField<int>(j, "connectivity", o.lesions.connectivity, origin);
    o.lesions.minimumSize = jsonField<int64_t>(j, "min_size", o.lesions.minimumSize, origin);
    LesionExplainOptions& e = o.explain;
    try {
        setLesionMethods(e, stringList(j, "methods", {"smoothgrad", "seg-grad-cam++"}, origin));
    } catch (const Error& error) {
        throw Error(origin + ": " + error.what());
    }
    e.samples = jsonField<int>(j, "samples", e.samples, origin);
    e.noiseFraction = jsonField<double>(j, "noise_fraction", e.noiseFraction, origin);
    e.seed = jsonField<uint64_t>(j, "seed", e.seed, origin);
    e.maxChunks = jsonField<int>(j, "max_chunks", e.maxChunks, origin);
    e.layer = jsonField<std::string>(j, "layer", e.layer, origin);
    o.contextMaxMm = jsonField<double>(j, "context_max_mm", o.contextMaxMm, origin);
    o.contextStepMm = jsonField<double>(j, "context_step_mm", o.contextStepMm, origin);
    o.contextAllLesions = jsonField<bool>(j, "context_all", o.contextAllLesions, origin);
    o.context = o.contextMaxMm > 0.0;
    checkRanges(o, origin);
    return o;
}

json lesionOptionsToJson(const LesionAnalysisOptions& o) {
    const LesionExplainOptions& e = o.explain;
    return {{"class", o.lesions.classIndex},
            {"threshold", o.lesions.threshold},
            {"connectivity", o.lesions.connectivity},
            {"min_size", o.lesions.minimumSize},
            {"methods", lesionMethods(e)},
            {"samples", e.samples},
            {"noise_fraction", e.noiseFraction},
            {"seed", e.seed},
            {"max_chunks", e.maxChunks},
            {"layer", e.layer},
            {"context_max_mm", o.contextMaxMm},
            {"context_step_mm", o.contextStepMm},
            {"context_all", o.contextAllLesions}};
}

} // namespace segxai
