#include "app/gui/state/aggregation_work.h"

#include "engine/core/log.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

namespace segxai::app {
namespace {

const JobSlot kAggregateSlot{"aggregate"};
const JobSlot kCellSlot{"aggregation cell"};
const JobSlot kBenchmarkSlot{"benchmark"};

// Row `row`'s class map, restricted to where segment `segment` is predicted (-1: all of it),
// as panel A shows it.
std::shared_ptr<const ExplanationSet> cellMaps(const AggregationWork::Aggregation& a, const Segmentation& segmentation,
                                               const Geometry& studyGrid, const MapSource& source) {
    Explanation e = a.maps[size_t(source.row)];
    const int cls = a.matrix.targetClasses[size_t(source.row)];
    if (source.segment >= 0) {
        for (ExplanationMap& map : e.maps) {
            const LabelVolume labels = map.values.geometry.sameGrid(segmentation.labels.geometry)
                                           ? segmentation.labels
                                           : resampleNearest(segmentation.labels, map.values.geometry);
            for (size_t n = 0; n < map.values.voxels.size(); ++n) {
                if (labels.labels[n] != source.segment) map.values.voxels[n] = 0.0f;
            }
        }
        e.targetDescription = fmt::format("class {}: its {} map in segment {}", a.matrix.classNames[size_t(cls)],
                                          methodTitle(e.method), a.matrix.classNames[size_t(source.segment)]);
    }
    Target target;
    target.classIndex = cls;
    target.mask.resize(segmentation.labels.labels.size());
    for (size_t n = 0; n < target.mask.size(); ++n)
        target.mask[n] = segmentation.labels.labels[n] == cls;
    target.description = e.targetDescription;
    return makeExplanationSet({e}, target, studyGrid, source, a.segmentationGeneration);
}

} // namespace

void AggregationWork::aggregate(Method method, const ExplainParameters& parameters) {
    const auto on = m_workspace.segmented("the aggregation");
    if (!on) return;
    m_workspace.jobs().submit(
        kAggregateSlot, "Aggregating (every class)",
        [on = *on, method, parameters](JobContext& job) {
            const auto start = std::chrono::steady_clock::now();
            auto result = std::make_shared<Aggregation>();
            result->matrix =
                aggregateStudy(*on.model, *on.study, *on.segmentation, method, parameters, {}, &job, &result->maps);
            result->method = method;
            result->parameters = parameters;
            result->segmentationGeneration = on.generation;
            result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            return std::shared_ptr<const Aggregation>(result);
        },
        [this](std::shared_ptr<const Aggregation> aggregation) {
            m_aggregation = std::move(aggregation);
            ++m_revision;
            logInfo("{}: {} classes aggregated over {} segments in {:.1f} s", m_aggregation->matrix.method,
                    m_aggregation->matrix.rows.size(), m_aggregation->matrix.classNames.size(), m_aggregation->seconds);
            if (onAggregated) onAggregated();
        },
        [this](const JobReport& report) {
            m_workspace.messages().jobEnded(report);
            if (onAggregationFailed) onAggregationFailed();
        });
}

bool AggregationWork::aggregating() const {
    return m_workspace.jobs().busy(kAggregateSlot) || m_workspace.jobs().busy(kCellSlot);
}
bool AggregationWork::benchmarking() const {
    return m_workspace.jobs().busy(kBenchmarkSlot);
}

std::shared_ptr<const AggregationWork::Aggregation> AggregationWork::aggregation() const {
    return m_aggregation && m_aggregation->segmentationGeneration == m_workspace.segmentationGeneration()
               ? m_aggregation
               : nullptr;
}

std::shared_ptr<const Benchmark> AggregationWork::benchmark() const {
    return m_benchmarkSegmentation == m_workspace.segmentationGeneration() ? m_benchmark : nullptr;
}

void AggregationWork::showCell(int row, int segment, AttributionPart part) {
    const auto a = aggregation();
    if (!a || !m_workspace.study() || row < 0 || row >= int(a->maps.size())) return;
    MapSource source;
    source.kind = MapSource::Kind::AggregationCell;
    source.row = row;
    source.segment = segment;
    source.part = part;
    // Segments shaded by where this class's attribution lies.
    ViewerState& viewer = m_workspace.viewer();
    const auto& masses = a->matrix.rows[size_t(row)].mass[size_t(part)];
    const double most = *std::max_element(masses.begin(), masses.end());
    viewer.segmentShading.assign(masses.size(), 0.0f);
    for (size_t k = 0; k < masses.size(); ++k)
        viewer.segmentShading[k] = most > 0.0 ? float(masses[k] / most) : 0.0f;
    m_shadingSegmentation = a->segmentationGeneration;
    viewer.showSegmentation = true;
    viewer.segmentationOutline = true;
    auto segmentation = m_workspace.segmentation();
    auto study = m_workspace.study()->study;
    m_workspace.jobs().submit(
        kCellSlot, "Showing an aggregation cell",
        [a, segmentation, study, source](JobContext&) { return cellMaps(*a, *segmentation, study->geometry, source); },
        [this](std::shared_ptr<const ExplanationSet> set) { m_comparison.show(0, std::move(set)); });
}

const MapSource* AggregationWork::shownCell() const {
    const auto& panels = m_comparison.panels();
    if (panels.empty() || !panels[0].result) return nullptr;
    const MapSource& source = panels[0].result->source;
    return source.kind == MapSource::Kind::AggregationCell ? &source : nullptr;
}

void AggregationWork::clearShading() {
    m_workspace.viewer().segmentShading.clear();
}

void AggregationWork::update() {
    if (!m_workspace.viewer().segmentShading.empty() && m_shadingSegmentation != m_workspace.segmentationGeneration()) {
        clearShading();
    }
}

void AggregationWork::runBenchmark(std::vector<Method> methods, std::vector<Metric> metrics,
                                   const ExplainParameters& parameters, const MetricOptions& options) {
    const auto on = m_workspace.segmented("the benchmark");
    if (!on) return;
    const uint64_t generation = on->generation;
    m_workspace.jobs().submit(
        kBenchmarkSlot, "Faithfulness benchmark",
        [on = *on, methods, metrics, options, parameters](JobContext& job) {
            auto b = std::make_shared<Benchmark>();
            b->methods = methods;
            b->metrics = metrics;
            b->options = options;
            const std::vector<Target> targets = classTargets(*on.study, *on.segmentation, {});
            b->evaluations = evaluateMethods(*on.model, *on.study, targets, methods, parameters, metrics, options,
                                             &on.segmentation->labels, &job);
            b->summarise();
            return std::shared_ptr<const Benchmark>(b);
        },
        [this, generation](std::shared_ptr<const Benchmark> benchmark) {
            m_benchmark = std::move(benchmark);
            m_benchmarkSegmentation = generation;
            ++m_revision;
            logInfo("faithfulness benchmark: most faithful {} ({})", m_benchmark->mostFaithful, m_benchmark->ranking);
        });
}

} // namespace segxai::app
