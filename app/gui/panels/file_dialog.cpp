#include "app/gui/panels/file_dialog.h"

#include <algorithm>
#include <imgui.h>
#include <imgui_stdlib.h>

namespace fs = std::filesystem;

namespace segxai::app {

void FileDialog::open(std::string title, std::string kind, Mode mode, Accept accept, Filter filter,
                      std::string defaultName, bool allowFolder) {
    m_title = std::move(title);
    m_kind = std::move(kind);
    if (auto it = m_folders.find(m_kind); it != m_folders.end()) m_folder = it->second;
    m_mode = mode;
    m_accept = std::move(accept);
    m_filter = std::move(filter);
    m_allowFolder = allowFolder;
    m_nameInput = std::move(defaultName);
    m_selected.clear();
    m_message.clear();
    m_confirmOverwrite.clear();
    std::error_code ec;
    if (m_folder.empty() || !fs::is_directory(m_folder, ec)) m_folder = fs::current_path(ec);
    m_pathInput = m_folder.string();
    refresh();
    m_visible = true;
    m_openRequested = true;
}

void FileDialog::refresh() {
    m_entries.clear();
    m_message.clear(); // a message is about the folder it was said in
    std::error_code ec;
    for (fs::directory_iterator it(m_folder, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
        const auto& entry = *it;
        const std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        std::error_code typeError;
        const bool folder = entry.is_directory(typeError);
        if (folder || !m_filter || m_filter(entry.path())) m_entries.push_back(entry);
    }
    if (ec) m_message = "cannot list " + m_folder.string() + ": " + ec.message();
    std::sort(m_entries.begin(), m_entries.end(), [](const auto& a, const auto& b) {
        std::error_code e;
        const bool da = a.is_directory(e), db = b.is_directory(e);
        if (da != db) return da;
        return a.path().filename() < b.path().filename();
    });
}

void FileDialog::accept(const std::vector<std::string>& paths) {
    m_visible = false;
    m_folders[m_kind] = m_folder.string();
    ImGui::CloseCurrentPopup();
    if (m_accept) m_accept(paths);
}

void FileDialog::draw() {
    if (!m_visible) return;
    if (m_openRequested) {
        ImGui::OpenPopup(m_title.c_str());
        m_openRequested = false;
    }
    ImGui::SetNextWindowSize(ImVec2(720, 480), ImGuiCond_Appearing);
    bool keepOpen = true;
    if (!ImGui::BeginPopupModal(m_title.c_str(), &keepOpen)) {
        if (!keepOpen) m_visible = false;
        return;
    }
    if (ImGui::Button("Up")) {
        m_folder = m_folder.parent_path();
        m_pathInput = m_folder.string();
        m_selected.clear();
        refresh();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputText("##folder", &m_pathInput, ImGuiInputTextFlags_EnterReturnsTrue)) {
        std::error_code ec;
        if (fs::is_directory(m_pathInput, ec)) {
            m_folder = fs::path(m_pathInput);
            m_selected.clear();
            refresh();
        } else {
            m_message = m_pathInput + " is not a folder";
        }
    }

    const float footer = ImGui::GetFrameHeightWithSpacing() * (m_mode == Mode::Save ? 3.2f : 2.2f);
    ImGui::BeginChild("entries", ImVec2(0, -footer), true);
    fs::path enter;
    for (const auto& entry : m_entries) {
        std::error_code ec;
        const bool folder = entry.is_directory(ec);
        const std::string name = entry.path().filename().string();
        const std::string label = (folder ? "[dir]  " : "       ") + name;
        const bool selected = m_selected.count(entry.path().string()) > 0;
        if (ImGui::Selectable(label.c_str(), selected, ImGuiSelectableFlags_AllowDoubleClick)) {
            if (ImGui::IsMouseDoubleClicked(0)) {
                if (folder) {
                    enter = entry.path();
                } else if (m_mode == Mode::Open) {
                    accept({entry.path().string()});
                    ImGui::EndChild();
                    ImGui::EndPopup();
                    return;
                }
            } else if (folder) {
                m_selected = {entry.path().string()};
            } else {
                if (!ImGui::GetIO().KeyCtrl || m_mode == Mode::Save) m_selected.clear();
                m_selected.insert(entry.path().string());
                if (m_mode == Mode::Save) m_nameInput = name;
            }
        }
    }
    ImGui::EndChild();
    if (!enter.empty()) {
        m_folder = enter;
        m_pathInput = m_folder.string();
        m_selected.clear();
        refresh();
    }

    if (m_mode == Mode::Save) {
        ImGui::SetNextItemWidth(-1);
        ImGui::InputTextWithHint("##name", "file name", &m_nameInput);
    }
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", m_message.c_str());

    if (m_mode == Mode::Open) {
        std::vector<std::string> files;
        for (const auto& path : m_selected) {
            std::error_code ec;
            if (!fs::is_directory(path, ec)) files.push_back(path);
        }
        ImGui::BeginDisabled(files.empty());
        if (ImGui::Button("Open")) accept(files);
        ImGui::EndDisabled();
        if (m_allowFolder) {
            ImGui::SameLine();
            std::string folder = m_folder.string();
            if (m_selected.size() == 1 && fs::is_directory(*m_selected.begin())) {
                folder = *m_selected.begin();
            }
            const std::string label = "Open folder \"" + fs::path(folder).filename().string() + "\"";
            if (ImGui::Button(label.c_str())) accept({folder});
            if (ImGui::IsItemHovered()) {
                ImGui::SetTooltip("%s\n(the folder selected in the list, else the one shown)", folder.c_str());
            }
        }
    } else {
        const fs::path target = m_folder / m_nameInput;
        if (!m_confirmOverwrite.empty() && m_confirmOverwrite != target.string()) {
            m_confirmOverwrite.clear();
        }
        ImGui::BeginDisabled(m_nameInput.empty());
        const char* label = m_confirmOverwrite.empty() ? "Save" : "Overwrite";
        if (ImGui::Button(label)) {
            std::error_code ec;
            if (fs::exists(target, ec) && m_confirmOverwrite.empty()) {
                m_confirmOverwrite = target.string();
                m_message = target.filename().string() + " exists; press Overwrite to replace it";
            } else {
                accept({target.string()});
            }
        }
        ImGui::EndDisabled();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) {
        m_visible = false;
        ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
    if (!keepOpen) m_visible = false;
}

} // namespace segxai::app
