#pragma once
#include "app/gui/state/document.h"
#include "app/gui/views/slice_view_widget.h"
#include "app/gui/views/volume_view_widget.h"

#include <array>

namespace segxai::app {

// The views in the viewer area. Tri layout: axial, coronal, sagittal and the 3D view in a
// 2 x 2 grid (one maximised on a double-click), with the active panel's map. Compare layout:
// one view per comparison panel (and the difference of A and B), all of the same kind,
// sharing crosshair, slice, zoom and 3D camera.
class ViewerPanel {
public:
    ViewerPanel();
    void draw(const ImVec2& size, Document& document, const GpuScene& gpu, render::SliceRenderer& slices,
              render::VolumeRenderer& volumes);
    // The widget of a tri-layout view (for screenshots of one view).
    const SliceViewWidget& view(int index) const { return m_views[0][size_t(index)]; }
    SliceViewWidget& view(int index) { return m_views[0][size_t(index)]; }

    // What a panel's view shows over the image (kMaxPanels: the difference view).
    static MapOverlay overlayFor(const Document& document, const GpuScene& gpu, int panel);
    // The cells of the current layout: each a panel (or kMaxPanels) and a view orientation.
    struct Cell {
        ImVec2 position; // relative to the viewer area
        ImVec2 size;
        int panel = 0;
        int view = 0; // 0..2 slice orientations, kVolumeView the 3D view
    };
    static std::vector<Cell> layout(const ViewerState& state, int panelCount, bool difference, const ImVec2& size);

private:
    // One set of widgets per cell slot (framebuffers are per widget).
    std::array<std::array<SliceViewWidget, kSliceViewCount>, kMaxPanels + 1> m_views;
    std::array<VolumeViewWidget, kMaxPanels + 1> m_volumes;
};

} // namespace segxai::app
