// The Workspace's Agg2Exp aggregation and faithfulness benchmark (app/gui/workspace.h).
#include "app/gui/state/workspace.h"

#include "engine/core/job_runner.h"
#include "engine/core/log.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

namespace segxai::app {
namespace {

const char* kAggregateSlot = "aggregate";
const char* kBenchmarkSlot = "benchmark";

} // namespace

void Workspace::aggregate(Method method, const ExplainParameters& parameters) {
    if (!m_study || !m_model || !m_segmentation) {
        reportError("the aggregation needs a study, a model and its segmentation");
        return;
    }
    auto study = m_study->study;
    auto model = m_model->model;
    auto segmentation = m_segmentation;
    m_jobs.submit(kAggregateSlot, "Aggregating (every class)", [study, model, segmentation, method, parameters](JobContext& job) {
        const auto start = std::chrono::steady_clock::now();
        auto result = std::make_shared<Aggregation>();
        result->matrix = aggregateStudy(*model, *study, *segmentation, method, parameters, {}, &job, &result->maps);
        result->method = method;
        result->parameters = parameters;
        result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return std::any(std::shared_ptr<const Aggregation>(result));
    });
}

void Workspace::showAggregationCell(int row, int segment, AttributionPart part) {
    if (!m_aggregation || !m_study || row < 0 || row >= int(m_aggregation->maps.size())) return;
    const Aggregation& a = *m_aggregation;
    Explanation e = a.maps[size_t(row)];
    const int cls = a.matrix.targetClasses[size_t(row)];
    if (segment >= 0) {
        // The map where segment `segment` is predicted, zero elsewhere (on the map's grid).
        for (ExplanationMap& map : e.maps) {
            const LabelVolume labels = map.values.geometry.sameGrid(m_segmentation->labels.geometry)
                                           ? m_segmentation->labels
                                           : resampleNearest(m_segmentation->labels, map.values.geometry);
            for (size_t n = 0; n < map.values.voxels.size(); ++n) {
                if (labels.labels[n] != segment) map.values.voxels[n] = 0.0f;
            }
        }
        e.targetDescription = fmt::format("class {}: its {} map in segment {}", a.matrix.classNames[size_t(cls)], methodTitle(e.method),
                                          a.matrix.classNames[size_t(segment)]);
    }
    Target target;
    target.classIndex = cls;
    target.mask.resize(m_segmentation->labels.labels.size());
    for (size_t n = 0; n < target.mask.size(); ++n) target.mask[n] = m_segmentation->labels.labels[n] == cls;
    target.description = e.targetDescription;
    MapSource source;
    source.kind = MapSource::Kind::AggregationCell;
    source.row = row;
    source.segment = segment;
    source.part = part;
    auto set = makeExplanationSet({e}, target, m_study->study->geometry, source);
    if (m_panels.empty()) setPanelCount(1);
    adoptExplanations(0, std::move(set));
    // Segments shaded by where this class's attribution lies.
    const auto& masses = a.matrix.rows[size_t(row)].mass[size_t(part)];
    const double most = *std::max_element(masses.begin(), masses.end());
    m_viewer.segmentShading.assign(masses.size(), 0.0f);
    for (size_t k = 0; k < masses.size(); ++k) m_viewer.segmentShading[k] = most > 0.0 ? float(masses[k] / most) : 0.0f;
    m_viewer.showSegmentation = true;
    m_viewer.segmentationOutline = true;
}

void Workspace::clearSegmentShading() { m_viewer.segmentShading.clear(); }

const MapSource* Workspace::shownAggregationCell() const {
    if (m_panels.empty() || !m_panels[0].result) return nullptr;
    const MapSource& source = m_panels[0].result->source;
    return source.kind == MapSource::Kind::AggregationCell ? &source : nullptr;
}

void Workspace::runBenchmark(std::vector<Method> methods, std::vector<Metric> metrics, const ExplainParameters& parameters,
                             const MetricOptions& options) {
    if (!m_study || !m_model || !m_segmentation) {
        reportError("the benchmark needs a study, a model and its segmentation");
        return;
    }
    auto study = m_study->study;
    auto model = m_model->model;
    auto segmentation = m_segmentation;
    m_jobs.submit(kBenchmarkSlot, "Faithfulness benchmark", [=](JobContext& job) {
        auto b = std::make_shared<Benchmark>();
        b->methods = methods;
        b->metrics = metrics;
        b->options = options;
        std::vector<Target> targets;
        for (int c = 1; c < int(segmentation->classNames.size()); ++c) {
            Target t = resolveTarget(parseTargetSpec(fmt::format("class:{}", c)), *study, *segmentation);
            t.description = segmentation->classNames[size_t(c)];
            if (t.voxelCount > 0) targets.push_back(std::move(t));
        }
        b->evaluations = evaluateMethods(*model, *study, targets, methods, parameters, metrics, options, &segmentation->labels, &job);
        b->summarise();
        return std::any(std::shared_ptr<const Benchmark>(b));
    });
}

bool Workspace::processAggregationResult(JobResult& result) {
    const bool aggregate = result.slot == kAggregateSlot, benchmark = result.slot == kBenchmarkSlot;
    if (!aggregate && !benchmark) return false;
    if (aggregate && result.status != JobStatus::Succeeded) m_restoringAggregation = false;
    if (result.status == JobStatus::Failed) {
        reportError(result.error);
    } else if (result.status == JobStatus::Cancelled) {
        logInfo("{} cancelled", result.title);
    } else if (aggregate) {
        m_aggregation = std::any_cast<std::shared_ptr<const Aggregation>>(result.value);
        logInfo("{}: {} classes aggregated over {} segments in {:.1f} s", m_aggregation->matrix.method,
                m_aggregation->matrix.rows.size(), m_aggregation->matrix.classNames.size(), m_aggregation->seconds);
        restoreAggregationView();
    } else {
        m_benchmark = std::any_cast<std::shared_ptr<const Benchmark>>(result.value);
        logInfo("faithfulness benchmark: most faithful {} ({})", m_benchmark->mostFaithful, m_benchmark->ranking);
    }
    return true;
}

} // namespace segxai::app
