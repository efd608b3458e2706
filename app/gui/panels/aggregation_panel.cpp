#include "app/gui/panels/aggregation_panel.h"

#include "app/gui/panels/widgets.h"
#include "engine/core/log.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_text.h"
#include "render/colormap.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {
namespace {

// The metrics' summary keys in display order, with what "better" means.
const std::vector<std::pair<std::string, const char*>> kShownMetrics = {
    {"faithfulness-correlation", "higher is better"},
    {"deletion-morf", "lower is better"},
    {"deletion-lerf", "higher is better"},
    {"insertion-morf", "higher is better"},
    {"insertion-lerf", "lower is better"},
    {"sensitivity", "lower is better"},
    {"complexity", "lower is better"},
    {"randomisation", "lower is better (the map follows the weights)"}};

std::string shortName(const std::string& name) {
    return name.size() <= 5 ? name : name.substr(0, 4) + ".";
}

} // namespace

void AggregationPanel::draw(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    m_plots.beginFrame();
    if (!workspace.study() || !workspace.model()) {
        ImGui::TextWrapped(
            "Open a study and a model: every class's prediction is explained, and the share of its "
            "attribution that lies in each predicted segment is shown as a class x segment matrix (Agg2Exp). "
            "The benchmark then scores the methods' faithfulness.");
        return;
    }
    if (!workspace.segmentation()) {
        ImGui::TextWrapped("Segment the study first (Model tab).");
        return;
    }
    if (!m_initialised) {
        m_initialised = true;
        m_parameters.samples = 10;
        m_parameters.steps = 10;
        m_parameters.coalitions = 32;
        const auto methods = allMethods();
        m_method = int(std::find(methods.begin(), methods.end(), Method::Saliency) - methods.begin());
        m_benchmarkMethods.assign(methods.size(), false);
        for (Method m :
             {Method::Saliency, Method::InputXGradient, Method::SegGradCam, Method::SegHiResGradCam, Method::SmoothGrad,
              Method::IntegratedGradients, Method::SegmentAblation, Method::KernelShap}) {
            m_benchmarkMethods[size_t(std::find(methods.begin(), methods.end(), m) - methods.begin())] = true;
        }
        m_benchmarkMetrics.assign(allMetrics().size(), true);
        m_metricOptions.correlationRuns = 20;
        m_metricOptions.curveSteps = 5;
        m_metricOptions.sensitivitySamples = 1;
        m_metricOptions.randomisationStages = 2;
    }
    drawAggregation(document, files);
    ImGui::Separator();
    drawBenchmark(document, files);
    m_plots.drawEnlarged();
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1, 0.55f, 0.45f, 1), "%s", m_message.c_str());
}

void AggregationPanel::drawAggregation(Document& document, FileDialog& files) {
    const auto methods = allMethods();
    if (ImGui::BeginCombo("method", methodTitle(methods[size_t(m_method)]))) {
        for (int m = 0; m < int(methods.size()); ++m) {
            if (ImGui::Selectable(methodTitle(methods[size_t(m)]), m == m_method)) m_method = m;
        }
        ImGui::EndCombo();
    }
    const Method method = methods[size_t(m_method)];
    if (method == Method::SmoothGrad) inputCount("samples", m_parameters.samples, 1, 100000);
    if (method == Method::IntegratedGradients) inputCount("steps", m_parameters.steps, 1, 100000);
    if (method == Method::KernelShap) inputCount("coalitions", m_parameters.coalitions, 1, 100000);
    const bool busy = document.aggregation.aggregating();
    ImGui::BeginDisabled(busy);
    if (ImGui::Button(busy ? "Aggregating..." : "Aggregate every class", ImVec2(-FLT_MIN, 0))) {
        document.aggregation.aggregate(method, m_parameters);
    }
    ImGui::EndDisabled();
    if (const auto& a = document.aggregation.aggregation()) drawMatrix(document, *a, files);
}

void AggregationPanel::drawMatrix(Document& document, const AggregationWork::Aggregation& a, FileDialog& files) {
    Workspace& workspace = document.workspace;
    const AggregationMatrix& m = a.matrix;
    ImGui::TextDisabled("%s, %zu classes in %.1f s: share of each class's attribution (rows) in each predicted segment",
                        m.method.c_str(), m.rows.size(), a.seconds);
    ImGui::RadioButton("mass", &m_mean, 0);
    ImGui::SameLine();
    ImGui::RadioButton("mean", &m_mean, 1);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x);
    // The cell on show is panel A's (a session reopens it too).
    const MapSource* shown = document.aggregation.shownCell();
    if (shown) m_part = int(shown->part);
    const int partBefore = m_part;
    comboList("##part", m_part, {"|E|", "positive part", "negative part"});
    if (partBefore != m_part && shown)
        document.aggregation.showCell(shown->row, shown->segment, AttributionPart(m_part));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    drawMatrixTable(document, a, false);
    const plots::Rect rect{origin, ImVec2(origin.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y)};
    std::string csv = "study";
    for (const auto& c : aggregationColumns(m)) {
        csv += ',';
        csv += c;
    }
    csv += "\nopen study";
    for (double v : aggregationRow(m))
        csv += fmt::format(",{:.6g}", v);
    m_plots.buttons("matrix", rect, fmt::format("agg2exp_{}", m.method), csv + "\n", files, m_message,
                    [this, &document, &a](ImVec2) {
                        ImGui::TextDisabled("rows: the class explained; columns: the predicted segment its attribution "
                                            "lies in; click a cell for its map there");
                        drawMatrixTable(document, a, true);
                        drawScale("cell colour: the row's share, 0 to the row's largest", 1.0);
                    });
    if (!workspace.viewer().segmentShading.empty() && shown) {
        ImGui::SameLine();
        if (ImGui::SmallButton("class colours")) document.aggregation.clearShading();
        // What the shading in the views means.
        drawScale(fmt::format("segments shaded by {}'s {} (inferno, 0 to its largest)",
                              m.classNames[size_t(m.targetClasses[size_t(shown->row)])],
                              m_mean ? "mean attribution" : "attribution mass")
                      .c_str(),
                  1.0);
    }
}

// A colour scale (inferno) with its meaning, as wide as the panel.
void AggregationPanel::drawScale(const char* meaning, double top) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float width = std::min(240.0f, ImGui::GetContentRegionAvail().x), height = ImGui::GetFontSize() * 0.8f;
    for (int n = 0; n < 48; ++n) {
        const glm::vec3 c = render::colormapColor(render::Colormap::Inferno, (float(n) + 0.5f) / 48.0f);
        draw->AddRectFilled(ImVec2(p.x + width * float(n) / 48.0f, p.y),
                            ImVec2(p.x + width * float(n + 1) / 48.0f, p.y + height),
                            ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, 1.0f)));
    }
    ImGui::Dummy(ImVec2(width, height));
    ImGui::TextDisabled("0 %*s %.3g   %s", int(width / ImGui::CalcTextSize(" ").x) - 8, "", top, meaning);
}

// The class x segment matrix as a table of coloured cells; `large`: full names (the window).
void AggregationPanel::drawMatrixTable(Document& document, const AggregationWork::Aggregation& a, bool large) {
    const AggregationMatrix& m = a.matrix;
    const MapSource* shown = document.aggregation.shownCell();
    const int shownRow = shown ? shown->row : -1, shownSegment = shown ? shown->segment : -1;
    const AttributionPart part = AttributionPart(m_part);
    const size_t K = m.classNames.size();
    const ImGuiTableFlags flags =
        ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoPadInnerX;
    if (!ImGui::BeginTable(large ? "matrixLarge" : "matrix", int(K) + 1, flags)) return;
    auto name = [&](const std::string& n) { return large ? n : shortName(n); };
    // Fit the space: the label column, then K cells (each with a border).
    float label = ImGui::GetFontSize() * 3.2f;
    for (const auto& n : m.classNames)
        label = large ? std::max(label, ImGui::CalcTextSize(n.c_str()).x + 8.0f) : label;
    const float cell =
        std::max(large ? 48.0f : 22.0f, (ImGui::GetContentRegionAvail().x - label - 2.0f * float(K + 1)) / float(K));
    ImGui::TableSetupColumn("class \\ segment", ImGuiTableColumnFlags_WidthFixed, label);
    for (size_t k = 0; k < K; ++k)
        ImGui::TableSetupColumn(name(m.classNames[k]).c_str(), ImGuiTableColumnFlags_WidthFixed, cell);
    ImGui::TableHeadersRow();
    for (size_t r = 0; r < m.rows.size(); ++r) {
        const auto& values = m_mean ? m.rows[r].mean[size_t(part)] : m.rows[r].mass[size_t(part)];
        const double most = *std::max_element(values.begin(), values.end());
        const std::string rowName = m.classNames[size_t(m.targetClasses[r])];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        if (ImGui::Selectable((name(rowName) + "##row" + std::to_string(r)).c_str(),
                              shownRow == int(r) && shownSegment < 0)) {
            document.aggregation.showCell(int(r), -1, part);
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s: its whole map", rowName.c_str());
        for (size_t k = 0; k < K; ++k) {
            ImGui::TableNextColumn();
            const float t = most > 0.0 ? float(values[k] / most) : 0.0f;
            const glm::vec3 c = render::colormapColor(render::Colormap::Inferno, t);
            ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg,
                                   ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, 1.0f)));
            ImGui::PushStyleColor(ImGuiCol_Text, t > 0.6f ? ImVec4(0, 0, 0, 1) : ImVec4(1, 1, 1, 1));
            const std::string text =
                m_mean
                    ? fmt::format("{:.2g}##{}_{}", values[k], r, k)
                    : fmt::format("{}##{}_{}",
                                  values[k] < 0.995 ? fmt::format(".{:02d}", int(std::lround(values[k] * 100))) : "1",
                                  r, k);
            if (ImGui::Selectable(text.c_str(), shownRow == int(r) && shownSegment == int(k))) {
                document.aggregation.showCell(int(r), int(k), part);
            }
            ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) {
                ImGui::SetTooltip("%s's attribution in %s: %s %.4g\nclick: its map there, segments shaded by its mass",
                                  rowName.c_str(), m.classNames[k].c_str(), m_mean ? "mean" : "mass", values[k]);
            }
        }
    }
    ImGui::EndTable();
}

void AggregationPanel::drawBenchmark(Document& document, FileDialog& files) {
    if (ImGui::CollapsingHeader("Faithfulness benchmark")) {
        const auto methods = allMethods();
        ImGui::TextDisabled("methods");
        for (size_t m = 0; m < methods.size(); ++m) {
            if (m % 2) ImGui::SameLine(ImGui::GetContentRegionAvail().x * 0.5f);
            bool on = m_benchmarkMethods[m];
            if (ImGui::Checkbox(methodTitle(methods[m]), &on)) m_benchmarkMethods[m] = on;
        }
        ImGui::TextDisabled("metrics");
        const auto metrics = allMetrics();
        for (size_t m = 0; m < metrics.size(); ++m) {
            if (m % 2) ImGui::SameLine(ImGui::GetContentRegionAvail().x * 0.5f);
            bool on = m_benchmarkMetrics[m];
            if (ImGui::Checkbox(metricId(metrics[m]), &on)) m_benchmarkMetrics[m] = on;
        }
        inputCount("subsets", m_metricOptions.correlationRuns, 2, 100000);
        inputCount("curve steps", m_metricOptions.curveSteps, 1, 1000);
        inputCount("noisy inputs", m_metricOptions.sensitivitySamples, 1, 1000);
        inputCount("random stages", m_metricOptions.randomisationStages, 1, 100);
        std::vector<Method> chosen;
        std::vector<Metric> chosenMetrics;
        for (size_t m = 0; m < methods.size(); ++m) {
            if (m_benchmarkMethods[m]) chosen.push_back(methods[m]);
        }
        for (size_t m = 0; m < metrics.size(); ++m) {
            if (m_benchmarkMetrics[m]) chosenMetrics.push_back(metrics[m]);
        }
        const bool busy = document.aggregation.benchmarking();
        ImGui::BeginDisabled(busy || chosen.empty() || chosenMetrics.empty());
        if (ImGui::Button(busy ? "Evaluating..." : "Run the benchmark (every class)", ImVec2(-FLT_MIN, 0))) {
            document.aggregation.runBenchmark(chosen, chosenMetrics, m_parameters, m_metricOptions);
        }
        ImGui::EndDisabled();
        ImGui::TextDisabled("samples, steps and coalitions as above; it can take minutes");
    }
    if (const auto& b = document.aggregation.benchmark()) drawBenchmarkResults(*b, files);
}

void AggregationPanel::drawBenchmarkResults(const Benchmark& b, FileDialog& files) {
    ImGui::TextColored(ImVec4(0.4f, 0.85f, 0.5f, 1), "most faithful: %s",
                       b.mostFaithful.empty() ? "-" : b.mostFaithful.c_str());
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
    ImGui::TextWrapped("%s", b.ranking.c_str());
    ImGui::PopStyleColor();
    std::vector<std::string> available;
    for (const auto& [key, unused] : kShownMetrics) {
        for (const auto& [method, values] : b.summary) {
            if (values.count(key)) {
                available.push_back(key);
                break;
            }
        }
    }
    if (available.empty()) return;
    m_shownMetric = std::clamp(m_shownMetric, 0, int(available.size()) - 1);
    if (ImGui::BeginCombo("metric", available[size_t(m_shownMetric)].c_str())) {
        for (int n = 0; n < int(available.size()); ++n) {
            if (ImGui::Selectable(available[size_t(n)].c_str(), n == m_shownMetric)) m_shownMetric = n;
        }
        ImGui::EndCombo();
    }
    const std::string key = available[size_t(m_shownMetric)];
    std::vector<std::string> labels;
    std::vector<double> means, sds;
    for (Method m : b.methods) {
        const std::string id = methodId(m);
        auto method = b.summary.find(id);
        if (method == b.summary.end()) continue;
        auto it = method->second.find(key);
        labels.push_back(shortName(id));
        means.push_back(it == method->second.end() ? NAN : it->second.first);
        sds.push_back(it == method->second.end() ? NAN : it->second.second);
    }
    const char* better = "";
    for (const auto& [k, text] : kShownMetrics) {
        if (k == key) better = text;
    }
    const float width = ImGui::GetContentRegionAvail().x;
    const plots::Rect barsRect = plots::bars("##bars", labels, means, sds, fmt::format("{}: {}", key, better).c_str(),
                                             ImVec2(width, ImGui::GetFontSize() * 10.0f));
    const std::string title = fmt::format("{}: {}", key, better);
    m_plots.buttons("bars", barsRect, "benchmark_" + key, b.csv(), files, m_message,
                    [labels, means, sds, title](ImVec2) {
                        ImGui::TextDisabled("x: method; y: the metric's mean over every target, error bars one sd");
                        plots::bars("##barsLarge", labels, means, sds, title.c_str(), ImGui::GetContentRegionAvail());
                    });
    ImGui::SameLine();
    if (ImGui::SmallButton("JSON")) {
        const std::string json = readableJson(b.toJson()) + "\n";
        files.open(
            "Save the benchmark", "table", FileDialog::Mode::Save,
            [this, json](const std::vector<std::string>& paths) {
                try {
                    writeFileAtomically(paths.front(), json);
                    logInfo("saved {}", paths.front());
                } catch (const std::exception& e) {
                    m_message = e.what();
                }
            },
            [](const std::filesystem::path& p) { return p.extension() == ".json"; }, "benchmark.json");
    }
    // Mean deletion curves (most relevant first) per method.
    std::vector<plots::Series> series;
    for (Method m : b.methods) {
        plots::Series s;
        s.name = methodId(m);
        size_t count = 0;
        for (const MethodEvaluation& e : b.evaluations) {
            auto it = e.curves.find("deletion-morf");
            if (e.method != s.name || it == e.curves.end()) continue;
            if (s.x.empty()) {
                s.x = it->second.fractions;
                s.y.assign(s.x.size(), 0.0);
            }
            for (size_t n = 0; n < s.y.size() && n < it->second.scores.size(); ++n)
                s.y[n] += it->second.scores[n];
            ++count;
        }
        if (count == 0) continue;
        for (double& y : s.y)
            y /= double(count);
        series.push_back(s);
    }
    if (!series.empty()) {
        const plots::Rect curvesRect = plots::lines("##deletion", series, "deletion, most relevant first: S / S(clean)",
                                                    ImVec2(width, ImGui::GetFontSize() * 12.0f));
        m_plots.buttons("deletion", curvesRect, "deletion_curves", b.curvesCsv(), files, m_message, [series](ImVec2) {
            ImGui::TextDisabled("x: share of voxels deleted, most relevant first; y: score / score of the clean input");
            plots::lines("##deletionLarge", series, "deletion, most relevant first: S / S(clean)",
                         ImGui::GetContentRegionAvail());
        });
    }
}

} // namespace segxai::app
