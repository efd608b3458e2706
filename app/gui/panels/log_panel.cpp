#include "app/gui/panels/log_panel.h"

#include <ctime>
#include <imgui.h>

namespace segxai::app {

bool LogPanel::update() {
    bool problem = false;
    for (auto& entry : Log::instance().since(m_lastSequence)) {
        m_lastSequence = entry.sequence;
        if (entry.level != LogLevel::Info) {
            ++m_unseenProblems;
            problem = true;
        }
        m_entries.push_back(std::move(entry));
        m_scrollToBottom = true;
    }
    if (m_entries.size() > 2000) m_entries.erase(m_entries.begin(), m_entries.begin() + 500);
    return problem;
}

void LogPanel::draw() {
    if (ImGui::SmallButton("Clear")) m_entries.clear();
    ImGui::BeginChild("log", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
    for (const auto& entry : m_entries) {
        const std::time_t t = std::chrono::system_clock::to_time_t(entry.time);
        char stamp[16];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&t));
        const ImVec4 color = entry.level == LogLevel::Error     ? ImVec4(1.0f, 0.45f, 0.4f, 1)
                             : entry.level == LogLevel::Warning ? ImVec4(1.0f, 0.8f, 0.3f, 1)
                                                                : ImVec4(0.8f, 0.8f, 0.8f, 1);
        ImGui::TextColored(color, "%s  %s", stamp, entry.message.c_str());
    }
    if (m_scrollToBottom) ImGui::SetScrollHereY(1.0f);
    m_scrollToBottom = false;
    ImGui::EndChild();
}

} // namespace segxai::app
