#include "app/gui/study_panel.h"

#include "app/gui/transfer_editor.h"
#include "app/gui/volume_view_widget.h"

#include <filesystem>
#include <imgui.h>

namespace segxai::app {
namespace {

void drawChannels(Workspace& workspace) {
    const LoadedStudy& loaded = *workspace.study();
    ViewerState& state = workspace.viewer();
    const Study& study = *loaded.study;
    ImGui::TextDisabled("%s", study.geometry.describe().c_str());
    for (int c = 0; c < int(study.channels.size()); ++c) {
        ImGui::PushID(c);
        if (ImGui::RadioButton(study.channels[size_t(c)].name.c_str(), state.displayChannel == c)) {
            state.displayChannel = c;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", study.sourcePaths[size_t(c)].c_str());
        ImGui::PopID();
    }
    if (state.displayChannel >= int(state.windows.size())) return;
    ValueRange& window = state.windows[size_t(state.displayChannel)];
    const ValueRange full = loaded.fullRanges[size_t(state.displayChannel)];
    const float span = std::max(1e-6f, full.max - full.min);
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::DragFloatRange2("##window", &window.min, &window.max, span / 500.0f,
                           full.min - span, full.max + span, "low %.4g", "high %.4g");
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

void drawCursor(Workspace& workspace) {
    const Study& study = *workspace.study()->study;
    const ViewerState& state = workspace.viewer();
    const bool hovering = state.hover && state.hover->insideVolume;
    const Index3 v = hovering ? state.hover->voxel : state.crosshair;
    const glm::dvec3 world =
        hovering ? state.hover->world : study.geometry.voxelToWorld(glm::dvec3(v[0], v[1], v[2]));
    ImGui::TextDisabled(hovering ? "Under the mouse" : "At the crosshair");
    ImGui::Text("voxel  %lld, %lld, %lld", (long long)v[0], (long long)v[1], (long long)v[2]);
    ImGui::Text("world  %.1f, %.1f, %.1f mm (LPS)", world.x, world.y, world.z);
    for (const Volume& channel : study.channels) {
        ImGui::Text("%-8s %.5g", channel.name.c_str(), channel.at(v[0], v[1], v[2]));
    }
    if (study.groundTruth) ImGui::Text("truth    %u", unsigned(study.groundTruth->at(v[0], v[1], v[2])));
    if (const auto& s = workspace.segmentation(); s && s->labels.geometry.sameGrid(study.geometry)) {
        const uint16_t label = s->labels.at(v[0], v[1], v[2]);
        ImGui::Text("model    %s (p %.3f)", s->classNames[label].c_str(),
                    s->probabilities[label].at(v[0], v[1], v[2]));
    }
}

} // namespace

void drawStudyPanel(Workspace& workspace) {
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
            state.convention =
                radiological ? render::Convention::Radiological : render::Convention::Neurological;
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
        ImGui::Checkbox("Label shells", &state.labelShells);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##shells", &state.shellOpacity, 0.0f, 1.0f, "opacity %.2f");
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##map3d", &state.mapOpacity3d, 0.0f, 1.0f, "map strength %.2f");
        if (ImGui::Button("Reset camera")) VolumeViewWidget::placeCamera(state, workspace.study()->study->geometry);
    }
    if (ImGui::CollapsingHeader("Cursor", ImGuiTreeNodeFlags_DefaultOpen)) drawCursor(workspace);
}

} // namespace segxai::app
