#pragma once
#include "app/gui/state/document.h"
#include "app/gui/views/gpu_scene.h"
#include "render/image_capture.h"
#include "render/slice_renderer.h"
#include "render/volume_renderer.h"

namespace segxai::app {

// Pictures of the views at any size, drawn by the same code the screen uses (colour bars,
// letters and annotations included): one view, or the whole viewer layout (the panel grid).
// GL thread only.
class FigureRenderer {
public:
    FigureRenderer(render::SliceRenderer& slices, render::VolumeRenderer& volumes)
        : m_slices(slices), m_volumes(volumes) {}

    // One view (0..2 slice orientations, kVolumeView) of one panel (kMaxPanels: the difference).
    render::RgbaImage view(const Document& document, const GpuScene& gpu, int panel, int view, int width, int height,
                           float fontScale = 1.0f);
    // The current layout of the viewer area.
    render::RgbaImage layout(const Document& document, const GpuScene& gpu, int width, int height,
                             float fontScale = 1.0f);

private:
    render::SliceRenderer& m_slices;
    render::VolumeRenderer& m_volumes;
    render::Framebuffer m_target;
};

} // namespace segxai::app
