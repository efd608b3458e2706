// The modal dialogs of the application and the mouse-and-keys window.
#include "app/gui/application.h"
#include "engine/io/image_io.h"

#include <GLFW/glfw3.h>
#include <algorithm>
#include <imgui.h>

namespace segxai::app {
namespace {

// Esc closes the dialog it is pressed in.
bool escapePressed() {
    return ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false);
}

} // namespace

// Ambiguous channel names: the user says which file feeds which model input.
void Application::drawChannelChoice() {
    auto& choice = m_document->workspace.pendingChannelChoice();
    if (choice && !ImGui::IsPopupOpen("Which file is which input?")) {
        m_channelChoiceOrder.resize(choice->inputs.size());
        for (size_t i = 0; i < m_channelChoiceOrder.size(); ++i)
            m_channelChoiceOrder[i] = int(i);
        ImGui::OpenPopup("Which file is which input?");
    }
    if (!ImGui::BeginPopupModal("Which file is which input?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    if (choice && m_channelChoiceOrder.size() == choice->inputs.size() &&
        choice->channels.size() == choice->inputs.size()) {
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
        ImGui::TextWrapped("The file names do not say which of the model's inputs each file is (%s).",
                           choice->reason.c_str());
        ImGui::PopTextWrapPos();
        for (size_t i = 0; i < choice->inputs.size(); ++i) {
            ImGui::PushID(int(i));
            ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16.0f);
            const int current = m_channelChoiceOrder[i];
            if (ImGui::BeginCombo(choice->inputs[i].c_str(), choice->channels[size_t(current)].c_str())) {
                for (size_t c = 0; c < choice->channels.size(); ++c) {
                    if (ImGui::Selectable(choice->channels[c].c_str(), int(c) == current))
                        m_channelChoiceOrder[i] = int(c);
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
        if (!permutation && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("Each file feeds one input.");
        ImGui::SameLine();
        if (choice && (ImGui::Button("Cancel") || escapePressed())) choice.reset(); // not segmented until chosen
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
            for (const auto& path : drop->paths)
                ImGui::BulletText("%s", path.c_str());
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
            if (drop && (ImGui::Button("Cancel") || escapePressed())) drop.reset();
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
                const std::string label = s.summary() + "##" + s.uid;
                if (ImGui::Selectable(label.c_str())) {
                    StudyRequest request = series->request;
                    request.dicomSeries.resize(request.channelPaths.size());
                    request.dicomSeries[series->channel] = s.uid;
                    series.reset();
                    m_document->workspace.openStudy(std::move(request));
                    break;
                }
            }
            if (series && (ImGui::Button("Cancel") || escapePressed())) series.reset();
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
        if (ImGui::Button("OK") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) || escapePressed()) {
            m_errors.clear();
            ImGui::CloseCurrentPopup();
        }
        ImGui::EndPopup();
    }

    drawQuitConfirmation();
    drawControls();
}

void Application::drawControls() {
    if (!m_showControls) return;
    static const std::pair<const char*, const char*> kControls[] = {
        {"Left click / drag", "move the crosshair (all views follow); a click picks the structure under it"},
        {"Wheel, Page Up / Down, arrows", "next / previous slice"},
        {"Right drag", "zoom"},
        {"Middle or Shift + left drag", "pan"},
        {"Ctrl + left drag", "window (horizontal) and level (vertical)"},
        {"Double-click", "maximise / restore a view (the 3D view too)"},
        {"r", "reset zoom and pan"},
        {"n / p", "next / previous structure"},
        {"3D: left drag, wheel", "rotate, zoom"},
        {"3D: right or Shift + left drag", "pan"},
        {"Ctrl + O / M / S / E", "open a study, open a model, save the session, export the figure"},
        {"Ctrl + Q", "quit (asks when results are not saved)"},
        {"Esc", "close a menu or a dialog"},
        {"Drop files or a folder", "open a study, add channels, load ground truth, a model or a session"},
    };
    ImGui::Begin("Mouse and keys", &m_showControls, ImGuiWindowFlags_AlwaysAutoResize);
    if (ImGui::BeginTable("controls", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
        for (const auto& [keys, what] : kControls) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(keys);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(what);
        }
        ImGui::EndTable();
    }
    ImGui::End();
}

void Application::requestQuit() {
    if (m_document->hasResults() && m_document->resultsRevision() != m_savedResults) {
        m_confirmQuit = true;
    } else {
        glfwSetWindowShouldClose(m_window, GLFW_TRUE);
    }
}

// Results that took minutes to compute are not lost by a stray Ctrl+Q.
void Application::drawQuitConfirmation() {
    if (m_confirmQuit && !ImGui::IsPopupOpen("Quit SegXAI?")) ImGui::OpenPopup("Quit SegXAI?");
    if (!ImGui::BeginPopupModal("Quit SegXAI?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    ImGui::TextUnformatted("The explanations and analyses computed since the last saved session will be lost.");
    if (ImGui::Button("Save session...")) {
        m_confirmQuit = false;
        ImGui::CloseCurrentPopup();
        saveSessionDialog();
    }
    ImGui::SameLine();
    if (ImGui::Button("Quit without saving")) glfwSetWindowShouldClose(m_window, GLFW_TRUE);
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || escapePressed()) {
        m_confirmQuit = false;
        ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
}

} // namespace segxai::app
