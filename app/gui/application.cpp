#include "app/gui/application.h"

#include "app/asset_paths.h"
#include "app/gui/model_panel.h"
#include "app/gui/screenshot.h"
#include "app/gui/status_bar.h"
#include "app/gui/study_panel.h"
#include "engine/device.h"
#include "engine/image_io.h"
#include "engine/log.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <filesystem>
#include <imgui.h>

namespace segxai::app {

void onDrop(GLFWwindow* window, int count, const char** paths) {
    auto* app = static_cast<Application*>(glfwGetWindowUserPointer(window));
    for (int n = 0; n < count; ++n) app->m_dropped.emplace_back(paths[n]);
}

namespace {

void onGlfwError(int code, const char* description) {
    logError("window system: {} ({})", description, code);
}

bool isStudyFile(const std::filesystem::path& path) { return isSupportedImagePath(path.string()); }

bool isPng(const std::filesystem::path& path) { return path.extension() == ".png"; }

} // namespace

Application::Application(GuiOptions options) : m_options(std::move(options)) {}

Application::~Application() {
    // Engine jobs stop before the GL objects and the window go.
    m_jobs.reset();
    m_sliceRenderer.reset();
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
    m_window = glfwCreateWindow(m_options.width, m_options.height, "SegXAI", nullptr, nullptr);
    if (!m_window) {
        std::fprintf(stderr, "segxai: error: cannot create an OpenGL 3.3 window\n");
        return false;
    }
    glfwMakeContextCurrent(m_window);
    glfwSwapInterval(1);
    glfwSetWindowUserPointer(m_window, this);
    glfwSetDropCallback(m_window, onDrop);

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
    m_jobs = std::make_unique<JobRunner>([] { glfwPostEmptyEvent(); });
    m_workspace = std::make_unique<Workspace>(*m_jobs);
    logInfo("SegXAI {} on OpenGL {}; engine: {}", "0.1", reinterpret_cast<const char*>(
                glGetString(GL_VERSION)), computeDevice().description);
    return true;
}

int Application::run() {
    if (!initialise()) return 1;
    if (m_options.demo) m_workspace->openDemo(demoCacheFolder(), assetFolder() + "/models/lesions");
    if (!m_options.model.empty()) m_workspace->openModel(m_options.model);
    if (!m_options.files.empty()) {
        StudyRequest request;
        for (const auto& path : m_options.files) {
            if (isModelPath(path)) {
                m_workspace->openModel(path);
            } else {
                request.channelPaths.push_back(path);
            }
        }
        request.groundTruthPath = m_options.groundTruth;
        if (!request.channelPaths.empty()) m_workspace->openStudy(request);
    }
    int framesToDraw = 3;
    while (!glfwWindowShouldClose(m_window)) {
        if (framesToDraw > 0) {
            glfwPollEvents();
        } else if (!m_jobs->idle() || !m_options.shaderFolder.empty()) {
            glfwWaitEventsTimeout(0.1); // progress bars and shader reloads need frames
        } else {
            glfwWaitEvents(); // idle: no CPU
        }
        framesToDraw = framesToDraw > 0 ? framesToDraw - 1 : 2;
        frame();
        if (m_automationDone && m_options.quit) break;
    }
    return m_exitStatus;
}

void Application::frame() {
    m_workspace->processResults();
    startRequestedExplanation();
    for (auto& e : m_workspace->takeErrors()) m_errors.push_back(std::move(e));
    if (m_log.update() && !m_errors.empty()) m_showLog = true;
    if (!m_dropped.empty()) {
        m_workspace->openPaths(m_dropped);
        m_dropped.clear();
    }
    for (const auto& message : m_shaders->takeLog()) logWarning("{}", message);
    m_shaders->reloadChanged();

    ViewerState& state = m_workspace->viewer();
    m_gpu.sync(m_workspace->study(), m_workspace->studyGeneration());
    m_gpu.setLinear(state.linearInterpolation);
    m_gpu.syncSegmentation(m_workspace->segmentation(), m_workspace->segmentationGeneration(),
                           m_workspace->model() ? &m_workspace->model()->model->card() : nullptr, state);
    m_workspace->updateDifference();
    m_gpu.syncExplanations(*m_workspace);
    m_gpu.syncSelection(m_workspace->instances(), state.selectedInstance);
    m_gpu.syncTransfer(state.transfer);

    std::string title = "SegXAI";
    if (const auto& loaded = m_workspace->study()) {
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
    ImGui::Render();

    int width = 0, height = 0;
    glfwGetFramebufferSize(m_window, &width, &height);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, width, height);
    glClearColor(0.08f, 0.08f, 0.09f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    handleAutomation();
    captureScreenshots();
    glfwSwapBuffers(m_window);
}

std::vector<std::string> Application::inputPaths() const {
    std::vector<std::string> paths = m_workspace->studyRequest().channelPaths;
    if (m_workspace->studyRequest().groundTruthPath) {
        paths.push_back(*m_workspace->studyRequest().groundTruthPath);
    }
    return paths;
}

void Application::saveView(int view, const std::string& path) {
    try {
        savePng(render::readFramebuffer(m_viewer.view(view).framebuffer()), path, inputPaths());
        logInfo("saved {}", path);
    } catch (const std::exception& e) {
        m_errors.push_back(e.what());
        logError("{}", e.what());
    }
}

void Application::captureScreenshots() {
    if (m_windowShotPath.empty()) return;
    const std::string path = std::exchange(m_windowShotPath, {});
    int width = 0, height = 0;
    glfwGetFramebufferSize(m_window, &width, &height);
    try {
        // The back buffer holds the frame just drawn, exactly as it is about to be shown.
        savePng(render::readFramebuffer(0, width, height), path, inputPaths());
        logInfo("saved {}", path);
    } catch (const std::exception& e) {
        m_errors.push_back(e.what());
        logError("{}", e.what());
    }
}

void Application::startRequestedExplanation() {
    if (!m_options.crosshair.empty() && m_workspace->study() && m_crosshairStudy != m_workspace->studyGeneration()) {
        m_crosshairStudy = m_workspace->studyGeneration();
        long long i = 0, j = 0, k = 0;
        const Geometry& g = m_workspace->study()->study->geometry;
        if (std::sscanf(m_options.crosshair.c_str(), "%lld,%lld,%lld", &i, &j, &k) == 3 && g.contains(i, j, k)) {
            m_workspace->viewer().crosshair = {i, j, k};
        } else {
            m_errors.push_back("--crosshair " + m_options.crosshair + ": not a voxel of the study (I,J,K)");
        }
    }
    if (m_options.explainMethods.empty() || m_explanationStarted || !m_workspace->segmentation()) return;
    m_explanationStarted = true;
    try {
        // One panel per method; "all-gradient" is every gradient-family method in one panel.
        const int count = int(std::min<size_t>(m_options.explainMethods.size(), kMaxPanels));
        m_workspace->setPanelCount(count);
        for (int p = 0; p < count; ++p) {
            Panel& panel = m_workspace->panels()[size_t(p)];
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
            m_workspace->viewer().displays[size_t(p)] = m_workspace->viewer().displays[0];
        }
        if (count > 1) m_workspace->viewer().layout = Layout::Compare;
        m_workspace->explainAllPanels(parseTargetSpec(m_options.explainTarget));
    } catch (const std::exception& e) {
        m_errors.push_back(e.what());
        logError("{}", e.what());
    }
}

void Application::handleAutomation() {
    if (m_automationDone) return;
    const bool wantsAutomation = m_options.quit || !m_options.screenshotPath.empty();
    if (!wantsAutomation) {
        m_automationDone = true;
        return;
    }
    const bool explanationPending = !m_options.explainMethods.empty() && !m_explanationStarted && m_errors.empty();
    const bool quiet = m_jobs->quiescent() && !m_workspace->loading() && !explanationPending;
    const bool settled = m_workspace->study() && quiet;
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
                    saveView(v, suffixedPath(m_options.screenshotPath,
                                             render::sliceAxisName(kSliceAxes[size_t(v)])));
                }
            }
        }
        if (!m_errors.empty()) m_exitStatus = 1;
        m_automationDone = true;
    } else if (!m_workspace->study() && quiet && (!m_options.files.empty() || m_options.demo)) {
        m_exitStatus = 1; // the study failed to load; its error is on stderr
        m_automationDone = true;
    }
}

void Application::drawMenuBar() {
    if (!ImGui::BeginMainMenuBar()) return;
    const bool hasStudy = m_workspace->study() != nullptr;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open study...")) {
            m_fileDialog.open(
                "Open study", FileDialog::Mode::Open,
                [this](const auto& paths) { m_workspace->openStudy(StudyRequest{paths, {}, {}}); },
                isStudyFile, {}, true);
        }
        if (ImGui::MenuItem("Open model...")) {
            m_fileDialog.open(
                "Open model", FileDialog::Mode::Open,
                [this](const auto& paths) { m_workspace->openModel(paths.front()); },
                [](const std::filesystem::path& p) { return isModelPath(p.string()); }, {}, true);
        }
        if (ImGui::MenuItem("Add channel...", nullptr, false, hasStudy)) {
            m_fileDialog.open(
                "Add channel", FileDialog::Mode::Open,
                [this](const auto& paths) { m_workspace->addChannels(paths); }, isStudyFile, {},
                true);
        }
        if (ImGui::MenuItem("Load ground truth...", nullptr, false, hasStudy)) {
            m_fileDialog.open(
                "Load ground truth", FileDialog::Mode::Open,
                [this](const auto& paths) { m_workspace->loadGroundTruth(paths.front()); },
                isStudyFile);
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Save screenshot...", nullptr, false, hasStudy)) {
            m_fileDialog.open(
                "Save screenshot", FileDialog::Mode::Save,
                [this](const auto& paths) { requestWindowScreenshot(paths.front()); }, isPng,
                "segxai.png");
        }
        if (ImGui::BeginMenu("Save view as PNG", hasStudy)) {
            for (int v = 0; v < kSliceViewCount; ++v) {
                const std::string name = render::sliceAxisName(kSliceAxes[size_t(v)]);
                if (ImGui::MenuItem((name + "...").c_str())) {
                    m_fileDialog.open(
                        "Save view", FileDialog::Mode::Save,
                        [this, v](const auto& paths) { saveView(v, paths.front()); }, isPng,
                        name + ".png");
                }
            }
            ImGui::EndMenu();
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Quit", "Ctrl+Q")) glfwSetWindowShouldClose(m_window, GLFW_TRUE);
        ImGui::EndMenu();
    }
    ViewerState& state = m_workspace->viewer();
    if (ImGui::BeginMenu("View")) {
        bool radiological = state.convention == render::Convention::Radiological;
        if (ImGui::MenuItem("Radiological convention", nullptr, &radiological)) {
            state.convention =
                radiological ? render::Convention::Radiological : render::Convention::Neurological;
        }
        ImGui::MenuItem("Linear interpolation", nullptr, &state.linearInterpolation);
        ImGui::MenuItem("Crosshair", nullptr, &state.showCrosshair);
        if (ImGui::MenuItem("Reset views", "r")) state.resetCameras();
        if (ImGui::BeginMenu("Maximise")) {
            if (ImGui::MenuItem("All views", nullptr, state.maximised < 0)) state.maximised = -1;
            for (int v = 0; v < kSliceViewCount; ++v) {
                if (ImGui::MenuItem(render::sliceAxisName(kSliceAxes[size_t(v)]), nullptr,
                                    state.maximised == v)) {
                    state.maximised = v;
                }
            }
            ImGui::EndMenu();
        }
        if (ImGui::MenuItem("Log", nullptr, &m_showLog)) m_log.markSeen();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Help")) {
        ImGui::MenuItem("Mouse and keys", nullptr, &m_showControls);
        ImGui::EndMenu();
    }
    ImGui::EndMainMenuBar();
    if (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q, false)) {
        glfwSetWindowShouldClose(m_window, GLFW_TRUE);
    }
}

void Application::drawPanels() {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    const ImVec2 origin = viewport->WorkPos, size = viewport->WorkSize;
    const float statusHeight = ImGui::GetFrameHeight() + 8.0f;
    const float logHeight = m_showLog ? 180.0f : 0.0f;
    const float sideWidth = 330.0f;
    const float mainHeight = size.y - statusHeight - logHeight;
    const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoTitleBar |
                                   ImGuiWindowFlags_NoBringToFrontOnFocus;

    ImGui::SetNextWindowPos(origin);
    ImGui::SetNextWindowSize(ImVec2(sideWidth, mainHeight));
    ImGui::Begin("Side", nullptr, fixed);
    if (ImGui::BeginTabBar("sideTabs")) {
        const bool first = ImGui::GetFrameCount() < 3;
        const ImGuiTabItemFlags selectModel = first && m_options.panel == "model" ? ImGuiTabItemFlags_SetSelected : 0;
        if (ImGui::BeginTabItem("Study")) {
            drawStudyPanel(*m_workspace);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Model", nullptr, selectModel)) {
            drawModelPanel(*m_workspace);
            ImGui::EndTabItem();
        }
        const ImGuiTabItemFlags selectExplain = first && m_options.panel == "explain" ? ImGuiTabItemFlags_SetSelected : 0;
        if (ImGui::BeginTabItem("Explain", nullptr, selectExplain)) {
            m_explainPanel.draw(*m_workspace, m_fileDialog);
            ImGui::EndTabItem();
        }
        const ImGuiTabItemFlags selectInstances = first && m_options.panel == "instances" ? ImGuiTabItemFlags_SetSelected : 0;
        if (ImGui::BeginTabItem("Instances", nullptr, selectInstances)) {
            m_instancesPanel.draw(*m_workspace);
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::End();

    ImGui::SetNextWindowPos(ImVec2(origin.x + sideWidth, origin.y));
    ImGui::SetNextWindowSize(ImVec2(size.x - sideWidth, mainHeight));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("Views", nullptr, fixed | ImGuiWindowFlags_NoScrollbar |
                                       ImGuiWindowFlags_NoScrollWithMouse);
    m_viewer.draw(ImGui::GetContentRegionAvail(), *m_workspace, m_gpu, *m_sliceRenderer, *m_volumeRenderer);
    ImGui::End();
    if (m_workspace->viewer().pickPending) m_workspace->pickAtCrosshair();
    if (!ImGui::GetIO().WantTextInput) {
        if (ImGui::IsKeyPressed(GLFW_KEY_N, false)) stepInstances(*m_workspace, 1);
        if (ImGui::IsKeyPressed(GLFW_KEY_P, false)) stepInstances(*m_workspace, -1);
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
    drawStatusBar(*m_workspace, m_log, m_showLog, computeDevice().description);
    ImGui::End();
}

void Application::drawDialogs() {
    m_fileDialog.draw();

    auto& drop = m_workspace->pendingDrop();
    if (drop) ImGui::OpenPopup("Use dropped files");
    if (ImGui::BeginPopupModal("Use dropped files", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        if (drop) {
            for (const auto& path : drop->paths) ImGui::BulletText("%s", path.c_str());
            if (ImGui::Button("Open as a new study")) {
                m_workspace->openStudy(StudyRequest{drop->paths, {}, {}});
                drop.reset();
            }
            ImGui::SameLine();
            if (drop && ImGui::Button("Add as channel(s)")) {
                m_workspace->addChannels(drop->paths);
                drop.reset();
            }
            if (drop && drop->paths.size() == 1) {
                ImGui::SameLine();
                if (ImGui::Button("Load as ground truth")) {
                    m_workspace->loadGroundTruth(drop->paths.front());
                    drop.reset();
                }
            }
            ImGui::SameLine();
            if (drop && ImGui::Button("Cancel")) drop.reset();
        }
        if (!drop) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }

    auto& series = m_workspace->pendingSeriesChoice();
    if (series) ImGui::OpenPopup("Choose DICOM series");
    if (ImGui::BeginPopupModal("Choose DICOM series", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        if (series) {
            ImGui::Text("%s holds %zu series:", series->request.channelPaths[series->channel].c_str(),
                        series->series.size());
            for (const auto& s : series->series) {
                const std::string label = (s.description.empty() ? "(no description)" : s.description) +
                                          "  -  " + std::to_string(s.sliceCount) + " slices##" + s.uid;
                if (ImGui::Selectable(label.c_str())) {
                    StudyRequest request = series->request;
                    request.dicomSeries.resize(request.channelPaths.size());
                    request.dicomSeries[series->channel] = s.uid;
                    series.reset();
                    m_workspace->openStudy(std::move(request));
                    break;
                }
            }
            if (series && ImGui::Button("Cancel")) series.reset();
        }
        if (!series) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }

    if (!m_errors.empty() && !ImGui::IsPopupOpen("Error")) ImGui::OpenPopup("Error");
    if (ImGui::BeginPopupModal("Error", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        for (const auto& error : m_errors) {
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40.0f);
            ImGui::TextColored(ImVec4(1.0f, 0.55f, 0.45f, 1), "%s", error.c_str());
            ImGui::PopTextWrapPos();
        }
        if (ImGui::Button("OK") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter))) {
            m_errors.clear();
            ImGui::CloseCurrentPopup();
        }
        ImGui::EndPopup();
    }

    if (m_showControls) {
        ImGui::Begin("Mouse and keys", &m_showControls, ImGuiWindowFlags_AlwaysAutoResize);
        ImGui::Text("Left click / drag        move the crosshair (all views follow)");
        ImGui::Text("Wheel, Page Up/Down      next / previous slice");
        ImGui::Text("Right drag               zoom");
        ImGui::Text("Middle or Shift+left drag  pan");
        ImGui::Text("Ctrl+left drag           window (horizontal) and level (vertical)");
        ImGui::Text("Double-click             maximise / restore a view");
        ImGui::Text("r                        reset zoom and pan");
        ImGui::Text("Drop files or a folder   open a study, add channels, load ground truth");
        ImGui::End();
    }
}

int runGui(const GuiOptions& options) {
    Application app(options);
    return app.run();
}

} // namespace segxai::app
