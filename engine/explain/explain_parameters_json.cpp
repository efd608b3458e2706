#include "engine/explain/explain_parameters_json.h"

#include "engine/core/error.h"
#include "engine/io/json_fields.h"

#include <fmt/format.h>

namespace segxai {
using nlohmann::json;

json parametersToJson(const ExplainParameters& p) {
    return {{"layer", p.layer},
            {"variant", p.variant == CamPlusPlusVariant::Paper ? "paper" : "monai"},
            {"samples", p.samples},
            {"noise_fraction", p.noiseFraction},
            {"noise_sampling", noiseSamplingName(p.noiseSampling)},
            {"steps", p.steps},
            {"rule", quadratureName(p.rule)},
            {"baseline", baselineText(p.baseline)},
            {"window", p.window},
            {"stride", p.stride},
            {"feature_cube", p.featureCube},
            {"coalitions", p.coalitions},
            {"normalize", p.normalize == Normalize::None  ? "none"
                          : p.normalize == Normalize::Max ? "max"
                                                          : "minmax"},
            {"seed", p.seed},
            {"batch", p.batch},
            {"connectivity", p.instances.connectivity},
            {"min_size", p.instances.minimumSize}};
}

ExplainParameters parametersFromJson(const json& j, const std::string& origin) {
    if (!j.is_object()) throw Error(origin + ": explanation parameters must be a JSON object");
    ExplainParameters p;
    p.layer = jsonField<std::string>(j, "layer", p.layer, origin);
    const std::string variant = jsonField<std::string>(j, "variant", "paper", origin);
    if (variant != "paper" && variant != "monai") throw Error(origin + ": 'variant' must be \"paper\" or \"monai\"");
    p.variant = variant == "monai" ? CamPlusPlusVariant::Monai : CamPlusPlusVariant::Paper;
    p.samples = jsonField<int>(j, "samples", p.samples, origin);
    p.noiseFraction = jsonField<double>(j, "noise_fraction", p.noiseFraction, origin);
    p.noiseSampling = parseNoiseSampling(
        jsonField<std::string>(j, "noise_sampling", noiseSamplingName(p.noiseSampling), origin), origin);
    p.steps = jsonField<int>(j, "steps", p.steps, origin);
    p.rule = parseQuadratureRule(jsonField<std::string>(j, "rule", quadratureName(p.rule), origin));
    p.baseline = parseBaseline(jsonField<std::string>(j, "baseline", baselineText(p.baseline), origin));
    p.window = jsonField<int>(j, "window", p.window, origin);
    p.stride = jsonField<int>(j, "stride", p.stride, origin);
    p.featureCube = jsonField<int>(j, "feature_cube", p.featureCube, origin);
    p.coalitions = jsonField<int>(j, "coalitions", p.coalitions, origin);
    const std::string normalize = jsonField<std::string>(j, "normalize", "none", origin);
    if (normalize != "none" && normalize != "max" && normalize != "minmax") {
        throw Error(origin + ": 'normalize' must be \"none\", \"max\" or \"minmax\"");
    }
    p.normalize = normalize == "max" ? Normalize::Max : normalize == "minmax" ? Normalize::MinMax : Normalize::None;
    p.seed = jsonField<uint64_t>(j, "seed", p.seed, origin);
    p.batch = jsonField<int>(j, "batch", p.batch, origin);
    p.instances.connectivity = jsonField<int>(j, "connectivity", p.instances.connectivity, origin);
    p.instances.minimumSize = jsonField<int64_t>(j, "min_size", p.instances.minimumSize, origin);
    if (p.samples < 1 || p.samples > 100000) throw Error(origin + ": 'samples' must be from 1 to 100000");
    if (p.steps < 1 || p.steps > 100000) throw Error(origin + ": 'steps' must be from 1 to 100000");
    if (p.window < 1 || p.stride < 1) throw Error(origin + ": 'window' and 'stride' must be at least 1");
    if (!(p.noiseFraction >= 0.0 && p.noiseFraction <= 10.0))
        throw Error(origin + ": 'noise_fraction' must be from 0 to 10");
    if (p.batch < 0) throw Error(origin + ": 'batch' must not be negative");
    if (p.featureCube < 0) throw Error(origin + ": 'feature_cube' must not be negative");
    if (p.coalitions < 1 || p.coalitions > 100000) throw Error(origin + ": 'coalitions' must be from 1 to 100000");
    if (p.instances.connectivity != 6 && p.instances.connectivity != 18 && p.instances.connectivity != 26) {
        throw Error(origin + ": 'connectivity' must be 6, 18 or 26");
    }
    return p;
}

json methodsToJson(const std::vector<Method>& methods) {
    json out = json::array();
    for (Method m : methods)
        out.push_back(methodId(m));
    return out;
}

std::vector<Method> methodsFromJson(const json& j, const std::string& origin) {
    if (!j.is_array()) throw Error(origin + ": 'methods' must be a list of method ids");
    std::vector<Method> methods;
    for (const auto& m : j) {
        if (!m.is_string()) throw Error(origin + ": 'methods' must be a list of method ids");
        try {
            methods.push_back(parseMethod(m.get<std::string>()));
        } catch (const Error& e) {
            throw Error(origin + ": " + e.what());
        }
    }
    return methods;
}

} // namespace segxai
