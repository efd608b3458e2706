#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/panels/plot_export.h"
#include "app/gui/state/document.h"

#include <string>
#include <vector>

namespace segxai::app {

// The Aggregation tab (Agg2Exp): every class explained at once with one method; the class x
// segment matrix as a heatmap (mass or mean; |E|, positive or negative part). A click on a
// cell shows the class's map restricted to that segment in every view and shades the
// segments, in the slices and in 3D, by where the class's attribution lies; a click on a row
// shows its whole map. Below, the faithfulness benchmark: chosen methods x metrics over every
// class, a metric's means with error bars, the mean deletion curves, and which method is the
// most faithful; CSV, JSON and PNG exports.
class AggregationPanel {
public:
    void draw(Document& document, FileDialog& files);
    PlotExport& plots() { return m_plots; }

private:
    void drawAggregation(Document& document, FileDialog& files);
    void drawMatrix(Document& document, const AggregationWork::Aggregation& a, FileDialog& files);
    void drawMatrixTable(Document& document, const AggregationWork::Aggregation& a, bool large);
    void drawScale(const char* meaning, double top);
    void drawBenchmark(Document& document, FileDialog& files);
    void drawBenchmarkResults(const Benchmark& b, FileDialog& files);

    int m_method = 0; // index into allMethods()
    ExplainParameters m_parameters;
    int m_mean = 0; // 0: mass, 1: mean
    int m_part = 0; // AttributionPart
    std::vector<bool> m_benchmarkMethods;
    std::vector<bool> m_benchmarkMetrics;
    MetricOptions m_metricOptions;
    int m_shownMetric = 0; // index into the benchmark's summary keys
    PlotExport m_plots;
    std::string m_message;
    bool m_initialised = false;
};

} // namespace segxai::app
