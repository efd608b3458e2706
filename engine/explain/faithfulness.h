#pragma once
#include "engine/explain/explanation.h"
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

class JobContext;

// Faithfulness and quality of explanation maps (docs/methods.md#faithfulness-and-quality-metrics, "Faithfulness and
// quality metrics"), on the model's grid and input. A map's attribution per voxel is the sum
// over input channels (CAM and feature maps: the map itself). Perturbed voxels take the
// baseline in every channel; the target's voxels are frozen from the clean prediction.
enum class Metric { FaithfulnessCorrelation, Deletion, Insertion, Sensitivity, Complexity, Randomisation };
const char* metricId(Metric metric);       // "faithfulness-correlation", "deletion", ...
Metric parseMetric(const std::string& id); // throws segxai::Error listing the ids
std::vector<Metric> allMetrics();

struct MetricOptions {
    int correlationRuns = 50;        // faithfulness correlation: random subsets
    double subsetFraction = 0.01;    // ... each of this share of the voxels
    int curveSteps = 10;             // deletion / insertion: points after the clean one
    int sensitivitySamples = 2;      // average sensitivity: noisy inputs
    double sensitivityRadius = 0.02; // ... uniform noise, fraction of each channel's range
    double complexityEpsilon = 0.01; // effective complexity: |E| > eps max |E|
    int randomisationStages = 4;     // cascading randomisation: groups of layers, top first
    Baseline baseline;               // what removed voxels become (zero)
    uint64_t seed = 0;
};

// A curve of S against the share of voxels removed (deletion) or revealed (insertion),
// normalised by the clean score, in the order most relevant first (MoRF) or least first (LeRF).
struct Curve {
    std::vector<double> fractions, scores;
    double area = 0.0; // trapezoid area under the normalised curve
};

// One method's maps of one target, measured.
struct MethodEvaluation {
    std::string method;
    std::string target;
    double seconds = 0.0;                         // computing the maps
    std::map<std::string, double> values;         // "faithfulness-correlation", "deletion-morf", "deletion-lerf",
                                                  // "insertion-morf", "insertion-lerf", "sensitivity",
                                                  // "complexity", "randomisation" (rank correlation, all layers random)
    std::map<std::string, Curve> curves;          // deletion / insertion, MoRF / LeRF
    std::vector<double> randomisation;            // rank correlation after each cascading stage
    std::vector<std::string> randomisationStages; // the layers each stage adds
};

// Means and standard deviations per method and metric, and which method is the most
// faithful (highest mean faithfulness correlation; ties by lowest MoRF deletion area).
struct Benchmark {
    std::vector<Method> methods;
    std::vector<Metric> metrics;
    MetricOptions options;
    std::vector<MethodEvaluation> evaluations;
    std::map<std::string, std::map<std::string, std::pair<double, double>>> summary; // method -> metric -> (mean, sd)
    std::map<std::string, double> seconds;                                           // method -> mean seconds per study
    std::string mostFaithful;
    std::string ranking; // the methods by that order, as text

    void summarise();
    nlohmann::json toJson() const;
    // method, metric, mean, sd, n, better, and (withSeconds) seconds_per_target
    std::string csv(bool withSeconds = true) const;
    std::string curvesCsv() const; // method, target, curve, fraction, score
};

// Evaluates every method on every target of one study (targets explained together per
// method). `segments`: the predicted labels (feature methods). Progress and cancel through
// `job`; throws segxai::Error.
std::vector<MethodEvaluation> evaluateMethods(const Model& model, const Study& study,
                                              const std::vector<Target>& targets, const std::vector<Method>& methods,
                                              const ExplainParameters& parameters, const std::vector<Metric>& metrics,
                                              const MetricOptions& options, const LabelVolume* segments,
                                              JobContext* job = nullptr);

// Pearson and Spearman correlations (0 when either side is constant).
double pearson(const std::vector<double>& a, const std::vector<double>& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);

} // namespace segxai
