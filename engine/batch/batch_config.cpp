#include "engine/batch/batch_config.h"

#include "engine/analysis/lesion_options_json.h"
#include "engine/analysis/test_time_augmentation_json.h"
#include "engine/core/error.h"
#include "engine/explain/explain_parameters_json.h"
#include "engine/io/json_fields.h"
#include "engine/io/json_text.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace segxai {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

ExplainParameters parametersOf(const json& section, const std::string& origin) {
    auto it = section.find("parameters");
    return it == section.end() ? ExplainParameters{} : parametersFromJson(*it, origin + ".parameters");
}

std::vector<Method> methodList(const json& section, const std::string& origin, std::vector<Method> fallback) {
    auto it = section.find("methods");
    if (it == section.end()) return fallback;
    std::vector<Method> methods = methodsFromJson(*it, origin);
    if (methods.empty()) throw Error(origin + ": 'methods' is empty");
    return methods;
}

std::string classesOf(const json& section, const std::string& origin) {
    return jsonField<std::string>(section, "classes", "all", origin);
}

BatchExplanation explanationFrom(const json& j, const std::string& origin) {
    refuseUnknownKeys(j, {"method", "targets", "parameters"}, origin);
    BatchExplanation e;
    const std::string method = jsonField<std::string>(j, "method", "", origin);
    if (method.empty()) throw Error(origin + ": 'method' is missing");
    try {
        e.method = parseMethod(method);
    } catch (const Error& error) {
        throw Error(origin + ": " + error.what());
    }
    e.targets = stringList(j, "targets", {"every-class"}, origin);
    if (e.targets.empty()) throw Error(origin + ": 'targets' is empty");
    for (const auto& t : e.targets) {
        if (t == "every-class" || t == "every-instance") continue;
        try {
            parseTargetSpec(t);
        } catch (const Error& error) {
            throw Error(origin + ": " + error.what());
        }
    }
    e.parameters = parametersOf(j, origin);
    return e;
}

BatchLesions lesionsFrom(const json& j, const std::string& origin) {
    BatchLesions l;
    l.options = lesionOptionsFromJson(j, origin, {"write_maps"});
    l.writeMaps = jsonField<bool>(j, "write_maps", l.writeMaps, origin);
    return l;
}

BatchMetrics metricsFrom(const json& j, const std::string& origin) {
    refuseUnknownKeys(j,
                      {"methods", "metrics", "classes", "runs", "subset", "curve_steps", "sensitivity_samples",
                       "sensitivity_radius", "epsilon", "stages", "seed", "parameters"},
                      origin);
    BatchMetrics m;
    m.methods =
        methodList(j, origin, {Method::Saliency, Method::InputXGradient, Method::SegGradCam, Method::SmoothGrad});
    m.metrics = allMetrics();
    if (j.contains("metrics")) {
        m.metrics.clear();
        for (const auto& id : stringList(j, "metrics", {}, origin)) {
            try {
                m.metrics.push_back(parseMetric(id));
            } catch (const Error& error) {
                throw Error(origin + ": " + error.what());
            }
        }
        if (m.metrics.empty()) throw Error(origin + ": 'metrics' is empty");
    }
    m.classes = classesOf(j, origin);
    MetricOptions& o = m.options;
    o.correlationRuns = jsonField<int>(j, "runs", o.correlationRuns, origin);
    o.subsetFraction = jsonField<double>(j, "subset", o.subsetFraction, origin);
    o.curveSteps = jsonField<int>(j, "curve_steps", o.curveSteps, origin);
    o.sensitivitySamples = jsonField<int>(j, "sensitivity_samples", o.sensitivitySamples, origin);
    o.sensitivityRadius = jsonField<double>(j, "sensitivity_radius", o.sensitivityRadius, origin);
    o.complexityEpsilon = jsonField<double>(j, "epsilon", o.complexityEpsilon, origin);
    o.randomisationStages = jsonField<int>(j, "stages", o.randomisationStages, origin);
    o.seed = jsonField<uint64_t>(j, "seed", o.seed, origin);
    m.parameters = parametersOf(j, origin);
    o.baseline = m.parameters.baseline;
    if (o.correlationRuns < 2) throw Error(origin + ": 'runs' must be at least 2");
    if (!(o.subsetFraction > 0.0 && o.subsetFraction <= 1.0)) throw Error(origin + ": 'subset' must be in (0, 1]");
    if (o.curveSteps < 1 || o.sensitivitySamples < 1 || o.randomisationStages < 1) {
        throw Error(origin + ": 'curve_steps', 'sensitivity_samples' and 'stages' must be at least 1");
    }
    return m;
}

json metricsJson(const BatchMetrics& m) {
    json metrics = json::array();
    for (Metric metric : m.metrics)
        metrics.push_back(metricId(metric));
    const MetricOptions& o = m.options;
    return {{"methods", methodsToJson(m.methods)},
            {"metrics", metrics},
            {"classes", m.classes},
            {"runs", o.correlationRuns},
            {"subset", o.subsetFraction},
            {"curve_steps", o.curveSteps},
            {"sensitivity_samples", o.sensitivitySamples},
            {"sensitivity_radius", o.sensitivityRadius},
            {"epsilon", o.complexityEpsilon},
            {"stages", o.randomisationStages},
            {"seed", o.seed},
            {"parameters", parametersToJson(m.parameters)}};
}

json lesionsJson(const BatchLesions& l) {
    json j = lesionOptionsToJson(l.options);
    j["write_maps"] = l.writeMaps;
    return j;
}

BatchUncertainty uncertaintyFrom(const json& j, const std::string& origin) {
    std::set<std::string> keys(std::begin(kTestTimeAugmentationKeys), std::end(kTestTimeAugmentationKeys));
    keys.insert({"mc_dropout", "mc_dropout_seed", "std_classes", "write_maps"});
    refuseUnknownKeys(j, keys, origin);
    BatchUncertainty u;
    readTestTimeAugmentation(j, u.tta, origin);
    u.mcDropout = jsonField<int>(j, "mc_dropout", u.mcDropout, origin);
    if (u.mcDropout < 0 || u.mcDropout > 10000) throw Error(origin + ": 'mc_dropout' must be 0-10000");
    u.mcDropoutSeed = jsonField<uint64_t>(j, "mc_dropout_seed", u.mcDropoutSeed, origin);
    u.stdClasses = stringList(j, "std_classes", {}, origin);
    u.writeMaps = jsonField<bool>(j, "write_maps", u.writeMaps, origin);
    return u;
}

json uncertaintyJson(const BatchUncertainty& u) {
    json j = {{"mc_dropout", u.mcDropout},
              {"mc_dropout_seed", u.mcDropoutSeed},
              {"std_classes", u.stdClasses},
              {"write_maps", u.writeMaps}};
    writeTestTimeAugmentation(u.tta, j);
    return j;
}

BatchModelComparison comparisonFrom(const json& j, const std::string& origin) {
    refuseUnknownKeys(j, {"models", "method", "target", "parameters", "write_maps"}, origin);
    BatchModelComparison c;
    c.models = stringList(j, "models", {}, origin);
    if (c.models.empty()) throw Error(origin + ": 'models' names no model to compare the batch's model with");
    c.method = jsonField<std::string>(j, "method", "", origin);
    c.target = jsonField<std::string>(j, "target", "", origin);
    if (c.method.empty() != c.target.empty()) throw Error(origin + ": 'method' and 'target' go together");
    if (!c.method.empty()) {
        try {
            c.explanation = StabilityRequest{parseMethod(c.method), parseTargetSpec(c.target), parametersOf(j, origin)};
        } catch (const Error& error) {
            throw Error(origin + ": " + error.what());
        }
    }
    c.writeMaps = jsonField<bool>(j, "write_maps", c.writeMaps, origin);
    return c;
}

json comparisonJson(const BatchModelComparison& c) {
    json j = {{"models", c.models}, {"write_maps", c.writeMaps}};
    if (c.explanation) {
        j["method"] = c.method;
        j["target"] = c.target;
        j["parameters"] = parametersToJson(c.explanation->parameters);
    }
    return j;
}

} // namespace

json BatchConfig::toJson() const {
    json explanationsJson = json::array();
    for (const auto& e : explanations) {
        explanationsJson.push_back(
            {{"method", methodId(e.method)}, {"targets", e.targets}, {"parameters", parametersToJson(e.parameters)}});
    }
    json j = {{"segmentation", {{"write_labels", writeLabels}, {"write_probabilities", writeProbabilities}}},
              {"explanations", explanationsJson},
              {"write_maps", writeMaps},
              {"instances", {{"connectivity", instances.connectivity}, {"min_size", instances.minimumSize}}}};
    if (lesions) j["lesions"] = lesionsJson(*lesions);
    if (aggregation) {
        j["aggregation"] = {{"methods", methodsToJson(aggregation->methods)},
                            {"classes", aggregation->classes},
                            {"parameters", parametersToJson(aggregation->parameters)}};
    }
    if (metrics) j["metrics"] = metricsJson(*metrics);
    if (uncertainty) j["uncertainty"] = uncertaintyJson(*uncertainty);
    if (compareModels) j["compare_models"] = comparisonJson(*compareModels);
    return j;
}

BatchConfig batchConfigFromJson(const json& j, const std::string& origin) {
    refuseUnknownKeys(j,
                      {"segmentation", "explanations", "write_maps", "instances", "lesions", "aggregation", "metrics",
                       "uncertainty", "compare_models"},
                      origin);
    BatchConfig c;
    if (auto it = j.find("segmentation"); it != j.end()) {
        const std::string where = origin + ": segmentation";
        refuseUnknownKeys(*it, {"write_labels", "write_probabilities"}, where);
        c.writeLabels = jsonField<bool>(*it, "write_labels", c.writeLabels, where);
        c.writeProbabilities = jsonField<bool>(*it, "write_probabilities", c.writeProbabilities, where);
    }
    if (auto it = j.find("explanations"); it != j.end()) {
        if (!it->is_array())
            throw Error(origin + ": 'explanations' must be a list of {\"method\", \"targets\"} objects");
        for (size_t i = 0; i < it->size(); ++i)
            c.explanations.push_back(explanationFrom((*it)[i], fmt::format("{}: explanations[{}]", origin, i)));
    }
    c.writeMaps = jsonField<bool>(j, "write_maps", c.writeMaps, origin);
    if (auto it = j.find("instances"); it != j.end()) {
        const std::string where = origin + ": instances";
        refuseUnknownKeys(*it, {"connectivity", "min_size"}, where);
        c.instances.connectivity = jsonField<int>(*it, "connectivity", c.instances.connectivity, where);
        c.instances.minimumSize = jsonField<int64_t>(*it, "min_size", c.instances.minimumSize, where);
        if (c.instances.connectivity != 6 && c.instances.connectivity != 18 && c.instances.connectivity != 26) {
            throw Error(where + ": 'connectivity' must be 6, 18 or 26");
        }
    }
    for (auto& e : c.explanations)
        e.parameters.instances = c.instances;
    if (auto it = j.find("lesions"); it != j.end() && !it->is_null() && *it != false)
        c.lesions = lesionsFrom(*it, origin + ": lesions");
    if (auto it = j.find("aggregation"); it != j.end() && !it->is_null() && *it != false) {
        const std::string where = origin + ": aggregation";
        refuseUnknownKeys(*it, {"methods", "classes", "parameters"}, where);
        BatchAggregation a;
        a.methods = methodList(*it, where, {Method::Saliency});
        a.classes = classesOf(*it, where);
        a.parameters = parametersOf(*it, where);
        c.aggregation = a;
    }
    if (auto it = j.find("metrics"); it != j.end() && !it->is_null() && *it != false)
        c.metrics = metricsFrom(*it, origin + ": metrics");
    if (auto it = j.find("uncertainty"); it != j.end() && !it->is_null() && *it != false)
        c.uncertainty = uncertaintyFrom(*it, origin + ": uncertainty");
    if (auto it = j.find("compare_models"); it != j.end() && !it->is_null() && *it != false)
        c.compareModels = comparisonFrom(*it, origin + ": compare_models");
    return c;
}

BatchConfig readBatchConfig(const std::string& path) {
    BatchConfig c = batchConfigFromJson(readJsonFile(path, "batch configuration"), path);
    if (c.compareModels) {
        // Models named relative to batch.json's folder; each must be there before any study runs.
        for (std::string& model : c.compareModels->models) {
            fs::path p(model);
            if (p.is_relative()) p = fs::absolute(fs::path(path).parent_path() / p).lexically_normal();
            std::error_code ec;
            if (!fs::exists(p, ec)) throw Error(path + ": compare_models: " + p.string() + " does not exist");
            model = p.string();
        }
    }
    return c;
}

std::vector<int> parseClassList(const std::string& text, const std::vector<std::string>& classNames) {
    std::vector<int> out;
    if (text == "all") return out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        int found = -1;
        for (size_t c = 0; c < classNames.size(); ++c) {
            if (classNames[c] == item || std::to_string(c) == item) found = int(c);
        }
        if (found < 0) throw Error("the model has no class '" + item + "'");
        out.push_back(found);
    }
    return out;
}

} // namespace segxai
