#include "app/gui/application.h"

#include "app/asset_paths.h"
#include "app/gui/automation/script.h"
#include "app/gui/panels/model_panel.h"
#include "app/gui/panels/status_bar.h"
#include "app/gui/panels/study_panel.h"
#include "app/gui/views/screenshot.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/image_io.h"
#include "engine/model/device.h"
#include "render/window_target.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <imgui.h>

namespace segxai::app {

void onDrop(GLFWwindow* window, int count, const char** paths) {
    auto* app = static_cast<Application*>(glfwGetWindowUserPointer(window));
    for (int n = 0; n < count; ++n)
        app->m_dropped.emplace_back(paths[n]);
}

namespace {

// The lesion demo's model, under the asset folder: 3 nnU-Net folds (assets/models/lesions_nnunet).
constexpr const char* kDemoModel = "/models/lesions_nnunet/Dataset950_SegXAILesions";

void onGlfwError(int code, const char* description) {
    logError("window system: {} ({})", description, code);
}

} // namespace

Application::Application(GuiOptions options) : m_options(std::move(options)) {}

Application::~Application() {
    // Engine jobs stop before the GL objects and the window go.
    m_jobs.reset();
    m_sliceRenderer.reset();
    m_figures.reset();
    m_volumeRenderer.reset();
    m_font.reset();
    m_shaders.reset();
    m_gpu = GpuScene{};
    m_viewer = ViewerPanel{};
    if (m_window) {
        ImGui_ImplOpenGL3_Shutdown();
        ImGui_ImplGlfw_Shutdown();
        ImGui::DestroyContext();
        glfwDestroyWindow(m_window);
    }
    glfwTerminate();
}

bool Application::initialise() {
    m_automated = !m_options.script.empty() || !m_options.scriptLines.empty() || m_options.hidden || m_options.quit ||
                  !m_options.screenshotPath.empty() || m_options.benchmarkFrames > 0;
    if (!m_automated) {
        m_settingsPath = settingsPath();
        m_settings = GuiSettings::load(m_settingsPath);
        m_fileDialog.setFolders(m_settings.folders);
    }
    glfwSetErrorCallback(onGlfwError);
    if (!glfwInit()) {
        std::fprintf(stderr, "segxai: error: cannot open a window (no display?). Set DISPLAY, "
                             "or run under xvfb-run; the command-line subcommands need no "
                             "display.\n");
        return false;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    if (m_options.hidden) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    m_window = glfwCreateWindow(m_options.width, m_options.height, "SegXAI", nullptr, nullptr);
    if (!m_window) {
        std::fprintf(stderr, "segxai: error: cannot create an OpenGL 3.3 window\n");
        return false;
    }
    glfwMakeContextCurrent(m_window);
    glfwSwapInterval(1);
    glfwSetWindowUserPointer(m_window, this);
    glfwSetDropCallback(m_window, onDrop);
    // The window's close button asks first when results would be lost, as Quit does.
    glfwSetWindowCloseCallback(m_window, [](GLFWwindow* window) {
        auto* app = static_cast<Application*>(glfwGetWindowUserPointer(window));
        if (app->m_script || app->m_options.hidden) return;
        glfwSetWindowShouldClose(window, GLFW_FALSE);
        app->requestQuit();
    });

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr; // never write imgui.ini into the user's folder
    ImGui::StyleColorsDark();
    ImGui::GetStyle().WindowRounding = 0.0f;
    float xscale = 1.0f, yscale = 1.0f;
    glfwGetWindowContentScale(m_window, &xscale, &yscale);
    for (const auto& path : render::FontAtlas::defaultFontPaths()) {
        if (std::filesystem::exists(path)) {
            io.Fonts->AddFontFromFileTTF(path.c_str(), 16.0f * xscale);
            break;
        }
    }
    ImGui_ImplGlfw_InitForOpenGL(m_window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");

    m_shaders = std::make_unique<render::ShaderLibrary>(m_options.shaderFolder);
    m_font = std::make_unique<render::FontAtlas>(render::FontAtlas::defaultFontPaths());
    if (!m_font->valid()) logWarning("no DejaVu Sans font found: views show no text");
    m_sliceRenderer = std::make_unique<render::SliceRenderer>(*m_shaders, *m_font);
    m_volumeRenderer = std::make_unique<render::VolumeRenderer>(*m_shaders, *m_font);
    m_figures = std::make_unique<FigureRenderer>(*m_sliceRenderer, *m_volumeRenderer);
    JobRunner::Options jobs;
    jobs.wake = [] { glfwPostEmptyEvent(); };
    jobs.yieldToUi = true;
    jobs.prepareWorker = useComputeThreads;
    m_jobs = std::make_unique<JobRunner>(std::move(jobs));
    m_document = std::make_unique<Document>(*m_jobs);
    m_document->workspace.askForSeries = !m_automated;
    logInfo("SegXAI {} on OpenGL {}; engine: {}", "0.1", render::openGlVersion(), computeDevice().description);
    return true;
}

int Application::run() {
    if (!initialise()) return 1;
    if (!m_options.script.empty() || !m_options.scriptLines.empty()) {
        try {
            m_script = m_options.scriptLines.empty() ? ScriptRunner::load(m_options.script)
                                                     : ScriptRunner::fromLines(m_options.scriptLines, "segxai render");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "segxai: error: %s\n", e.what());
            return 1;
        }
    }
    if (!m_options.session.empty()) openSessionFile(m_options.session);
    if (m_options.demo) {
        // The demo model is a 3-fold nnU-Net folder: the viewer segments and explains with fold 0
        // (one pass, no mirroring: a third of the time), and the uncertainty of all 3 folds is run
        // once the study is segmented.
        NnunetOptions oneFoldPass;
        oneFoldPass.folds = {"0"};
        oneFoldPass.mirroring = false;
        m_document->workspace.openDemo(demoCacheFolder(), assetFolder() + kDemoModel, oneFoldPass);
        m_demoUncertaintyPending = true;
    }
    if (!m_options.model.empty()) m_document->workspace.openModel(m_options.model, m_options.nnunet);
    if (!m_options.files.empty()) {
        StudyRequest request;
        for (const auto& path : withoutEnsembleMembers(m_options.files)) {
            if (isModelPath(path)) {
                m_document->workspace.openModel(path, m_options.nnunet);
            } else {
                request.channelPaths.push_back(path);
            }
        }
        request.groundTruthPath = m_options.groundTruth;
        request.keepChannelOrder = m_options.keepChannelOrder;
        if (!request.channelPaths.empty()) m_document->workspace.openStudy(request);
    }
    if (m_options.benchmarkFrames > 0) {
        m_benchmark = std::make_unique<FrameBenchmark>(m_options.benchmarkFrames, m_options.benchmarkLayout,
                                                       m_options.benchmarkBusy);
        glfwSwapInterval(0); // frames as fast as they can be drawn
    }
    int framesToDraw = 3;
    while (!glfwWindowShouldClose(m_window)) {
        if (m_benchmarkRunning) {
            const auto start = std::chrono::steady_clock::now();
            glfwPollEvents();
            frame();
            render::finishGpuWork(); // the frame's GPU work included
            m_benchmark->record(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
            if (m_benchmark->finished()) {
                int width = 0, height = 0;
                glfwGetFramebufferSize(m_window, &width, &height);
                std::printf("%s\n", m_benchmark->report(width, height, m_benchmark->busy()).c_str());
                std::fflush(stdout);
                break;
            }
            continue;
        }
        // Volumes on their way to the GPU need frames, and so do the frames after the last part.
        if (m_gpu.uploading()) framesToDraw = std::max(framesToDraw, 2);
        if (framesToDraw > 0 || m_benchmark) {
            glfwPollEvents();
        } else if (!m_jobs->idle() || !m_options.shaderFolder.empty()) {
            glfwWaitEventsTimeout(0.1); // progress bars and shader reloads need frames
        } else {
            glfwWaitEvents(); // idle: no CPU
        }
        framesToDraw = framesToDraw > 0 ? framesToDraw - 1 : 2;
        const bool engineBusy = !m_jobs->idle();
        const auto frameStart = std::chrono::steady_clock::now();
        frame();
        m_frameLog.record(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frameStart).count(),
            engineBusy);
        if (m_automationDone && m_options.quit) break;
        if (m_exitStatus != 0 && m_script) break; // a script command failed
    }
    if (!m_settingsPath.empty()) {
        m_settings.folders = m_fileDialog.folders();
        m_settings.save(m_settingsPath);
    }
    return m_exitStatus;
}

void Application::frame() {
    m_document->update();
    startRequestedExplanation();
    startDemoUncertainty();
    if (m_benchmark) driveBenchmark();
    // Script commands run one at a time, each once everything has settled and been drawn.
    if (m_script && !m_script->done()) {
        const bool saving = !m_windowShotPath.empty() || !m_regionCaptures.empty() || m_lesionsPanel.plots().busy() ||
                            m_aggregationPanel.plots().busy();
        m_scriptSettledFrames = quiescent() && !saving ? m_scriptSettledFrames + 1 : 0;
        if (m_scriptSettledFrames >= 3) {
            m_scriptSettledFrames = 0;
            m_script->step(*this);
        }
        // Settling counts frames; while the engine works, its results wake the loop instead
        // (drawing flat out would take the engine's CPU).
        if (m_scriptSettledFrames > 0 || quiescent()) glfwPostEmptyEvent();
    }
    for (auto& e : m_document->messages().take()) {
        m_errors.push_back(std::move(e));
        if (m_script) m_exitStatus = 1; // a script stops at its first failure
    }
    if (m_log.update() && !m_errors.empty()) m_showLog = true;
    if (!m_dropped.empty()) {
        dropPaths(std::exchange(m_dropped, {}));
    }
    for (const auto& message : m_shaders->takeLog())
        logWarning("{}", message);
    m_shaders->reloadChanged();

    ViewerState& state = m_document->workspace.viewer();
    state.overlayLegend = m_settings.overlayLegend; // a setting of the viewer, not of the study
    m_gpu.sync(m_document->workspace.study(), m_document->workspace.studyGeneration());
    m_gpu.setLinear(state.linearInterpolation);
    m_gpu.syncSegmentation(m_document->workspace.segmentation(), m_document->workspace.segmentationGeneration(),
                           m_document->workspace.model() ? &m_document->workspace.model()->model->card() : nullptr,
                           state, m_document->workspace.shellNormals());
    m_gpu.syncExplanations(m_document->comparison);
    const auto uncertainty = m_document->uncertainty.result();
    m_gpu.syncCertainty(uncertainty ? uncertainty->certainty : nullptr);
    m_gpu.syncSelection(m_document->workspace.instances(), state.selectedInstance);
    m_gpu.syncTransfer(state.transfer);
    // Large volumes go up part by part, at most about this long a frame: the frame still takes
    // its usual time plus this, not a whole CT's upload at once.
    m_gpu.pumpUploads(0.02);

    std::string title = "SegXAI";
    if (const auto& loaded = m_document->workspace.study()) {
        title += " - ";
        for (size_t c = 0; c < loaded->study->channels.size(); ++c) {
            title += (c ? " + " : "") + loaded->study->channels[c].name;
        }
    }
    if (title != m_title) {
        glfwSetWindowTitle(m_window, title.c_str());
        m_title = title;
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    drawMenuBar();
    drawPanels();
    drawDialogs();
    // A dialog that just opened (or closed) needs a few frames to size and draw: draw them now,
    // not at the next mouse move.
    const bool popupOpen = ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
    if (popupOpen != m_popupWasOpen) m_redrawFrames = 3;
    m_popupWasOpen = popupOpen;
    if (m_redrawFrames > 0 && m_redrawFrames--) glfwPostEmptyEvent();
    ImGui::Render();

    int width = 0, height = 0;
    glfwGetFramebufferSize(m_window, &width, &height);
    render::clearWindow(width, height, 0.08f, 0.08f, 0.09f);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    handleAutomation();
    captureScreenshots();
    glfwSwapBuffers(m_window);
}

void Application::startDemoUncertainty() {
    Workspace& workspace = m_document->workspace;
    if (!m_demoUncertaintyPending || !workspace.segmentation() || workspace.segmenting()) return;
    m_demoUncertaintyPending = false;
    logInfo("lesion demo: the uncertainty of its 3 folds (Uncertainty tab)");
    m_document->uncertainty.run(UncertaintySettings{}, std::nullopt);
}

void Application::startRequestedExplanation() {
    if (!m_options.crosshair.empty() && m_document->workspace.study() &&
        m_crosshairStudy != m_document->workspace.studyGeneration()) {
        m_crosshairStudy = m_document->workspace.studyGeneration();
        long long i = 0, j = 0, k = 0;
        const Geometry& g = m_document->workspace.study()->study->geometry;
        if (std::sscanf(m_options.crosshair.c_str(), "%lld,%lld,%lld", &i, &j, &k) == 3 && g.contains(i, j, k)) {
            m_document->workspace.viewer().crosshair = {i, j, k};
        } else {
            m_errors.push_back("--crosshair " + m_options.crosshair + ": not a voxel of the study (I,J,K)");
        }
    }
    if (m_options.explainMethods.empty() || m_explanationStarted || !m_document->workspace.segmentation()) return;
    m_explanationStarted = true;
    try {
        // One panel per method; "all-gradient" is every gradient-family method in one panel.
        const int count = int(std::min<size_t>(m_options.explainMethods.size(), kMaxPanels));
        m_document->comparison.setPanelCount(count);
        for (int p = 0; p < count; ++p) {
            Panel& panel = m_document->comparison.panel(p);
            const std::string& id = m_options.explainMethods[size_t(p)];
            panel.methods.clear();
            if (id == "all-gradient") {
                for (Method m : allMethods()) {
                    if (isGradientFamily(m)) panel.methods.push_back(m);
                }
            } else {
                panel.methods = {parseMethod(id)};
            }
            panel.parameters.layer = m_options.explainLayer;
            m_document->workspace.viewer().displays[size_t(p)] = m_document->workspace.viewer().displays[0];
        }
        if (count > 1) m_document->workspace.viewer().layout = Layout::Compare;
        m_document->comparison.explainAll(parseTargetSpec(m_options.explainTarget));
    } catch (const std::exception& e) {
        m_errors.push_back(e.what());
        logError("{}", e.what());
    }
}

void Application::driveBenchmark() {
    const auto& loaded = m_document->workspace.study();
    if (m_benchmarkRunning) {
        m_benchmark->advance(m_document->workspace.viewer(), loaded->study->geometry);
        if (m_benchmark->busy() && !m_document->comparison.explaining()) {
            // Keep the engine thread computing for the whole measurement.
            m_document->comparison.explain(0, parseTargetSpec(m_options.explainTarget));
        }
        return;
    }
    const bool explanationPending = !m_options.explainMethods.empty() && !m_explanationStarted && m_errors.empty();
    const bool settled = loaded && quiescent() && !explanationPending;
    m_benchmarkSettledFrames = settled ? m_benchmarkSettledFrames + 1 : 0;
    if (quiescent() && (!m_errors.empty() || !loaded)) {
        std::fprintf(stderr, "segxai: error: the benchmark could not start: %s\n",
                     m_errors.empty() ? "no study is open" : m_errors.front().c_str());
        quit(1);
        return;
    }
    if (m_benchmarkSettledFrames < 4) return;
    try {
        m_benchmark->arrange(m_document->workspace.viewer(), int(m_document->comparison.panels().size()));
        if (m_benchmark->busy()) {
            if (!m_document->workspace.segmentation())
                throw Error("--benchmark-busy needs a model (the engine thread explains)");
            Panel& panel = m_document->comparison.panel(0);
            panel.methods = {Method::SmoothGrad};
            panel.parameters.samples = 50;
            m_document->comparison.explain(0, parseTargetSpec(m_options.explainTarget));
        }
        m_benchmarkRunning = true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "segxai: error: %s\n", e.what());
        quit(1);
    }
}

void Application::reportFrameTimes() {
    const std::string report = m_frameLog.report();
    std::printf("%s\n", report.c_str());
    std::fflush(stdout);
    logInfo("{}", report);
    m_frameLog.reset();
}

void Application::handleAutomation() {
    if (m_automationDone) return;
    const bool wantsAutomation = m_options.quit || !m_options.screenshotPath.empty();
    if (!wantsAutomation) {
        m_automationDone = true;
        return;
    }
    const bool explanationPending = !m_options.explainMethods.empty() && !m_explanationStarted && m_errors.empty();
    const bool quiet = quiescent() && !explanationPending;
    const bool settled = m_document->workspace.study() && quiet;
    if (!settled) m_framesWithStudy = 0;
    if (settled) {
        // A few settled frames: results drained, ImGui's layout final.
        if (++m_framesWithStudy < 4) {
            glfwPostEmptyEvent();
            return;
        }
        if (!m_options.screenshotPath.empty()) {
            m_windowShotPath = m_options.screenshotPath;
            if (m_options.screenshotViews) {
                for (int v = 0; v < kSliceViewCount; ++v) {
                    saveViewImage(m_document->workspace.viewer().activePanel, v,
                                  suffixedPath(m_options.screenshotPath, render::sliceAxisName(kSliceAxes[size_t(v)])));
                }
                saveViewImage(m_document->workspace.viewer().activePanel, kVolumeView,
                              suffixedPath(m_options.screenshotPath, "3d"));
            }
        }
        if (!m_errors.empty()) m_exitStatus = 1;
        m_automationDone = true;
    } else if (!m_document->workspace.study() && quiet &&
               (!m_options.files.empty() || m_options.demo || !m_options.session.empty())) {
        m_exitStatus = 1; // the study failed to load; its error is on stderr
        m_automationDone = true;
    }
}

// The side panel's tabs: name, what it is for (its tooltip), the --panel name that opens it.
struct SideTab {
    const char* name;
    const char* tooltip;
    const char* option;
};
constexpr SideTab kSideTabs[] = {
    {"Study", "Channels, labels, display, the 3D view, the data probe", "study"},
    {"Model", "The model card, the channel mapping, classes and their volumes, layers", "model"},
    {"Explain", "Methods, targets, comparison panels, explanation results", "explain"},
    {"Instances", "Every segmented structure; click one to pick it", "instances"},
    {"Lesions", "Lesion-level analysis: TP/FP/FN, saliency in rings, context, synthetic lesions", "lesions"},
    {"Aggregation", "Agg2Exp: where each class's attribution lies; the faithfulness benchmark", "aggregation"},
    {"Uncertainty", "The ensemble's uncertainty, explanation stability, model versions compared", "uncertainty"},
};

void Application::drawSidePanel(float width, float height) {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                   ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoBringToFrontOnFocus;
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(ImVec2(width, height));
    ImGui::Begin("Side", nullptr, fixed);
    // Tabs keep their whole names: when they do not fit, the bar scrolls.
    if (ImGui::BeginTabBar("sideTabs", ImGuiTabBarFlags_FittingPolicyScroll)) {
        const bool first = ImGui::GetFrameCount() < 3;
        for (const SideTab& tab : kSideTabs) {
            const ImGuiTabItemFlags flags = first && m_options.panel == tab.option ? ImGuiTabItemFlags_SetSelected : 0;
            const bool open = ImGui::BeginTabItem(tab.name, nullptr, flags);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tab.tooltip);
            if (!open) continue;
            const std::string name = tab.name;
            if (name == "Study") drawStudyPanel(*m_document);
            if (name == "Model") drawModelPanel(m_document->workspace);
            if (name == "Explain") m_explainPanel.draw(*m_document, m_fileDialog);
            if (name == "Instances") m_instancesPanel.draw(*m_document);
            if (name == "Lesions") m_lesionsPanel.draw(*m_document, m_fileDialog);
            if (name == "Aggregation") m_aggregationPanel.draw(*m_document, m_fileDialog);
            if (name == "Uncertainty") m_uncertaintyPanel.draw(*m_document, m_fileDialog);
            ImGui::EndTabItem();
        }
        for (PlotExport* exporter : {&m_lesionsPanel.plots(), &m_aggregationPanel.plots()}) {
            for (auto& capture : exporter->take())
                m_regionCaptures.push_back({capture.path, capture.rect});
            if (exporter->busy()) glfwPostEmptyEvent(); // the frames a plot capture waits for
        }
        ImGui::EndTabBar();
    }
    ImGui::End();
}

// A handle on the side panel's edge: dragging it resizes the panel (remembered between runs).
void Application::drawSideSplitter(const ImVec2& origin, float height, float maximum) {
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoSavedSettings;
    const float grip = 6.0f;
    ImGui::SetNextWindowPos(ImVec2(origin.x + m_settings.sidePanelWidth - grip / 2, origin.y));
    ImGui::SetNextWindowSize(ImVec2(grip, height));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("##sideSplitter", nullptr, flags);
    ImGui::InvisibleButton("##grip", ImVec2(grip, height));
    if (ImGui::IsItemHovered() || ImGui::IsItemActive()) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeEW);
    if (ImGui::IsItemActive()) {
        m_resizingSide = true;
        m_settings.sidePanelWidth =
            std::clamp(m_settings.sidePanelWidth + ImGui::GetIO().MouseDelta.x, 280.0f, maximum);
    } else if (std::exchange(m_resizingSide, false)) {
        m_settings.save(m_settingsPath);
    }
    ImGui::End();
    ImGui::PopStyleVar();
}

void Application::drawPanels() {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    const ImVec2 origin = viewport->WorkPos, size = viewport->WorkSize;
    const float statusHeight = ImGui::GetFrameHeight() + 8.0f;
    const float logHeight = m_showLog ? 180.0f : 0.0f;
    const float maximumSide = std::max(280.0f, size.x - 320.0f);
    m_settings.sidePanelWidth = std::clamp(m_settings.sidePanelWidth, 280.0f, maximumSide);
    const float sideWidth = m_settings.sidePanelWidth;
    const float mainHeight = size.y - statusHeight - logHeight;
    const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                   ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoBringToFrontOnFocus;
    drawSidePanel(sideWidth, mainHeight);

    ImGui::SetNextWindowPos(ImVec2(origin.x + sideWidth, origin.y));
    ImGui::SetNextWindowSize(ImVec2(size.x - sideWidth, mainHeight));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    // No background: the views cover the area, and a hidden fill costs a software rasteriser.
    ImGui::Begin("Views", nullptr,
                 fixed | ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoScrollbar |
                     ImGuiWindowFlags_NoScrollWithMouse);
    m_viewerSize = ImGui::GetContentRegionAvail();
    m_viewer.draw(m_viewerSize, *m_document, m_gpu, *m_sliceRenderer, *m_volumeRenderer);
    ImGui::End();
    drawSideSplitter(origin, mainHeight, maximumSide);
    if (m_document->workspace.viewer().pickPending) m_document->workspace.pickAtCrosshair();
    if (!ImGui::GetIO().WantTextInput) {
        if (ImGui::IsKeyPressed(GLFW_KEY_N, false)) stepInstances(*m_document, 1);
        if (ImGui::IsKeyPressed(GLFW_KEY_P, false)) stepInstances(*m_document, -1);
    }
    ImGui::PopStyleVar();

    if (m_showLog) {
        ImGui::SetNextWindowPos(ImVec2(origin.x, origin.y + mainHeight));
        ImGui::SetNextWindowSize(ImVec2(size.x, logHeight));
        ImGui::Begin("Log", nullptr, fixed);
        m_log.draw();
        ImGui::End();
    }

    ImGui::SetNextWindowPos(ImVec2(origin.x, origin.y + size.y - statusHeight));
    ImGui::SetNextWindowSize(ImVec2(size.x, statusHeight));
    ImGui::Begin("Status", nullptr, fixed | ImGuiWindowFlags_NoScrollbar);
    drawStatusBar(*m_document, m_log, m_showLog, computeDevice().description);
    ImGui::End();
}

int runGui(const GuiOptions& options) {
    Application app(options);
    return app.run();
}

} // namespace segxai::app
