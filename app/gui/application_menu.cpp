// The menu bar and the application's keyboard shortcuts.
#include "app/gui/application.h"
#include "app/gui/state/session.h"
#include "engine/io/image_io.h"

#include <GLFW/glfw3.h>
#include <filesystem>
#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {
namespace {

bool isStudyFile(const std::filesystem::path& path) {
    return isSupportedImagePath(path.string());
}

bool isPng(const std::filesystem::path& path) {
    return path.extension() == ".png";
}

bool isModelFile(const std::filesystem::path& path) {
    return isModelPath(path.string());
}

bool isSessionFile(const std::filesystem::path& path) {
    return isSessionPath(path.string());
}

} // namespace

std::string Application::studyStem() const {
    const auto& study = m_document->workspace.study();
    return study ? study->study->channels.front().name : "segxai";
}

std::string Application::figureStem() const {
    std::string stem = studyStem();
    for (int p = 0; p < int(m_document->comparison.panels().size()); ++p) {
        if (!m_document->comparison.shownMap(p)) continue;
        stem += '_';
        stem += m_document->comparison.fileStem(p);
    }
    return stem;
}

void Application::openStudyDialog() {
    m_fileDialog.open(
        "Open study", "study", FileDialog::Mode::Open,
        [this](const auto& paths) {
            m_document->workspace.openStudy(StudyRequest{paths, {}, {}});
        },
        isStudyFile, {}, true);
}

void Application::openModelDialog() {
    m_fileDialog.open(
        "Open model", "model", FileDialog::Mode::Open,
        [this](const auto& paths) { m_document->workspace.openModel(paths.front()); }, isModelFile, {}, true);
}

void Application::saveSessionDialog() {
    if (!m_document->workspace.study()) return;
    m_fileDialog.open(
        "Save session", "session", FileDialog::Mode::Save,
        [this](const auto& paths) { saveSessionFile(paths.front()); }, isSessionFile, studyStem() + ".segxai");
}

void Application::exportFigureDialog() {
    if (!m_document->workspace.study()) return;
    m_fileDialog.open(
        "Save figure", "picture", FileDialog::Mode::Save, [this](const auto& paths) { saveFigure(paths.front()); },
        isPng, figureStem() + ".png");
}

void Application::drawMenuBar() {
    if (!ImGui::BeginMainMenuBar()) return;
    drawFileMenu();
    drawViewMenu();
    if (ImGui::BeginMenu("Help")) {
        ImGui::MenuItem("Mouse and keys", nullptr, &m_showControls);
        ImGui::EndMenu();
    }
    ImGui::EndMainMenuBar();
    handleShortcuts();
}

void Application::handleShortcuts() {
    const ImGuiIO& io = ImGui::GetIO();
    // Not while typing in a text field or while a modal dialog is open.
    if (!io.KeyCtrl || io.WantTextInput || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) return;
    if (ImGui::IsKeyPressed(GLFW_KEY_O, false)) openStudyDialog();
    if (ImGui::IsKeyPressed(GLFW_KEY_M, false)) openModelDialog();
    if (ImGui::IsKeyPressed(GLFW_KEY_S, false)) saveSessionDialog();
    if (ImGui::IsKeyPressed(GLFW_KEY_E, false)) exportFigureDialog();
    if (ImGui::IsKeyPressed(GLFW_KEY_Q, false)) requestQuit();
}

void Application::drawFileMenu() {
    if (!ImGui::BeginMenu("File")) return;
    const bool hasStudy = m_document->workspace.study() != nullptr;
    if (ImGui::MenuItem("Open study...", "Ctrl+O")) openStudyDialog();
    if (ImGui::MenuItem("Open model...", "Ctrl+M")) openModelDialog();
    if (ImGui::MenuItem("Add channel...", nullptr, false, hasStudy)) {
        m_fileDialog.open(
            "Add channel", "study", FileDialog::Mode::Open,
            [this](const auto& paths) { m_document->workspace.addChannels(paths); }, isStudyFile, {}, true);
    }
    if (ImGui::MenuItem("Load ground truth...", nullptr, false, hasStudy)) {
        m_fileDialog.open(
            "Load ground truth", "study", FileDialog::Mode::Open,
            [this](const auto& paths) { m_document->workspace.loadGroundTruth(paths.front()); }, isStudyFile);
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Open session...")) {
        m_fileDialog.open(
            "Open session", "session", FileDialog::Mode::Open,
            [this](const auto& paths) { openSessionFile(paths.front()); }, isSessionFile);
    }
    if (ImGui::MenuItem("Save session...", "Ctrl+S", false, hasStudy)) saveSessionDialog();
    if (ImGui::BeginMenu("Export", hasStudy)) {
        drawExportMenu();
        ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) requestQuit();
    ImGui::EndMenu();
}

void Application::drawExportMenu() {
    if (ImGui::MenuItem("Window as PNG...")) {
        m_fileDialog.open(
            "Save window", "picture", FileDialog::Mode::Save,
            [this](const auto& paths) { saveWindowScreenshot(paths.front()); }, isPng, studyStem() + "_window.png");
    }
    if (ImGui::MenuItem("Panel grid as PNG...", "Ctrl+E")) exportFigureDialog();
    if (ImGui::BeginMenu("View as PNG")) {
        const char* names[] = {"axial", "coronal", "sagittal", "3D"};
        for (int v = 0; v <= kVolumeView; ++v) {
            if (ImGui::MenuItem((std::string(names[v]) + "...").c_str())) {
                const int panel = m_document->workspace.viewer().activePanel;
                m_fileDialog.open(
                    "Save view", "picture", FileDialog::Mode::Save,
                    [this, v, panel](const auto& paths) { saveViewImage(panel, v, paths.front()); }, isPng,
                    m_document->comparison.fileStem(panel) + "_" + std::string(names[v]) + ".png");
            }
        }
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Figure size")) {
        for (int scale = 1; scale <= 4; ++scale) {
            if (ImGui::MenuItem((std::to_string(scale) + " x the screen").c_str(), nullptr, m_exportScale == scale)) {
                m_exportScale = scale;
            }
        }
        ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Segmentation as NIfTI...", nullptr, false, m_document->workspace.segmentation() != nullptr)) {
        m_fileDialog.open(
            "Save segmentation", "volume", FileDialog::Mode::Save,
            [this](const auto& paths) { exportSegmentation(paths.front()); }, isStudyFile,
            studyStem() + "_segmentation.nii.gz");
    }
    const auto& panels = m_document->comparison.panels();
    for (int p = 0; p < int(panels.size()); ++p) {
        const std::string label = fmt::format("Map of panel {} as NIfTI...", char('A' + p));
        if (ImGui::MenuItem(label.c_str(), nullptr, false, panels[size_t(p)].result != nullptr)) {
            m_fileDialog.open(
                "Save map", "volume", FileDialog::Mode::Save,
                [this, p](const auto& paths) { exportMap(p, paths.front()); }, isStudyFile,
                m_document->comparison.fileStem(p) + ".nii.gz");
        }
    }
}

void Application::drawViewMenu() {
    if (!ImGui::BeginMenu("View")) return;
    ViewerState& state = m_document->workspace.viewer();
    bool radiological = state.convention == render::Convention::Radiological;
    if (ImGui::MenuItem("Radiological convention", nullptr, &radiological)) {
        state.convention = radiological ? render::Convention::Radiological : render::Convention::Neurological;
    }
    ImGui::MenuItem("Linear interpolation", nullptr, &state.linearInterpolation);
    ImGui::MenuItem("Crosshair", nullptr, &state.showCrosshair);
    if (ImGui::MenuItem("Reset views", "r")) state.resetCameras();
    if (ImGui::BeginMenu("Maximise")) {
        if (ImGui::MenuItem("All views", nullptr, state.maximised < 0)) state.maximised = -1;
        for (int v = 0; v < kSliceViewCount; ++v) {
            if (ImGui::MenuItem(render::sliceAxisName(kSliceAxes[size_t(v)]), nullptr, state.maximised == v)) {
                state.maximised = v;
            }
        }
        if (ImGui::MenuItem("3D", nullptr, state.maximised == kVolumeView)) state.maximised = kVolumeView;
        ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Overlay legend", nullptr, &m_settings.overlayLegend)) m_settings.save(m_settingsPath);
    if (ImGui::MenuItem("Log", nullptr, &m_showLog)) m_log.markSeen();
    ImGui::EndMenu();
}

} // namespace segxai::app
