#pragma once
#include "app/gui/slice_view_widget.h"
#include "app/gui/workspace.h"

#include <array>

namespace segxai::app {

// The linked slice views laid out in the viewer area (side by side, or one maximised).
class ViewerPanel {
public:
    ViewerPanel() : m_views{SliceViewWidget(0), SliceViewWidget(1), SliceViewWidget(2)} {}

    void draw(const ImVec2& size, Workspace& workspace, const GpuScene& gpu,
              render::SliceRenderer& renderer);
    const SliceViewWidget& view(int index) const { return m_views[size_t(index)]; }
    SliceViewWidget& view(int index) { return m_views[size_t(index)]; }

private:
    std::array<SliceViewWidget, kSliceViewCount> m_views;
};

} // namespace segxai::app
