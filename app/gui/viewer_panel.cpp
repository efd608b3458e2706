#include "app/gui/viewer_panel.h"

#include <imgui.h>

namespace segxai::app {

void ViewerPanel::draw(const ImVec2& size, Workspace& workspace, const GpuScene& gpu,
                       render::SliceRenderer& renderer) {
    const auto& loaded = workspace.study();
    if (!loaded) {
        const char* hint = "Drop a study here (NIfTI, NRRD, MetaImage or a DICOM folder),\n"
                           "or use File > Open study...";
        const ImVec2 textSize = ImGui::CalcTextSize(hint);
        ImGui::SetCursorPos(ImVec2((size.x - textSize.x) * 0.5f, (size.y - textSize.y) * 0.5f));
        ImGui::TextDisabled("%s", hint);
        return;
    }
    ViewerState& state = workspace.viewer();
    state.hover.reset();
    const float gap = 2.0f;
    const ImVec2 start = ImGui::GetCursorPos();
    if (state.maximised >= 0) {
        ImGui::PushID(state.maximised);
        m_views[size_t(state.maximised)].draw(size, state, *loaded, workspace.explanations().get(), gpu, renderer);
        ImGui::PopID();
        return;
    }
    const float width = (size.x - gap * (kSliceViewCount - 1)) / kSliceViewCount;
    for (int v = 0; v < kSliceViewCount; ++v) {
        ImGui::SetCursorPos(ImVec2(start.x + float(v) * (width + gap), start.y));
        ImGui::PushID(v);
        m_views[size_t(v)].draw(ImVec2(width, size.y), state, *loaded, workspace.explanations().get(), gpu, renderer);
        ImGui::PopID();
    }
}

} // namespace segxai::app
