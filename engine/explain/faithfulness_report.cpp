// The benchmark's summary, JSON and CSV (engine/faithfulness.h).
#include "engine/explain/faithfulness.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

// Lower is better for these; higher for faithfulness correlation and insertion (MoRF).
bool lowerIsBetter(const std::string& metric) {
    return metric == "deletion-morf" || metric == "insertion-lerf" || metric == "sensitivity" ||
           metric == "complexity" || metric == "randomisation";
}

} // namespace

void Benchmark::summarise() {
    summary.clear();
    seconds.clear();
    std::map<std::string, std::map<std::string, std::vector<double>>> values;
    std::map<std::string, std::vector<double>> times;
    for (const MethodEvaluation& e : evaluations) {
        for (const auto& [metric, v] : e.values) {
            if (std::isfinite(v)) values[e.method][metric].push_back(v);
        }
        times[e.method].push_back(e.seconds);
    }
    for (const auto& [method, metrics] : values) {
        for (const auto& [metric, v] : metrics) {
            double mean = 0.0;
            for (double x : v)
                mean += x;
            mean /= double(v.size());
            double variance = 0.0;
            for (double x : v)
                variance += (x - mean) * (x - mean);
            summary[method][metric] = {mean, v.size() > 1 ? std::sqrt(variance / double(v.size() - 1)) : 0.0};
        }
    }
    for (const auto& [method, t] : times) {
        double sum = 0.0;
        for (double x : t)
            sum += x;
        seconds[method] = t.empty() ? 0.0 : sum / double(t.size());
    }
    // The most faithful: the highest mean faithfulness correlation, else the lowest MoRF deletion.
    std::vector<std::string> order;
    for (const auto& [method, unused] : summary)
        order.push_back(method);
    const bool byCorrelation = std::any_of(order.begin(), order.end(), [&](const std::string& m) {
        return summary[m].count("faithfulness-correlation") > 0;
    });
    const std::string key = byCorrelation ? "faithfulness-correlation" : "deletion-morf";
    auto score = [&](const std::string& m) -> double {
        auto it = summary[m].find(key);
        if (it == summary[m].end()) return -INFINITY;
        return byCorrelation ? it->second.first : -it->second.first;
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const std::string& a, const std::string& b) { return score(a) > score(b); });
    mostFaithful = order.empty() || score(order.front()) == -INFINITY ? "" : order.front();
    ranking.clear();
    for (size_t n = 0; n < order.size(); ++n) {
        auto it = summary[order[n]].find(key);
        ranking +=
            fmt::format("{}{} ({})", n ? ", " : "", order[n],
                        it == summary[order[n]].end() ? std::string("-") : fmt::format("{:.3f}", it->second.first));
    }
    ranking = "by " + key + ": " + ranking;
}

nlohmann::json Benchmark::toJson() const {
    nlohmann::json j;
    nlohmann::json methodsJson = nlohmann::json::array(), metricsJson = nlohmann::json::array();
    for (Method m : methods)
        methodsJson.push_back(methodId(m));
    for (Metric m : metrics)
        metricsJson.push_back(metricId(m));
    j["methods"] = methodsJson;
    j["metrics"] = metricsJson;
    j["options"] = {{"correlation_runs", options.correlationRuns},
                    {"subset_fraction", options.subsetFraction},
                    {"curve_steps", options.curveSteps},
                    {"sensitivity_samples", options.sensitivitySamples},
                    {"sensitivity_radius", options.sensitivityRadius},
                    {"complexity_epsilon", options.complexityEpsilon},
                    {"randomisation_stages", options.randomisationStages},
                    {"baseline", baselineText(options.baseline)},
                    {"seed", options.seed},
                    {"target_voxels", "frozen from the clean prediction"},
                    {"attribution_per_voxel", "sum over input channels (CAM and feature maps: the map)"}};
    nlohmann::json summaryJson;
    for (const auto& [method, metrics] : summary) {
        for (const auto& [metric, ms] : metrics) {
            summaryJson[method][metric] = {
                {"mean", ms.first}, {"sd", ms.second}, {"better", lowerIsBetter(metric) ? "lower" : "higher"}};
        }
        summaryJson[method]["seconds"] = seconds.count(method) ? seconds.at(method) : 0.0;
    }
    j["summary"] = summaryJson;
    j["most_faithful"] = mostFaithful;
    j["ranking"] = ranking;
    nlohmann::json rows = nlohmann::json::array();
    for (const MethodEvaluation& e : evaluations) {
        nlohmann::json row = {{"method", e.method}, {"target", e.target}, {"seconds", e.seconds}, {"values", e.values}};
        if (!e.randomisation.empty()) {
            nlohmann::json stages = nlohmann::json::array();
            for (size_t s = 0; s < e.randomisation.size(); ++s) {
                stages.push_back(
                    {{"layers", e.randomisationStages[s]},
                     {"rank_correlation",
                      std::isfinite(e.randomisation[s]) ? nlohmann::json(e.randomisation[s]) : nlohmann::json()}});
            }
            row["randomisation_stages"] = stages;
        }
        rows.push_back(row);
    }
    j["evaluations"] = rows;
    return j;
}

std::string Benchmark::csv(bool withSeconds) const {
    std::map<std::string, std::map<std::string, size_t>> counts;
    for (const MethodEvaluation& e : evaluations) {
        for (const auto& [metric, v] : e.values)
            counts[e.method][metric] += std::isfinite(v);
    }
    std::string out =
        withSeconds ? "method,metric,mean,sd,n,better,seconds_per_target\n" : "method,metric,mean,sd,n,better\n";
    for (const auto& [method, metrics] : summary) {
        for (const auto& [metric, ms] : metrics) {
            out += fmt::format("{},{},{:.6g},{:.6g},{},{}", method, metric, ms.first, ms.second, counts[method][metric],
                               lowerIsBetter(metric) ? "lower" : "higher");
            out += withSeconds ? fmt::format(",{:.4g}\n", seconds.count(method) ? seconds.at(method) : 0.0)
                               : std::string("\n");
        }
    }
    return out;
}

std::string Benchmark::curvesCsv() const {
    std::string out = "method,target,curve,fraction,normalised_score\n";
    for (const MethodEvaluation& e : evaluations) {
        for (const auto& [name, curve] : e.curves) {
            for (size_t n = 0; n < curve.fractions.size(); ++n) {
                out += fmt::format("{},\"{}\",{},{:.4g},{:.6g}\n", e.method, e.target, name, curve.fractions[n],
                                   curve.scores[n]);
            }
        }
    }
    return out;
}

} // namespace segxai
