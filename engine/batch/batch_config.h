#pragma once
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/lesion_report.h"
#include "engine/explain/explanation.h"
#include "engine/explain/faithfulness.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

// What `segxai batch` runs on every study of a cohort (batch.json). Every section is
// optional; segmentation always runs. Example:
//   {"segmentation": {"write_labels": true, "write_probabilities": false},
//    "explanations": [{"method": "seg-grad-cam", "targets": ["every-class"]},
//                     {"method": "smoothgrad", "targets": ["every-instance"], "parameters": {"samples": 20}}],
//    "write_maps": true,
//    "instances": {"connectivity": 26, "min_size": 10},
//    "lesions": {"class": 1, "methods": ["smoothgrad", "seg-grad-cam++"], "samples": 20, "context_max_mm": 10},
//    "aggregation": {"methods": ["saliency"], "classes": "all"},
//    "metrics": {"methods": ["saliency", "smoothgrad"], "metrics": ["faithfulness-correlation", "deletion"]},
//    "uncertainty": {"tta": "flips", "flip_axes": "xyz", "mc_dropout": 0, "std_classes": [], "write_maps": true},
//    "compare_models": {"models": ["../v2/model"], "method": "seg-grad-cam", "target": "class:1"}}
// Unknown keys are refused (a typo must not silently skip an analysis).
struct BatchExplanation {
    Method method = Method::SegGradCam;
    std::vector<std::string> targets; // "every-class", "every-instance" or target specs (class:C, box:..., ...)
    ExplainParameters parameters;
};

struct BatchLesions {
    LesionAnalysisOptions options;
    bool writeMaps = false;
};

struct BatchAggregation {
    std::vector<Method> methods;
    std::string classes = "all"; // "all" or names / indices, comma-separated
    ExplainParameters parameters;
};

// The model as an ensemble (an nnU-Net folder's folds as members), with test-time
// augmentation and MC dropout.
struct BatchUncertainty {
    TestTimeAugmentation tta;
    int mcDropout = 0;
    uint64_t mcDropoutSeed = 0;
    std::vector<std::string> stdClasses;
    bool writeMaps = true;
};

// The batch's model compared with other versions on every study (paths relative to batch.json's
// folder), optionally each explaining one target.
struct BatchModelComparison {
    std::vector<std::string> models;
    std::optional<StabilityRequest> explanation;
    std::string method, target; // as written (the request parsed from them)
    bool writeMaps = true;
};

struct BatchMetrics {
    std::vector<Method> methods;
    std::vector<Metric> metrics;
    std::string classes = "all";
    MetricOptions options;
    ExplainParameters parameters;
};

struct BatchConfig {
    bool writeLabels = true;
    bool writeProbabilities = false;
    std::vector<BatchExplanation> explanations;
    bool writeMaps = true;
    InstanceOptions instances;
    std::optional<BatchLesions> lesions;
    std::optional<BatchAggregation> aggregation;
    std::optional<BatchMetrics> metrics;
    std::optional<BatchUncertainty> uncertainty;
    std::optional<BatchModelComparison> compareModels;

    // Everything that decides the outputs, with defaults filled in: written to DIR/batch.json
    // and hashed, so a rerun with another configuration recomputes.
    nlohmann::json toJson() const;
};

// Throws segxai::Error naming `origin` and the field: not an object, unknown keys, wrong
// types, unknown methods or metrics, values out of range.
BatchConfig batchConfigFromJson(const nlohmann::json& json, const std::string& origin);
BatchConfig readBatchConfig(const std::string& path);

// "all" (empty: every foreground class) or class names / indices separated by commas.
// Throws segxai::Error for a class the model does not have.
std::vector<int> parseClassList(const std::string& text, const std::vector<std::string>& classNames);

} // namespace segxai
