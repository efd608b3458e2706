#include "app/gui/panels/plot_export.h"

#include "engine/core/log.h"
#include "engine/io/atomic_file.h"

#include <imgui.h>

namespace segxai::app {

bool PlotExport::request(const std::string& id, const std::string& path) {
    if (!m_shown.count(id)) return false;
    m_pending.push_back({id, path});
    return true;
}

void PlotExport::drawEnlarged() {
    auto it = m_large.find(m_enlarged);
    if (m_enlarged.empty() || it == m_large.end() || !m_shown.count(m_enlarged)) return;
    bool open = true;
    ImGui::SetNextWindowSize(ImVec2(960, 640), ImGuiCond_FirstUseEver);
    if (ImGui::Begin(("Plot: " + m_enlarged + "###enlargedPlot").c_str(), &open)) {
        ImVec2 size = ImGui::GetContentRegionAvail();
        size.y -= ImGui::GetFrameHeightWithSpacing();
        it->second(size);
    }
    ImGui::End();
    if (!open) m_enlarged.clear();
}

void PlotExport::buttons(const char* id, const plots::Rect& rect, const std::string& name, const std::string& csv,
                         FileDialog& files, std::string& message, Draw large) {
    m_shown[id] = rect;
    if (large) m_large[id] = std::move(large);
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (it->id != id) {
            ++it;
            continue;
        }
        if (it->frames == 3) ImGui::SetScrollHereY(1.0f); // this line at the bottom: the plot above it shows
        if (--it->frames > 0) {
            ++it;
            continue;
        }
        m_captures.push_back({it->path, rect});
        it = m_pending.erase(it);
    }
    ImGui::PushID(id);
    if (m_large.count(id)) {
        if (ImGui::SmallButton("Enlarge")) m_enlarged = id;
        ImGui::SameLine();
    }
    if (ImGui::SmallButton("PNG")) {
        files.open(
            "Save plot", "picture", FileDialog::Mode::Save,
            [this, plot = std::string(id)](const std::vector<std::string>& paths) {
                m_pending.push_back({plot, paths.front()});
            },
            [](const std::filesystem::path& p) { return p.extension() == ".png"; }, name + ".png");
    }
    if (!csv.empty()) {
        ImGui::SameLine();
        if (ImGui::SmallButton("CSV")) {
            files.open(
                "Save table", "table", FileDialog::Mode::Save,
                [csv, &message](const std::vector<std::string>& paths) {
                    try {
                        writeFileAtomically(paths.front(), csv);
                        logInfo("saved {}", paths.front());
                        message.clear();
                    } catch (const std::exception& e) {
                        message = e.what();
                    }
                },
                [](const std::filesystem::path& p) { return p.extension() == ".csv"; }, name + ".csv");
        }
    }
    ImGui::PopID();
}

} // namespace segxai::app
