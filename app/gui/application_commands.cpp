// The application's commands: exports, sessions, comparison, picking (menus and scripts).
#include "app/gui/application.h"
#include "app/gui/state/session.h"
#include "app/gui/views/screenshot.h"
#include "app/gui/views/viewer_panel.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"

#include <GLFW/glfw3.h>
#include <cmath>
#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {

void Application::reportError(const std::string& message) {
    m_errors.push_back(message);
    logError("{}", message);
    if (m_script) m_exitStatus = 1;
}

bool Application::quiescent() const {
    return m_jobs->quiescent() && !m_document->workspace.loading() && !m_gpu.uploading();
}

void Application::dropPaths(const std::vector<std::string>& paths) {
    // A session file opens as a session; everything else as studies, models, ground truth.
    std::vector<std::string> rest;
    for (const auto& path : paths) {
        if (isSessionPath(path)) {
            openSessionFile(path);
        } else {
            rest.push_back(path);
        }
    }
    if (!rest.empty()) m_document->workspace.openPaths(withoutEnsembleMembers(rest));
}

std::vector<std::string> Application::withoutEnsembleMembers(const std::vector<std::string>& paths) {
    std::vector<std::string> kept, models;
    for (const auto& path : paths) {
        if (!isModelPath(path)) {
            kept.push_back(path);
        } else if (models.emplace_back(path); models.size() == 1) {
            kept.push_back(path);
        }
    }
    if (models.size() > 1) {
        auto& members = m_document->uncertainty.extraMembers;
        members.assign(models.begin() + 1, models.end());
        logInfo("{} models together: {} opens, the others are members of its ensemble (Uncertainty tab)", models.size(),
                models.front());
    }
    return kept;
}

void Application::openSessionFile(const std::string& path) {
    try {
        m_document->sessions.open(readSession(path));
        logInfo("opening session {}", path);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::saveSessionFile(const std::string& path) {
    try {
        if (!m_document->workspace.study()) throw Error("no study open: nothing to save");
        saveSession(*m_document, path);
        m_savedResults = m_document->resultsRevision();
        logInfo("saved session {}", path);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::saveWindowScreenshot(const std::string& path) {
    try {
        checkOutputFile(path, m_document->workspace.inputPaths());
    } catch (const std::exception& e) {
        reportError(e.what());
        return;
    }
    // Captured a few frames later: the dialog that asked for it has closed by then.
    m_windowShotPath = path;
    m_windowShotFrames = 2;
}

void Application::captureScreenshots() {
    for (auto it = m_regionCaptures.begin(); it != m_regionCaptures.end();) {
        try {
            int width = 0, height = 0;
            glfwGetFramebufferSize(m_window, &width, &height);
            const ImVec2 scale = ImGui::GetIO().DisplayFramebufferScale;
            const render::RgbaImage window = render::readFramebuffer(0, width, height);
            const int x0 = std::clamp(int(std::lround(it->rect.min.x * scale.x)), 0, width);
            const int y0 = std::clamp(int(std::lround(it->rect.min.y * scale.y)), 0, height);
            const int x1 = std::clamp(int(std::lround(it->rect.max.x * scale.x)), x0, width);
            const int y1 = std::clamp(int(std::lround(it->rect.max.y * scale.y)), y0, height);
            if (x1 - x0 < 2 || y1 - y0 < 2) throw Error(it->path + ": the plot is not on screen");
            render::RgbaImage part;
            part.width = x1 - x0;
            part.height = y1 - y0;
            for (int y = y0; y < y1; ++y)
                part.pixels.insert(part.pixels.end(), window.at(x0, y), window.at(x0, y) + size_t(part.width) * 4);
            savePng(part, it->path, m_document->workspace.inputPaths());
            logInfo("saved {}", it->path);
        } catch (const std::exception& e) {
            reportError(e.what());
        }
        it = m_regionCaptures.erase(it);
    }
    if (m_windowShotPath.empty()) return;
    if (m_windowShotFrames > 0 || m_fileDialog.visible()) {
        --m_windowShotFrames;
        glfwPostEmptyEvent();
        return;
    }
    const std::string path = std::exchange(m_windowShotPath, {});
    int width = 0, height = 0;
    glfwGetFramebufferSize(m_window, &width, &height);
    try {
        // The back buffer holds the frame just drawn, exactly as it is about to be shown.
        savePng(render::readFramebuffer(0, width, height), path, m_document->workspace.inputPaths());
        logInfo("saved {}", path);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

ImVec2 Application::cellSize(int view) const {
    const ViewerState& state = m_document->workspace.viewer();
    for (const auto& cell :
         ViewerPanel::layout(state, int(m_document->comparison.panels().size()),
                             state.showDifference && m_document->comparison.difference(), m_viewerSize)) {
        if (cell.view == view) return cell.size;
    }
    return ImVec2(m_viewerSize.x / 2, m_viewerSize.y / 2);
}

void Application::saveFigure(const std::string& path, int width, int height) {
    try {
        if (!m_document->workspace.study()) throw Error("no study open: nothing to draw");
        if (width <= 0 || height <= 0) {
            width = int(m_viewerSize.x) * m_exportScale;
            height = int(m_viewerSize.y) * m_exportScale;
        }
        if (width > 16384 || height > 16384)
            throw Error(fmt::format("{}x{} is larger than a figure can be (16384)", width, height));
        const float fontScale = std::max(1.0f, float(height) / std::max(1.0f, m_viewerSize.y));
        savePng(m_figures->layout(*m_document, m_gpu, width, height, fontScale), path,
                m_document->workspace.inputPaths());
        logInfo("saved {} ({}x{})", path, width, height);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::saveViewImage(int panel, int view, const std::string& path, int width, int height) {
    try {
        if (!m_document->workspace.study()) throw Error("no study open: nothing to draw");
        const ImVec2 onScreen = cellSize(view);
        if (width <= 0 || height <= 0) {
            width = int(onScreen.x) * m_exportScale;
            height = int(onScreen.y) * m_exportScale;
        }
        if (width > 16384 || height > 16384)
            throw Error(fmt::format("{}x{} is larger than a figure can be (16384)", width, height));
        const float fontScale = std::max(1.0f, float(height) / std::max(1.0f, onScreen.y));
        savePng(m_figures->view(*m_document, m_gpu, panel, view, width, height, fontScale), path,
                m_document->workspace.inputPaths());
        logInfo("saved {} ({}x{})", path, width, height);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::exportMap(int panel, const std::string& path) {
    m_document->comparison.exportShownMap(panel, path);
}

void Application::exportSegmentation(const std::string& path) {
    try {
        if (!m_document->workspace.segmentation()) throw Error("no segmentation to export");
        writeLabelVolume(m_document->workspace.segmentation()->labels, path, m_document->workspace.inputPaths());
        logInfo("saved {}", path);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::compare(const std::vector<std::string>& methods) {
    try {
        if (methods.empty() || methods.size() > size_t(kMaxPanels)) throw Error("compare needs 1 to 4 methods");
        m_document->comparison.setPanelCount(int(methods.size()));
        for (size_t p = 0; p < methods.size(); ++p) {
            Panel& panel = m_document->comparison.panel(int(p));
            panel.methods.clear();
            if (methods[p] == "all-gradient") {
                for (Method m : allMethods()) {
                    if (isGradientFamily(m)) panel.methods.push_back(m);
                }
            } else {
                panel.methods = {parseMethod(methods[p])};
            }
            if (p > 0) {
                panel.parameters = m_document->comparison.panels()[0].parameters;
                m_document->workspace.viewer().displays[p] = m_document->workspace.viewer().displays[0];
            }
        }
        m_document->workspace.viewer().layout = methods.size() > 1 ? Layout::Compare : Layout::Tri;
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::pickVoxel(const Index3& voxel) {
    // The same path as a click: the crosshair moves there, then the structure under it is picked.
    if (!moveCrosshair(voxel)) return;
    m_document->workspace.viewer().pickPending = true;
    m_document->workspace.pickAtCrosshair();
    if (m_document->workspace.viewer().selectedInstance == 0)
        logWarning("nothing segmented at {},{},{}", voxel[0], voxel[1], voxel[2]);
}

bool Application::moveCrosshair(const Index3& voxel) {
    const auto& study = m_document->workspace.study();
    if (!study || !study->study->geometry.contains(voxel[0], voxel[1], voxel[2])) {
        reportError(fmt::format("voxel {},{},{} is not in the study", voxel[0], voxel[1], voxel[2]));
        return false;
    }
    m_document->workspace.viewer().crosshair = voxel;
    return true;
}

void Application::setLayer(const std::string& layer) {
    for (int p = 0; p < int(m_document->comparison.panels().size()); ++p)
        m_document->comparison.panel(p).parameters.layer = layer;
}

void Application::explainSelectedInstance() {
    const int index = m_document->workspace.selectedListIndex();
    if (index < 0) {
        reportError("no structure is picked: click one first");
        return;
    }
    const Index3 v = m_document->workspace.instances()->instances[size_t(index)].representative;
    m_document->workspace.viewer().crosshair = v;
    m_document->workspace.viewer().target.kind = TargetSpec::Kind::Instance;
    m_document->comparison.explainAll(ExplainPanel::currentTarget(m_document->workspace));
}

void Application::explainTarget(const std::string& targetSpec) {
    try {
        // No spec: the Explain tab's own target, as its "Explain all panels" button does.
        m_document->comparison.explainAll(targetSpec.empty() ? ExplainPanel::currentTarget(m_document->workspace)
                                                             : parseTargetSpec(targetSpec));
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::setLayout(bool compare, int view) {
    ViewerState& state = m_document->workspace.viewer();
    state.layout = compare ? Layout::Compare : Layout::Tri;
    if (view >= 0) state.compareView = view;
}

void Application::runUncertainty(const std::vector<std::string>& options) {
    UncertaintySettings settings;
    bool stability = false;
    try {
        for (const std::string& o : options) {
            if (o == "flips" || o.rfind("flips:", 0) == 0) {
                settings.flips = true;
                if (o.size() > 6) settings.flipAxes = o.substr(6);
                flipsOf(settings.flipAxes); // its message now, not from the job
            } else if (o == "stability") {
                stability = true;
            } else if (o.rfind("intensity:", 0) == 0) {
                settings.intensityPasses = std::stoi(o.substr(10));
            } else if (o.rfind("spatial:", 0) == 0) {
                settings.spatialPasses = std::stoi(o.substr(8));
            } else if (o.rfind("mc-dropout:", 0) == 0) {
                settings.mcDropoutPasses = std::stoi(o.substr(11));
            } else {
                settings.extraModels.push_back(o);
            }
        }
        std::optional<StabilityRequest> request;
        if (stability) {
            const Panel& a = m_document->comparison.panels().front();
            request =
                StabilityRequest{a.methods.front(), ExplainPanel::currentTarget(m_document->workspace), a.parameters};
        }
        settings.stability = stability;
        m_document->uncertainty.run(settings, request);
    } catch (const std::exception& e) {
        reportError(e.what());
    }
}

void Application::showUncertainty(const std::string& map) {
    const auto result = m_document->uncertainty.result();
    if (!result) {
        reportError("run the uncertainty first");
        return;
    }
    const std::vector<std::string> maps{"entropy", "mutual-information", "disagreement", "expected-entropy"};
    const std::vector<std::string> stability{"explanation-mean", "explanation-std"};
    if (const auto it = std::find(maps.begin(), maps.end(), map); it != maps.end()) {
        m_document->uncertainty.showMap(0, int(it - maps.begin()));
    } else if (const auto s = std::find(stability.begin(), stability.end(), map); s != stability.end()) {
        if (!result->stabilityMaps) reportError("the uncertainty was run without stability");
        m_document->uncertainty.showStability(0, int(s - stability.begin()));
    } else {
        reportError("show-uncertainty: use entropy, mutual-information, disagreement, expected-entropy, "
                    "explanation-mean or explanation-std (not '" +
                    map + "')");
    }
}

void Application::fadeByCertainty(bool on) {
    m_document->workspace.viewer().fadeByCertainty = on;
}

void Application::compareModels(const std::vector<std::string>& paths) {
    m_document->models.compare(paths);
}

void Application::showDisagreement(int row) {
    const auto result = m_document->models.result();
    if (!result || row < 1 || row > int(result->comparison.classes.size())) {
        reportError(fmt::format("there is no row {} of compared classes (compare models first)", row));
        return;
    }
    m_document->models.showRow(size_t(row - 1));
}

void Application::analyseLesions(int samples, double contextMm) {
    LesionAnalysisOptions options;
    options.explain.camPlusPlus = true;
    options.explain.samples = samples;
    options.contextMaxMm = contextMm;
    options.context = contextMm > 0.0;
    m_document->lesions.analyse(options);
}

void Application::showLesion(int id) {
    const auto& analysis = m_document->lesions.analysis();
    if (!analysis || id < 1 || id > int(analysis->lesions.lesions.size())) {
        reportError(fmt::format("there is no lesion {} (analyse the lesions first)", id));
        return;
    }
    m_document->lesions.show(id);
}

void Application::saveLesionPlot(const std::string& plot, const std::string& path) {
    if (!m_lesionsPanel.plots().request(plot, path) && !m_aggregationPanel.plots().request(plot, path)) {
        reportError("the " + plot +
                    " plot is not on screen (show the Lesions tab and a lesion, or the Aggregation tab)");
    }
}

void Application::saveLesionAnalysis(const std::string& folder) {
    m_document->lesions.save(folder);
}

void Application::paintSyntheticLesion(double radiusMm, const std::vector<double>& contrast, double edgeMm) {
    const auto& study = m_document->workspace.study();
    if (!study) {
        reportError("open a study first");
        return;
    }
    const Index3 v = m_document->workspace.viewer().crosshair;
    SyntheticLesion lesion;
    lesion.centre = study->study->geometry.voxelToWorld(glm::dvec3(double(v[0]), double(v[1]), double(v[2])));
    lesion.radiiMm = glm::dvec3(radiusMm);
    lesion.contrast = contrast;
    lesion.edgeMm = edgeMm;
    if (contrast.size() != study->study->channels.size()) {
        reportError(fmt::format("synthetic-lesion: {} contrasts for {} channels", contrast.size(),
                                study->study->channels.size()));
        return;
    }
    m_document->lesions.paint(lesion);
}

void Application::removeSyntheticLesion() {
    m_document->lesions.removePainted();
}

void Application::aggregate(Method method) {
    ExplainParameters p;
    p.samples = 10;
    p.steps = 10;
    p.coalitions = 32;
    m_document->aggregation.aggregate(method, p);
}

void Application::showAggregation(const std::string& className, const std::string& segmentName) {
    const auto& a = m_document->aggregation.aggregation();
    if (!a) {
        reportError("aggregate first");
        return;
    }
    const auto& m = a->matrix;
    auto indexOf = [&](const std::string& name) {
        for (size_t c = 0; c < m.classNames.size(); ++c) {
            if (m.classNames[c] == name || std::to_string(c) == name) return int(c);
        }
        return -1;
    };
    const int cls = indexOf(className);
    const auto row = std::find(m.targetClasses.begin(), m.targetClasses.end(), cls);
    const int segment = segmentName.empty() ? -1 : indexOf(segmentName);
    if (row == m.targetClasses.end() || (!segmentName.empty() && segment < 0)) {
        reportError("show-aggregation: no class " + className +
                    (segmentName.empty() ? "" : " or segment " + segmentName));
        return;
    }
    m_document->aggregation.showCell(int(row - m.targetClasses.begin()), segment, AttributionPart::Absolute);
}

void Application::benchmark(const std::vector<Method>& methods, const std::vector<Metric>& metrics) {
    ExplainParameters p;
    p.samples = 5;
    p.steps = 5;
    p.coalitions = 16;
    MetricOptions options;
    options.correlationRuns = 10;
    options.curveSteps = 4;
    options.sensitivitySamples = 1;
    options.randomisationStages = 2;
    m_document->aggregation.runBenchmark(methods, metrics, p, options);
}

void Application::quit(int status) {
    m_exitStatus = std::max(m_exitStatus, status);
    glfwSetWindowShouldClose(m_window, GLFW_TRUE);
}

} // namespace segxai::app
