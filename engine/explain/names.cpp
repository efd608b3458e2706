// The names of the explanation methods (engine/explain/explanation.h) and of the metrics
// (engine/explain/faithfulness.h): one table each, read through engine/core/name_table.h.
#include "engine/core/error.h"
#include "engine/core/name_table.h"
#include "engine/explain/explanation.h"
#include "engine/explain/faithfulness.h"

#include <fmt/format.h>

namespace segxai {
namespace {

constexpr EnumName<Method> kMethods[] = {
    {Method::SegGradCam, "seg-grad-cam", "Seg-Grad-CAM"},
    {Method::SegHiResGradCam, "seg-hires-grad-cam", "Seg-HiRes-Grad-CAM"},
    {Method::SegGradCamPlusPlus, "seg-grad-cam++", "Seg-Grad-CAM++"},
    {Method::Saliency, "saliency", "Saliency"},
    {Method::SaliencyAbs, "saliency-abs", "Saliency (absolute)"},
    {Method::InputXGradient, "input-x-gradient", "Input x gradient"},
    {Method::SmoothGrad, "smoothgrad", "SmoothGrad"},
    {Method::IntegratedGradients, "integrated-gradients", "Integrated Gradients"},
    {Method::Occlusion, "occlusion", "Occlusion"},
    {Method::SegmentAblation, "segment-ablation", "Segment ablation"},
    {Method::KernelShap, "kernel-shap", "KernelSHAP"},
};

constexpr EnumName<Metric> kMetrics[] = {
    {Metric::FaithfulnessCorrelation, "faithfulness-correlation", "Faithfulness correlation"},
    {Metric::Deletion, "deletion", "Deletion"},
    {Metric::Insertion, "insertion", "Insertion"},
    {Metric::Sensitivity, "sensitivity", "Average sensitivity"},
    {Metric::Complexity, "complexity", "Effective complexity"},
    {Metric::Randomisation, "randomisation", "Cascading randomisation"},
};

} // namespace

const char* methodId(Method method) {
    return idOf(kMethods, method);
}

const char* methodTitle(Method method) {
    return titleOf(kMethods, method);
}

Method parseMethod(const std::string& id) {
    if (const auto method = valueOf(kMethods, id)) return *method;
    throw Error(fmt::format("unknown method '{}' (methods: {}, all-gradient)", id, idList(kMethods)));
}

std::vector<Method> allMethods() {
    return allValues(kMethods);
}

const char* metricId(Metric metric) {
    return idOf(kMetrics, metric);
}

Metric parseMetric(const std::string& id) {
    if (const auto metric = valueOf(kMetrics, id)) return *metric;
    throw Error(fmt::format("unknown metric '{}' (metrics: {})", id, idList(kMetrics)));
}

std::vector<Metric> allMetrics() {
    return allValues(kMetrics);
}

} // namespace segxai
