#pragma once
#include "app/gui/state/loaded_study.h"
#include "app/gui/state/viewer_state.h"
#include "app/gui/state/workspace.h"
#include "app/gui/views/gpu_scene.h"
#include "app/gui/views/view_image.h"
#include "render/gl_objects.h"
#include "render/slice_renderer.h"

#include <imgui.h>
#include <optional>
#include <string>

namespace segxai::app {

// The map a view shows over the image: a panel's explanation, the difference view, or none.
struct MapOverlay {
    const render::VolumeTexture* values = nullptr;
    bool signedMap = false;
    float extent = 1.0f;         // the map's robust extent of |value|
    float negativeExtent = 1.0f; // ... of the negative values' magnitude (signed maps)
    MapDisplay display;
    std::string title;    // panel and method, shown in the view and on the colour bar
    float maximum = 0.0f; // the map's largest |value| (what the colour bar's note compares with)
    const render::VolumeTexture* certainty = nullptr; // fades the map where the ensemble is unsure
    std::string extentName;                           // MapFigures::extentName

    // The range the colour map spans: unsigned 0 .. positive; signed -negative .. +positive.
    struct Range {
        float negative = 1.0f, positive = 1.0f;
        float threshold = 0.0f; // |value| below is not drawn
    };
    Range range() const;
    // The overlay as the renderers draw it (at `opacity`), and its colour bar.
    render::OverlayLayer layer(float opacity) const;
    render::ColourBar colourBar() const;
};

// One linked slice view: renders the study through render::SliceRenderer into its own
// framebuffer, shows it as an ImGui image, and turns mouse and keys into viewer-state
// changes (ITK-SNAP habits: left = crosshair, wheel/PageUp/PageDown = slice, right drag =
// zoom, middle or Shift+left drag = pan, Ctrl+left drag = window/level, double-click =
// maximise, r = reset).
class SliceViewWidget {
public:
    // `viewIndex` selects the orientation (kSliceAxes) and the camera it shares.
    explicit SliceViewWidget(int viewIndex) : m_index(viewIndex) {}

    // Draws the view filling `size` at the current ImGui cursor. True when state changed.
    bool draw(const ImVec2& size, ViewerState& state, const LoadedStudy& study, const MapOverlay& overlay,
              const GpuScene& gpu, render::SliceRenderer& renderer);

    render::SliceAxis axis() const { return kSliceAxes[size_t(m_index)]; }
    const render::Framebuffer& framebuffer() const { return m_framebuffer; }
    // The viewport used for the last draw (for screenshots and tests).
    const render::SliceViewport& viewport() const { return m_viewport; }

    // Renders at an arbitrary size (screenshots larger than the screen).
    void renderTo(render::Framebuffer& target, int width, int height, const ViewerState& state,
                  const LoadedStudy& study, const MapOverlay& overlay, const GpuScene& gpu,
                  render::SliceRenderer& renderer, float fontScale = 1.0f) const;

private:
    // What a picture shows; two equal scenes draw the same picture (textures' content follows
    // the GPU mirror's revision).
    struct Scene {
        render::SliceViewport viewport;
        render::SliceLayers layers;
        render::SliceAnnotations annotations;
        uint64_t gpuRevision = 0;
        bool operator==(const Scene&) const = default;
    };
    Scene sceneFor(int width, int height, const ViewerState& state, const LoadedStudy& study, const MapOverlay& overlay,
                   const GpuScene& gpu, float fontScale) const;
    render::SliceViewport viewportFor(int width, int height, const ViewerState& state, const Geometry& geometry) const;
    // Mouse and keys, one function per gesture; each returns whether the state changed.
    bool handleInput(const ImVec2& origin, ViewerState& state, const LoadedStudy& study);
    HoverInfo hoverAt(const glm::dvec2& mouse, const Geometry& geometry) const;
    bool stepSlices(ViewerState& state, const Geometry& geometry) const;
    bool toggleMaximised(ViewerState& state);
    void beginLeftDrag(ViewerState& state);
    bool leftDrag(const glm::dvec2& mouse, ViewerState& state, const Geometry& geometry);
    // Index axis of the study closest to this view's normal, and the sign that moves along +normal.
    std::pair<int, int> sliceAxisIndex(const Geometry& geometry, const ViewerState& state) const;

    int m_index;
    render::Framebuffer m_framebuffer;
    ViewImage m_image;
    render::SliceViewport m_viewport;
    ImVec2 m_dragStart{};
    std::optional<Scene> m_rendered;
    std::optional<Index3> m_boxAnchor;
    ValueRange m_windowAtDragStart{};
    // Where the crosshair and the pick were before the last click (a double-click puts them
    // back), and whether the left button is down for a double-click.
    struct BeforeClick {
        Index3 crosshair{0, 0, 0};
        int32_t selectedInstance = 0;
    };
    std::optional<BeforeClick> m_beforeClick;
    bool m_doubleClicked = false;
};

} // namespace segxai::app
