#include "app/gui/automation/script.h"

#include "app/gui/application.h"
#include "engine/core/error.h"
#include "engine/core/log.h"

#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

namespace segxai::app {
namespace {

std::vector<std::string> tokens(const std::string& line, const std::string& where) {
    std::vector<std::string> out;
    std::string current;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
        } else if (!quoted && c == '#') {
            break;
        } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (any) out.push_back(current);
            current.clear();
            any = false;
        } else {
            current += c;
            any = true;
        }
    }
    if (quoted) throw Error(where + ": unterminated quote");
    if (any) out.push_back(current);
    return out;
}

// Argument counts: minimum and maximum (-1: any).
const std::map<std::string, std::pair<int, int>> kCommands = {
    {"drop", {1, -1}},
    {"compare", {1, 4}},
    {"layout", {1, 2}},
    {"pick", {1, 1}},
    {"crosshair", {1, 1}},
    {"layer", {1, 1}},
    {"analyse-lesions", {0, 2}},
    {"show-lesion", {1, 1}},
    {"save-lesion-plot", {2, 2}},
    {"save-plot", {2, 2}},
    {"save-lesions", {1, 1}},
    {"aggregate", {1, 1}},
    {"show-aggregation", {1, 2}},
    {"benchmark", {2, 2}},
    {"uncertainty", {0, -1}},
    {"show-uncertainty", {1, 1}},
    {"fade", {1, 1}},
    {"compare-models", {1, -1}},
    {"show-disagreement", {1, 1}},
    {"synthetic-lesion", {2, 3}},
    {"remove-synthetic-lesion", {0, 0}},
    {"explain-instance", {0, 0}},
    {"explain", {0, 1}},
    {"screenshot", {1, 1}},
    {"frame-times", {0, 0}},
    {"figure", {1, 2}},
    {"view", {3, 4}},
    {"export-map", {2, 2}},
    {"export-segmentation", {1, 1}},
    {"save-session", {1, 1}},
    {"open-session", {1, 1}},
    {"quit", {0, 1}},
};

std::pair<int, int> size(const std::string& text, const std::string& where) {
    int w = 0, h = 0;
    if (std::sscanf(text.c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
        throw Error(where + ": expected a size WxH, not " + text);
    return {w, h};
}

int panelIndex(const std::string& text, const std::string& where) {
    if (text == "difference") return kMaxPanels;
    if (text.size() == 1 && text[0] >= 'A' && text[0] < 'A' + kMaxPanels) return text[0] - 'A';
    throw Error(where + ": a panel is A, B, C, D or difference, not " + text);
}

int viewIndex(const std::string& text, const std::string& where) {
    const char* names[] = {"axial", "coronal", "sagittal", "3d"};
    for (int v = 0; v <= kVolumeView; ++v) {
        if (text == names[v]) return v;
    }
    throw Error(where + ": a view is axial, coronal, sagittal or 3d, not " + text);
}

} // namespace

Index3 voxel(const std::string& text, const std::string& where) {
    long long i = 0, j = 0, k = 0;
    char extra = 0;
    if (std::sscanf(text.c_str(), "%lld,%lld,%lld%c", &i, &j, &k, &extra) != 3)
        throw Error(where + ": expected a voxel I,J,K, not " + text);
    return {i, j, k};
}

std::unique_ptr<ScriptRunner> ScriptRunner::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open the script");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return fromLines(lines, path);
}

std::unique_ptr<ScriptRunner> ScriptRunner::fromLines(const std::vector<std::string>& lines,
                                                      const std::string& origin) {
    auto runner = std::make_unique<ScriptRunner>();
    runner->m_path = origin;
    for (int number = 1; number <= int(lines.size()); ++number) {
        const std::string& line = lines[size_t(number - 1)];
        const std::string where = fmt::format("{}:{}", origin, number);
        auto words = tokens(line, where);
        if (words.empty()) continue;
        auto it = kCommands.find(words[0]);
        if (it == kCommands.end()) throw Error(where + ": unknown command '" + words[0] + "'");
        const int arguments = int(words.size()) - 1;
        if (arguments < it->second.first || (it->second.second >= 0 && arguments > it->second.second)) {
            throw Error(fmt::format("{}: '{}' takes {} argument(s), not {}", where, words[0],
                                    it->second.first == it->second.second ? std::to_string(it->second.first)
                                                                          : fmt::format("{} or more", it->second.first),
                                    arguments));
        }
        runner->m_lines.push_back(std::move(words));
        runner->m_lineNumbers.push_back(number);
    }
    return runner;
}

bool ScriptRunner::step(Application& app) {
    if (done()) return true;
    const auto& w = m_lines[m_next];
    const std::string where = fmt::format("{}:{}", m_path, m_lineNumbers[m_next]);
    ++m_next;
    logInfo("script: {}", fmt::join(w, " "));
    try {
        const std::string& c = w[0];
        if (c == "drop") {
            app.dropPaths(std::vector<std::string>(w.begin() + 1, w.end()));
        } else if (c == "compare") {
            app.compare(std::vector<std::string>(w.begin() + 1, w.end()));
        } else if (c == "layout") {
            app.setLayout(w[1] == "compare", w.size() > 2 ? viewIndex(w[2], where) : -1);
        } else if (c == "pick") {
            app.pickVoxel(voxel(w[1], where));
        } else if (c == "crosshair") {
            app.moveCrosshair(voxel(w[1], where));
        } else if (c == "layer") {
            app.setLayer(w[1]);
        } else if (c == "analyse-lesions") {
            app.analyseLesions(w.size() > 1 ? std::stoi(w[1]) : 20, w.size() > 2 ? std::stod(w[2]) : 10.0);
        } else if (c == "show-lesion") {
            app.showLesion(std::stoi(w[1]));
        } else if (c == "save-lesion-plot" || c == "save-plot") {
            app.saveLesionPlot(w[1], w[2]);
        } else if (c == "aggregate") {
            app.aggregate(parseMethod(w[1]));
        } else if (c == "show-aggregation") {
            app.showAggregation(w[1], w.size() > 2 ? w[2] : std::string());
        } else if (c == "benchmark") {
            std::vector<Method> methods;
            std::vector<Metric> metrics;
            std::stringstream m(w[1]), k(w[2]);
            for (std::string item; std::getline(m, item, ',');)
                methods.push_back(parseMethod(item));
            for (std::string item; std::getline(k, item, ',');)
                metrics.push_back(parseMetric(item));
            app.benchmark(methods, metrics);
        } else if (c == "save-lesions") {
            app.saveLesionAnalysis(w[1]);
        } else if (c == "uncertainty") {
            app.runUncertainty(std::vector<std::string>(w.begin() + 1, w.end()));
        } else if (c == "show-uncertainty") {
            app.showUncertainty(w[1]);
        } else if (c == "fade") {
            app.fadeByCertainty(w[1] == "on");
        } else if (c == "compare-models") {
            app.compareModels(std::vector<std::string>(w.begin() + 1, w.end()));
        } else if (c == "show-disagreement") {
            app.showDisagreement(std::stoi(w[1]));
        } else if (c == "synthetic-lesion") {
            std::vector<double> contrast;
            std::stringstream list(w[2]);
            for (std::string item; std::getline(list, item, ',');)
                contrast.push_back(std::stod(item));
            app.paintSyntheticLesion(std::stod(w[1]), contrast, w.size() > 3 ? std::stod(w[3]) : 1.0);
        } else if (c == "remove-synthetic-lesion") {
            app.removeSyntheticLesion();
        } else if (c == "explain-instance") {
            app.explainSelectedInstance();
        } else if (c == "explain") {
            app.explainTarget(w.size() > 1 ? w[1] : "");
        } else if (c == "frame-times") {
            app.reportFrameTimes();
        } else if (c == "screenshot") {
            app.saveWindowScreenshot(w[1]);
        } else if (c == "figure") {
            const auto s = w.size() > 2 ? size(w[2], where) : std::pair<int, int>{0, 0};
            app.saveFigure(w[1], s.first, s.second);
        } else if (c == "view") {
            const auto s = w.size() > 4 ? size(w[4], where) : std::pair<int, int>{0, 0};
            app.saveViewImage(panelIndex(w[1], where), viewIndex(w[2], where), w[3], s.first, s.second);
        } else if (c == "export-map") {
            app.exportMap(panelIndex(w[1], where), w[2]);
        } else if (c == "export-segmentation") {
            app.exportSegmentation(w[1]);
        } else if (c == "save-session") {
            app.saveSessionFile(w[1]);
        } else if (c == "open-session") {
            app.openSessionFile(w[1]);
        } else if (c == "quit") {
            app.quit(w.size() > 1 ? std::stoi(w[1]) : 0);
        }
    } catch (const std::exception& e) {
        app.reportError(e.what());
    }
    return done();
}

} // namespace segxai::app
