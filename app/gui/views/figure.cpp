#include "app/gui/views/figure.h"

#include "app/gui/views/viewer_panel.h"
#include "app/gui/views/volume_view_widget.h"

#include <cmath>
#include <cstring>

namespace segxai::app {

render::RgbaImage FigureRenderer::view(const Document& document, const GpuScene& gpu, int panel, int view, int width,
                                       int height, float fontScale) {
    const auto& loaded = document.workspace.study();
    if (!loaded) return {};
    const ViewerState& state = document.workspace.viewer();
    const MapOverlay overlay = ViewerPanel::overlayFor(document, gpu, panel);
    if (view == kVolumeView) {
        VolumeViewWidget().renderTo(m_target, width, height, state, *loaded, overlay, gpu, m_volumes, false, fontScale);
    } else {
        SliceViewWidget(view).renderTo(m_target, width, height, state, *loaded, overlay, gpu, m_slices, fontScale);
    }
    return render::readFramebuffer(m_target);
}

render::RgbaImage FigureRenderer::layout(const Document& document, const GpuScene& gpu, int width, int height,
                                         float fontScale) {
    render::RgbaImage out;
    out.width = width;
    out.height = height;
    out.pixels.assign(size_t(width) * size_t(height) * 4, 0);
    for (size_t n = 3; n < out.pixels.size(); n += 4)
        out.pixels[n] = 255;
    const ViewerState& state = document.workspace.viewer();
    const bool difference = state.showDifference && document.comparison.difference() != nullptr;
    const auto cells = ViewerPanel::layout(state, int(document.comparison.panels().size()), difference,
                                           ImVec2(float(width), float(height)));
    for (const auto& cell : cells) {
        const int x0 = int(std::lround(cell.position.x)), y0 = int(std::lround(cell.position.y));
        const int w = std::min(width - x0, int(std::lround(cell.size.x)));
        const int h = std::min(height - y0, int(std::lround(cell.size.y)));
        if (w <= 0 || h <= 0) continue;
        const render::RgbaImage part = view(document, gpu, cell.panel, cell.view, w, h, fontScale);
        for (int y = 0; y < part.height; ++y) {
            std::memcpy(&out.pixels[(size_t(y0 + y) * size_t(width) + size_t(x0)) * 4], part.at(0, y),
                        size_t(part.width) * 4);
        }
    }
    return out;
}

} // namespace segxai::app
