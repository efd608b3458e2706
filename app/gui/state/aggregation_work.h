#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/workspace.h"
#include "engine/analysis/aggregation.h"
#include "engine/explain/faithfulness.h"

#include <functional>
#include <memory>

namespace segxai::app {

// Agg2Exp and the faithfulness benchmark of the open segmentation, on the engine thread.
// Both follow the segmentation's generation.
class AggregationWork {
public:
    AggregationWork(Workspace& workspace, Comparison& comparison) : m_workspace(workspace), m_comparison(comparison) {}

    struct Aggregation {
        AggregationMatrix matrix;
        std::vector<Explanation> maps; // per row
        Method method = Method::Saliency;
        ExplainParameters parameters;
        double seconds = 0.0;
        uint64_t segmentationGeneration = 0;
    };
    // Every class explained with one method, and the class x segment matrix.
    void aggregate(Method method, const ExplainParameters& parameters);
    bool aggregating() const;
    std::shared_ptr<const Aggregation> aggregation() const;
    // Shows row `row`'s class map restricted to segment `segment` (-1: the whole map) in panel
    // A, and shades the segments by that class's attribution mass (`part`) in every view and
    // in 3D. The restriction runs on the engine thread.
    void showCell(int row, int segment, AttributionPart part);
    // The cell panel A shows (nullptr when it shows something else).
    const MapSource* shownCell() const;
    void clearShading();

    void runBenchmark(std::vector<Method> methods, std::vector<Metric> metrics, const ExplainParameters& parameters,
                      const MetricOptions& options);
    bool benchmarking() const;
    std::shared_ptr<const Benchmark> benchmark() const;

    // Moves whenever an aggregation or a benchmark arrives.
    uint64_t revision() const { return m_revision; }

    // Once per frame: the segment shading goes with the segmentation it shades.
    void update();

    // Called when an aggregation arrives, and when one fails or is cancelled (session restore).
    std::function<void()> onAggregated;
    std::function<void()> onAggregationFailed;

private:
    Workspace& m_workspace;
    Comparison& m_comparison;
    std::shared_ptr<const Aggregation> m_aggregation;
    std::shared_ptr<const Benchmark> m_benchmark;
    uint64_t m_benchmarkSegmentation = 0;
    uint64_t m_shadingSegmentation = 0; // the segmentation ViewerState::segmentShading shades
    uint64_t m_revision = 0;
};

} // namespace segxai::app
