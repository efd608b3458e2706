#include "engine/batch_config.h"

#include "engine/error.h"
#include "engine/explain_parameters_json.h"
#include "engine/json_fields.h"
#include "engine/json_text.h"

#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace segxai {
namespace {

using nlohmann::json;

void refuseUnknownKeys(const json& object, const std::set<std::string>& known, const std::string& origin) {
    if (!object.is_object()) throw Error(origin + " must be a JSON object");
    for (const auto& [key, value] : object.items()) {
        if (known.count(key) == 0) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            throw Error(fmt::format("{}: unknown key '{}' (known: {})", origin, key, list));
        }
    }
}

ExplainParameters parametersOf(const json& section, const std::string& origin) {
    auto it = section.find("parameters");
    return it == section.end() ? ExplainParameters{} : parametersFromJson(*it, origin + ".parameters");
}

std::vector<std::string> stringList(const json& section, const char* key, std::vector<std::string> fallback, const std::string& origin) {
    auto it = section.find(key);
    if (it == section.end()) return fallback;
    if (!it->is_array()) throw Error(fmt::format("{}: '{}' must be a list of strings", origin, key));
    std::vector<std::string> out;
    for (const auto& item : *it) {
        if (!item.is_string()) throw Error(fmt::format("{}: '{}' must be a list of strings", origin, key));
        out.push_back(item.get<std::string>());
    }
    return out;
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
    refuseUnknownKeys(j,
                      {"class", "methods", "samples", "noise_fraction", "seed", "max_chunks", "layer", "context_max_mm",
                       "context_step_mm", "context_all", "threshold", "connectivity", "min_size", "write_maps"},
                      origin);
    BatchLesions l;
    LesionAnalysisOptions& o = l.options;
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
    l.writeMaps = jsonField<bool>(j, "write_maps", l.writeMaps, origin);
    if (o.lesions.classIndex < 1) throw Error(origin + ": 'class' must be a foreground class index (1 or more)");
    if (!(o.lesions.threshold > 0.0 && o.lesions.threshold < 1.0)) throw Error(origin + ": 'threshold' must be between 0 and 1");
    if (o.lesions.connectivity != 6 && o.lesions.connectivity != 18 && o.lesions.connectivity != 26) {
        throw Error(origin + ": 'connectivity' must be 6, 18 or 26");
    }
    if (e.samples < 1 || e.samples > 100000) throw Error(origin + ": 'samples' must be from 1 to 100000");
    if (e.maxChunks < 1) throw Error(origin + ": 'max_chunks' must be at least 1");
    if (!(o.contextMaxMm >= 0.0) || !(o.contextStepMm > 0.0)) {
        throw Error(origin + ": 'context_max_mm' must be 0 or more and 'context_step_mm' more than 0");
    }
    return l;
}

BatchMetrics metricsFrom(const json& j, const std::string& origin) {
    refuseUnknownKeys(j,
                      {"methods", "metrics", "classes", "runs", "subset", "curve_steps", "sensitivity_samples",
                       "sensitivity_radius", "epsilon", "stages", "seed", "parameters"},
                      origin);
    BatchMetrics m;
    m.methods = methodList(j, origin, {Method::Saliency, Method::InputXGradient, Method::SegGradCam, Method::SmoothGrad});
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
    for (Metric metric : m.metrics) metrics.push_back(metricId(metric));
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
    const LesionAnalysisOptions& o = l.options;
    const LesionExplainOptions& e = o.explain;
    return {{"class", o.lesions.classIndex},     {"threshold", o.lesions.threshold},
            {"connectivity", o.lesions.connectivity}, {"min_size", o.lesions.minimumSize},
            {"methods", lesionMethods(e)},       {"samples", e.samples},
            {"noise_fraction", e.noiseFraction}, {"seed", e.seed},
            {"max_chunks", e.maxChunks},         {"layer", e.layer},
            {"context_max_mm", o.contextMaxMm},  {"context_step_mm", o.contextStepMm},
            {"context_all", o.contextAllLesions}, {"write_maps", l.writeMaps}};
}

} // namespace

json BatchConfig::toJson() const {
    json explanationsJson = json::array();
    for (const auto& e : explanations) {
        explanationsJson.push_back({{"method", methodId(e.method)}, {"targets", e.targets}, {"parameters", parametersToJson(e.parameters)}});
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
    return j;
}

BatchConfig batchConfigFromJson(const json& j, const std::string& origin) {
    refuseUnknownKeys(j, {"segmentation", "explanations", "write_maps", "instances", "lesions", "aggregation", "metrics"}, origin);
    BatchConfig c;
    if (auto it = j.find("segmentation"); it != j.end()) {
        const std::string where = origin + ": segmentation";
        refuseUnknownKeys(*it, {"write_labels", "write_probabilities"}, where);
        c.writeLabels = jsonField<bool>(*it, "write_labels", c.writeLabels, where);
        c.writeProbabilities = jsonField<bool>(*it, "write_probabilities", c.writeProbabilities, where);
    }
    if (auto it = j.find("explanations"); it != j.end()) {
        if (!it->is_array()) throw Error(origin + ": 'explanations' must be a list of {\"method\", \"targets\"} objects");
        for (size_t i = 0; i < it->size(); ++i) c.explanations.push_back(explanationFrom((*it)[i], fmt::format("{}: explanations[{}]", origin, i)));
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
    for (auto& e : c.explanations) e.parameters.instances = c.instances;
    if (auto it = j.find("lesions"); it != j.end() && !it->is_null() && *it != false) c.lesions = lesionsFrom(*it, origin + ": lesions");
    if (auto it = j.find("aggregation"); it != j.end() && !it->is_null() && *it != false) {
        const std::string where = origin + ": aggregation";
        refuseUnknownKeys(*it, {"methods", "classes", "parameters"}, where);
        BatchAggregation a;
        a.methods = methodList(*it, where, {Method::Saliency});
        a.classes = classesOf(*it, where);
        a.parameters = parametersOf(*it, where);
        c.aggregation = a;
    }
    if (auto it = j.find("metrics"); it != j.end() && !it->is_null() && *it != false) c.metrics = metricsFrom(*it, origin + ": metrics");
    return c;
}

BatchConfig readBatchConfig(const std::string& path) { return batchConfigFromJson(readJsonFile(path, "batch configuration"), path); }

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
