// The menu bar and the modal dialogs of the application.
#include "app/gui/application.h"

#include "app/gui/state/session.h"
#include "engine/io/image_io.h"
#include "engine/core/log.h"

#include <GLFW/glfw3.h>
#include <algorithm>
#include <fmt/format.h>
#include <filesystem>
#include <imgui.h>

namespace segxai::app {
namespace {

bool isStudyFile(const std::filesystem::path& path) { return isSupportedImagePath(path.string()); }

bool isPng(const std::filesystem::path& path) { return path.extension() == ".png"; }

} // namespace

void Application::drawMenuBar() {
    if (!ImGui::BeginMainMenuBar()) return;
    const bool hasStudy = m_document->workspace.study() != nullptr;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open study...")) {
            m_fileDialog.open(
                "Open study", FileDialog::Mode::Open,
                [this](const auto& paths) { m_document->workspace.openStudy(StudyRequest{paths, {}, {}}); },
                isStudyFile, {}, true);
        }
        if (ImGui::MenuItem("Open model...")) {
            m_fileDialog.open(
                "Open model", FileDialog::Mode::Open,
                [this](const auto& paths) { m_document->workspace.openModel(paths.front()); },
                [](const std::filesystem::path& p) { return isModelPath(p.string()); }, {}, true);
        }
        if (ImGui::MenuItem("Add channel...", nullptr, false, hasStudy)) {
            m_fileDialog.open(
                "Add channel", FileDialog::Mode::Open,
                [this](const auto& paths) { m_document->workspace.addChannels(paths); }, isStudyFile, {},
                true);
        }
        if (ImGui::MenuItem("Load ground truth...", nullptr, false, hasStudy)) {
            m_fileDialog.open(
                "Load ground truth", FileDialog::Mode::Open,
                [this](const auto& paths) { m_document->workspace.loadGroundTruth(paths.front()); },
                isStudyFile);
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Open session...")) {
            m_fileDialog.open("Open session", FileDialog::Mode::Open, [this](const auto& paths) { openSessionFile(paths.front()); },
                              [](const std::filesystem::path& p) { return isSessionPath(p.string()); });
        }
        if (ImGui::MenuItem("Save session...", nullptr, false, hasStudy)) {
            m_fileDialog.open("Save session", FileDialog::Mode::Save, [this](const auto& paths) { saveSessionFile(paths.front()); },
                              [](const std::filesystem::path& p) { return isSessionPath(p.string()); }, "session.segxai");
        }
        if (ImGui::BeginMenu("Export", hasStudy)) {
            if (ImGui::MenuItem("Window as PNG...")) {
                m_fileDialog.open("Save window", FileDialog::Mode::Save,
                                  [this](const auto& paths) { saveWindowScreenshot(paths.front()); }, isPng, "window.png");
            }
            if (ImGui::MenuItem("Panel grid as PNG...")) {
                m_fileDialog.open("Save figure", FileDialog::Mode::Save, [this](const auto& paths) { saveFigure(paths.front()); },
                                  isPng, "figure.png");
            }
            if (ImGui::BeginMenu("View as PNG")) {
                const char* names[] = {"axial", "coronal", "sagittal", "3D"};
                for (int v = 0; v <= kVolumeView; ++v) {
                    if (ImGui::MenuItem((std::string(names[v]) + "...").c_str())) {
                        const int panel = m_document->workspace.viewer().activePanel;
                        m_fileDialog.open("Save view", FileDialog::Mode::Save,
                                          [this, v, panel](const auto& paths) { saveViewImage(panel, v, paths.front()); }, isPng,
                                          std::string(names[v]) + ".png");
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
                m_fileDialog.open("Save segmentation", FileDialog::Mode::Save,
                                  [this](const auto& paths) { exportSegmentation(paths.front()); }, isStudyFile, "segmentation.nii.gz");
            }
            const auto& panels = m_document->comparison.panels();
            for (int p = 0; p < int(panels.size()); ++p) {
                const std::string label = fmt::format("Map of panel {} as NIfTI...", char('A' + p));
                if (ImGui::MenuItem(label.c_str(), nullptr, false, panels[size_t(p)].result != nullptr)) {
                    m_fileDialog.open("Save map", FileDialog::Mode::Save, [this, p](const auto& paths) { exportMap(p, paths.front()); },
                                      isStudyFile, fmt::format("map_{}.nii.gz", char('a' + p)));
                }
            }
            ImGui::EndMenu();
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Quit", "Ctrl+Q")) glfwSetWindowShouldClose(m_window, GLFW_TRUE);
        ImGui::EndMenu();
    }
    ViewerState& state = m_document->workspace.viewer();
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

// Ambiguous channel names: the user says which file feeds which model input.
void Application::drawChannelChoice() {
    auto& choice = m_document->workspace.pendingChannelChoice();
    if (choice && !ImGui::IsPopupOpen("Which file is which input?")) {
        m_channelChoiceOrder.resize(choice->inputs.size());
        for (size_t i = 0; i < m_channelChoiceOrder.size(); ++i) m_channelChoiceOrder[i] = int(i);
        ImGui::OpenPopup("Which file is which input?");
    }
    if (!ImGui::BeginPopupModal("Which file is which input?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    if (choice && m_channelChoiceOrder.size() == choice->inputs.size() && choice->channels.size() == choice->inputs.size()) {
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
        ImGui::TextWrapped("The file names do not say which of the model's inputs each file is (%s).", choice->reason.c_str());
        ImGui::PopTextWrapPos();
        for (size_t i = 0; i < choice->inputs.size(); ++i) {
            ImGui::PushID(int(i));
            ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16.0f);
            const int current = m_channelChoiceOrder[i];
            if (ImGui::BeginCombo(choice->inputs[i].c_str(), choice->channels[size_t(current)].c_str())) {
                for (size_t c = 0; c < choice->channels.size(); ++c) {
                    if (ImGui::Selectable(choice->channels[c].c_str(), int(c) == current)) m_channelChoiceOrder[i] = int(c);
                }
                ImGui::EndCombo();
            }
            ImGui::PopID();
        }
        std::vector<size_t> order(m_channelChoiceOrder.begin(), m_channelChoiceOrder.end());
        std::vector<size_t> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        const bool permutation = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
        ImGui::BeginDisabled(!permutation);
        if (ImGui::Button("Use this order")) {
            choice.reset();
            m_document->workspace.setChannelOrder(order);
        }
        ImGui::EndDisabled();
        if (!permutation && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("Each file feeds one input.");
        ImGui::SameLine();
        if (choice && ImGui::Button("Cancel")) choice.reset(); // not segmented until an order is chosen
    }
    if (!choice) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
}

void Application::drawDialogs() {
    m_fileDialog.draw();

    auto& drop = m_document->workspace.pendingDrop();
    if (drop) ImGui::OpenPopup("Use dropped files");
    if (ImGui::BeginPopupModal("Use dropped files", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        if (drop) {
            for (const auto& path : drop->paths) ImGui::BulletText("%s", path.c_str());
            if (ImGui::Button("Open as a new study")) {
                m_document->workspace.openStudy(StudyRequest{drop->paths, {}, {}});
                drop.reset();
            }
            ImGui::SameLine();
            if (drop && ImGui::Button("Add as channel(s)")) {
                m_document->workspace.addChannels(drop->paths);
                drop.reset();
            }
            if (drop && drop->paths.size() == 1) {
                ImGui::SameLine();
                if (ImGui::Button("Load as ground truth")) {
                    m_document->workspace.loadGroundTruth(drop->paths.front());
                    drop.reset();
                }
            }
            ImGui::SameLine();
            if (drop && ImGui::Button("Cancel")) drop.reset();
        }
        if (!drop) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }

    auto& series = m_document->workspace.pendingSeriesChoice();
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
                    m_document->workspace.openStudy(std::move(request));
                    break;
                }
            }
            if (series && ImGui::Button("Cancel")) series.reset();
        }
        if (!series) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }

    drawChannelChoice();

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

} // namespace segxai::app
