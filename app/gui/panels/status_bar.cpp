#include "app/gui/panels/status_bar.h"

#include "app/gui/state/probe.h"

#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {

void drawStatusBar(Document& document, LogPanel& log, bool& showLog, const std::string& deviceDescription) {
    Workspace& workspace = document.workspace;
    const auto jobs = workspace.jobs().active();
    if (jobs.empty()) {
        ImGui::TextDisabled("Ready");
    } else {
        const ActiveJob& job = jobs.front();
        ImGui::Text("%s", job.title.c_str());
        ImGui::SameLine();
        ImGui::SetNextItemWidth(220);
        const std::string overlay = job.running ? job.stage : "queued";
        ImGui::ProgressBar(job.fraction, ImVec2(220, 0), overlay.c_str());
        // A remaining-time estimate once the job has run long enough to tell.
        if (job.running && job.fraction > 0.02f && job.fraction < 1.0f && job.seconds > 3.0) {
            ImGui::SameLine();
            const double left = job.seconds * (1.0 - job.fraction) / job.fraction;
            ImGui::TextDisabled(left < 90.0 ? "about %.0f s left" : "about %.0f min left",
                                left < 90.0 ? left : left / 60.0);
        }
        ImGui::SameLine();
        if (ImGui::SmallButton("Cancel")) workspace.jobs().cancel(job.id);
        if (jobs.size() > 1) {
            ImGui::SameLine();
            ImGui::TextDisabled("(+%zu queued)", jobs.size() - 1);
        }
    }
    // The data probe, always in view: everything under the mouse, maps included.
    if (const ProbeReading reading = probe(document); !reading.values.empty()) {
        ImGui::SameLine();
        std::string line = fmt::format("  {},{},{}", reading.voxel[0], reading.voxel[1], reading.voxel[2]);
        for (const auto& [name, value] : reading.values)
            line += "   " + name + " " + value;
        ImGui::TextUnformatted(line.c_str());
    }
    ImGui::SameLine();
    const int problems = log.unseenProblems();
    const float right = ImGui::GetWindowContentRegionMax().x;
    const std::string logLabel = problems ? "Log (" + std::to_string(problems) + " new)" : "Log";
    const float deviceWidth = ImGui::CalcTextSize(deviceDescription.c_str()).x;
    ImGui::SetCursorPosX(right - deviceWidth - ImGui::CalcTextSize(logLabel.c_str()).x - 40);
    if (problems) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.75f, 0.3f, 1));
    if (ImGui::SmallButton(logLabel.c_str())) {
        showLog = !showLog;
        log.markSeen();
    }
    if (problems) ImGui::PopStyleColor();
    ImGui::SameLine();
    ImGui::TextDisabled("%s", deviceDescription.c_str());
}

} // namespace segxai::app
