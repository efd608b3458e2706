#include "app/gui/views/viewer_panel.h"

#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {

namespace {
template <size_t... I>
std::array<std::array<SliceViewWidget, kSliceViewCount>, kMaxPanels + 1> makeViews(std::index_sequence<I...>) {
    return {((void)I, std::array<SliceViewWidget, kSliceViewCount>{SliceViewWidget(0), SliceViewWidget(1),
                                                                   SliceViewWidget(2)})...};
}
} // namespace

ViewerPanel::ViewerPanel() : m_views(makeViews(std::make_index_sequence<kMaxPanels + 1>{})) {}

MapOverlay ViewerPanel::overlayFor(const Document& document, const GpuScene& gpu, int panel) {
    MapOverlay overlay;
    const ViewerState& state = document.workspace.viewer();
    if (panel == kMaxPanels) {
        const auto& difference = document.comparison.difference();
        if (!difference) return overlay;
        overlay.values = gpu.map(kMaxPanels);
        overlay.signedMap = true;
        overlay.extent = overlay.negativeExtent = difference->extent;
        overlay.display = state.displays[0];
        overlay.display.gain = overlay.display.negativeGain = 1.0f;
        overlay.title = "A - B";
        return overlay;
    }
    const auto shown = document.comparison.shownMap(panel);
    if (!shown) return overlay;
    overlay.display = state.displays[size_t(panel)];
    overlay.values = gpu.map(panel);
    const ExplanationSet& set = *document.comparison.panels()[size_t(panel)].result;
    if (set.source.kind == MapSource::Kind::Uncertainty) {
        overlay.display.unsignedColormap = state.uncertaintyColormap; // never mistaken for an explanation
    } else if (state.fadeByCertainty) {
        overlay.certainty = gpu.certainty();
    }
    overlay.signedMap = shown->map.signedValues;
    overlay.extent = shown->figures.extent;
    overlay.extentName = shown->figures.extentName;
    overlay.negativeExtent = shown->figures.negativeExtent;
    overlay.maximum = std::max(std::abs(shown->figures.minimum), std::abs(shown->figures.maximum));
    // "A: Seg-HiRes-Grad-CAM (flair) - lesion 3", and whether it still explains the pick.
    const std::string target = document.comparison.targetLabel(panel);
    overlay.title =
        fmt::format("{}{}{}{}{}", document.comparison.panels().size() > 1 ? fmt::format("{}: ", char('A' + panel)) : "",
                    itemTitle(set, shown->item), shown->map.channel.empty() ? "" : " (" + shown->map.channel + ")",
                    target.empty() ? "" : " - " + target,
                    document.comparison.explainsAnotherStructure(panel) ? " (stale: not the picked structure)" : "");
    return overlay;
}

std::vector<ViewerPanel::Cell> ViewerPanel::layout(const ViewerState& state, int panelCount, bool difference,
                                                   const ImVec2& size) {
    std::vector<Cell> cells;
    const float gap = 2.0f;
    if (state.layout == Layout::Tri) {
        if (state.maximised >= 0) return {{ImVec2(0, 0), size, state.activePanel, state.maximised}};
        // ITK-SNAP's arrangement: axial | sagittal over coronal | 3D.
        const float w = (size.x - gap) / 2.0f, h = (size.y - gap) / 2.0f;
        const int views[4] = {0, 2, 1, kVolumeView};
        for (int n = 0; n < 4; ++n) {
            cells.push_back({ImVec2(float(n % 2) * (w + gap), float(n / 2) * (h + gap)), ImVec2(w, h),
                             state.activePanel, views[n]});
        }
        return cells;
    }
    const int count = panelCount + (difference ? 1 : 0);
    const int columns = count <= 3 ? count : (count == 4 ? 2 : 3);
    const int rows = (count + columns - 1) / columns;
    const float w = (size.x - gap * float(columns - 1)) / float(columns);
    const float h = (size.y - gap * float(rows - 1)) / float(rows);
    for (int n = 0; n < count; ++n) {
        const int panel = n < panelCount ? n : kMaxPanels;
        cells.push_back({ImVec2(float(n % columns) * (w + gap), float(n / columns) * (h + gap)), ImVec2(w, h), panel,
                         state.compareView});
    }
    return cells;
}

void ViewerPanel::draw(const ImVec2& size, Document& document, const GpuScene& gpu, render::SliceRenderer& slices,
                       render::VolumeRenderer& volumes) {
    Workspace& workspace = document.workspace;
    const auto& loaded = workspace.study();
    if (!loaded) {
        const char* hint = "Drop a study here (NIfTI, NRRD, MetaImage or a DICOM folder) and a model\n"
                           "(TorchScript or a MONAI bundle), or use File > Open study... and Open model...";
        const ImVec2 textSize = ImGui::CalcTextSize(hint);
        ImGui::SetCursorPos(ImVec2((size.x - textSize.x) * 0.5f, (size.y - textSize.y) * 0.5f));
        ImGui::TextDisabled("%s", hint);
        return;
    }
    ViewerState& state = workspace.viewer();
    state.hover.reset();
    const ImVec2 start = ImGui::GetCursorPos();
    const bool difference = state.showDifference && document.comparison.difference() != nullptr;
    const auto cells = layout(state, int(document.comparison.panels().size()), difference, size);
    for (size_t n = 0; n < cells.size(); ++n) {
        const Cell& cell = cells[n];
        ImGui::SetCursorPos(ImVec2(start.x + cell.position.x, start.y + cell.position.y));
        ImGui::PushID(int(n));
        const size_t slot = state.layout == Layout::Tri ? 0 : n;
        const MapOverlay overlay = overlayFor(document, gpu, cell.panel);
        if (cell.view == kVolumeView) {
            m_volumes[slot].draw(cell.size, state, *loaded, overlay, gpu, volumes);
        } else {
            m_views[slot][size_t(cell.view)].draw(cell.size, state, *loaded, overlay, gpu, slices);
        }
        ImGui::PopID();
    }
}

} // namespace segxai::app
