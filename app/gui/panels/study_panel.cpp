#include "app/gui/panels/study_panel.h"

#include "app/gui/panels/transfer_editor.h"
#include "app/gui/state/probe.h"
#include "app/gui/views/volume_view_widget.h"

#include <filesystem>
#include <imgui.h>
#include <numeric>
#include <optional>

namespace segxai::app {
namespace {

// The identity order of `count` channels with `a` and `b` swapped.
std::vector<size_t> swapped(size_t count, size_t a, size_t b) {
    std::vector<size_t> order(count);
    std::iota(order.begin(), order.end(), size_t(0));
    std::swap(order[a], order[b]);
    return order;
}

void drawChannels(Workspace& workspace) {
    const LoadedStudy& loaded = *workspace.study();
    ViewerState& state = workspace.viewer();
    const Study& study = *loaded.study;
    ImGui::TextDisabled("%s", study.geometry.describe().c_str());
    const int count = int(study.channels.size());
    const auto* model = workspace.model() ? &workspace.model()->model->card() : nullptr;
    std::optional<std::vector<size_t>> moved; // a new channel order the user asked for
    for (int c = 0; c < count; ++c) {
        ImGui::PushID(c);
        if (ImGui::RadioButton(study.channels[size_t(c)].name.c_str(), state.displayChannel == c)) {
            state.displayChannel = c;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", study.sourcePaths[size_t(c)].c_str());
        if (model && size_t(c) < model->inputChannels.size()) {
            ImGui::SameLine();
            ImGui::TextDisabled("-> %s", model->inputChannels[size_t(c)].c_str());
        }
        if (count > 1) {
            // Up and down: the order is the model's input order.
            ImGui::SameLine(ImGui::GetContentRegionAvail().x + ImGui::GetCursorPosX() - 2.0f * ImGui::GetFrameHeight() -
                            4.0f);
            ImGui::BeginDisabled(c == 0 || workspace.loading());
            if (ImGui::ArrowButton("##up", ImGuiDir_Up)) {
                moved = swapped(size_t(count), size_t(c), size_t(c - 1));
            }
            ImGui::EndDisabled();
            if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
                ImGui::SetTooltip("Move up (the model's input order)");
            ImGui::SameLine();
            ImGui::BeginDisabled(c + 1 == count || workspace.loading());
            if (ImGui::ArrowButton("##down", ImGuiDir_Down)) {
                moved = swapped(size_t(count), size_t(c), size_t(c + 1));
            }
            ImGui::EndDisabled();
            if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
                ImGui::SetTooltip("Move down (the model's input order)");
        }
        ImGui::PopID();
    }
    if (moved) workspace.setChannelOrder(*moved);
    if (count > 1) {
        bool matching = workspace.channelMatching();
        if (ImGui::Checkbox("Match channels to the model by name", &matching)) workspace.setChannelMatching(matching);
        if (ImGui::IsItemHovered()) {
            ImGui::SetTooltip("On: the channels are put in the order of the model card's inputs, by their file names\n"
                              "(t1, FLAIR, T1w, _0000 ...). Moving a channel by hand turns this off.");
        }
    }
    if (state.displayChannel >= int(state.windows.size())) return;
    ValueRange& window = state.windows[size_t(state.displayChannel)];
    const ValueRange full = loaded.fullRanges[size_t(state.displayChannel)];
    const float span = std::max(1e-6f, full.max - full.min);
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::DragFloatRange2("##window", &window.min, &window.max, span / 500.0f, full.min - span, full.max + span,
                           "low %.4g", "high %.4g");
    if (ImGui::Button("Auto window")) window = loaded.displayRanges[size_t(state.displayChannel)];
    ImGui::SameLine();
    if (ImGui::Button("Full range")) window = full;
}

void drawOverlay(Workspace& workspace) {
    const Study& study = *workspace.study()->study;
    ViewerState& state = workspace.viewer();
    if (!study.groundTruth) {
        ImGui::TextDisabled("No ground truth (File > Load ground truth...)");
        return;
    }
    ImGui::Checkbox("Ground truth", &state.showGroundTruth);
    ImGui::SameLine();
    ImGui::Checkbox("Outline", &state.labelOutline);
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::SliderFloat("##opacity", &state.labelOpacity, 0.0f, 1.0f, "opacity %.2f");
}

// The data probe: what is under the mouse (else at the crosshair), maps included.
void drawCursor(const Document& document) {
    const ProbeReading reading = probe(document);
    const Index3& v = reading.voxel;
    ImGui::TextDisabled(reading.underMouse ? "Under the mouse" : "At the crosshair");
    ImGui::Text("voxel  %lld, %lld, %lld", (long long)v[0], (long long)v[1], (long long)v[2]);
    ImGui::Text("world  %.1f, %.1f, %.1f mm (LPS)", reading.world.x, reading.world.y, reading.world.z);
    for (const auto& [name, value] : reading.values)
        ImGui::Text("%-8s %s", name.c_str(), value.c_str());
}

} // namespace

void drawStudyPanel(Document& document) {
    Workspace& workspace = document.workspace;
    if (!workspace.study()) {
        ImGui::TextWrapped("No study open.");
        return;
    }
    ViewerState& state = workspace.viewer();
    if (ImGui::CollapsingHeader("Channels", ImGuiTreeNodeFlags_DefaultOpen)) drawChannels(workspace);
    if (ImGui::CollapsingHeader("Labels", ImGuiTreeNodeFlags_DefaultOpen)) drawOverlay(workspace);
    if (ImGui::CollapsingHeader("Display", ImGuiTreeNodeFlags_DefaultOpen)) {
        bool radiological = state.convention == render::Convention::Radiological;
        if (ImGui::Checkbox("Radiological view", &radiological)) {
            state.convention = radiological ? render::Convention::Radiological : render::Convention::Neurological;
        }
        if (ImGui::IsItemHovered()) {
            ImGui::SetTooltip("On: the patient's right is on the screen's left (radiological).\n"
                              "Off: neurological (patient's right on the right).");
        }
        ImGui::Checkbox("Linear interpolation", &state.linearInterpolation);
        ImGui::Checkbox("Crosshair", &state.showCrosshair);
        if (ImGui::Button("Reset views (r)")) state.resetCameras();
    }
    if (ImGui::CollapsingHeader("3D view")) {
        using Preset = render::TransferFunction::Preset;
        static int preset = 1; // MR soft, as ViewerState starts
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##preset", render::TransferFunction::presetName(Preset(preset)))) {
            for (int p = 0; p < render::TransferFunction::kPresetCount; ++p) {
                if (ImGui::Selectable(render::TransferFunction::presetName(Preset(p)), p == preset)) {
                    preset = p;
                    state.transfer = render::TransferFunction::preset(Preset(p));
                }
            }
            ImGui::EndCombo();
        }
        drawTransferEditor(state.transfer);
        ImGui::TextDisabled("over the channel's window; drag points, double-click adds, right-click edits");
        ImGui::Checkbox("Maximum intensity", &state.mip);
        ImGui::TextUnformatted("Cut above the crosshair:");
        ImGui::SameLine();
        ImGui::Checkbox("x", &state.clip[0]);
        ImGui::SameLine();
        ImGui::Checkbox("y", &state.clip[1]);
        ImGui::SameLine();
        ImGui::Checkbox("z", &state.clip[2]);
        ImGui::Checkbox("Cut to the picked structure", &state.cutToPick);
        if (ImGui::IsItemHovered()) {
            ImGui::SetTooltip("With a structure picked and no cut above: the half of the volume between the camera\n"
                              "and the structure is cut away, so the skin does not hide it.");
        }
        ImGui::Checkbox("Label shells", &state.labelShells);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##shells", &state.shellOpacity, 0.0f, 1.0f, "opacity %.2f");
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##map3d", &state.mapOpacity3d, 0.0f, 1.0f, "map strength %.2f");
        if (ImGui::Button("Reset camera")) VolumeViewWidget::placeCamera(state, workspace.study()->study->geometry);
    }
    if (ImGui::CollapsingHeader("Cursor", ImGuiTreeNodeFlags_DefaultOpen)) drawCursor(document);
}

} // namespace segxai::app
