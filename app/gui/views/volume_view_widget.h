#pragma once
#include "app/gui/state/loaded_study.h"
#include "app/gui/state/viewer_state.h"
#include "app/gui/views/gpu_scene.h"
#include "app/gui/views/slice_view_widget.h"
#include "app/gui/views/view_image.h"
#include "render/volume_renderer.h"

#include <chrono>
#include <imgui.h>
#include <optional>
#include <string>

namespace segxai::app {

// The 3D view: ray casting of the displayed channel through the transfer function, the
// overlay's map fused along the ray, labels as shells, the picked structure highlighted,
// clipping at the crosshair. Left drag rotates, right drag or the wheel zooms, middle or
// Shift+left drag pans, double-click maximises, r resets. While the mouse moves it renders
// at half resolution with a coarser step; it renders only when something it shows changed.
class VolumeViewWidget {
public:
    bool draw(const ImVec2& size, ViewerState& state, const LoadedStudy& study, const MapOverlay& overlay,
              const GpuScene& gpu, render::VolumeRenderer& renderer);
    void renderTo(render::Framebuffer& target, int width, int height, const ViewerState& state,
                  const LoadedStudy& study, const MapOverlay& overlay, const GpuScene& gpu,
                  render::VolumeRenderer& renderer, bool interactive, float fontScale = 1.0f) const;
    const render::Framebuffer& framebuffer() const { return m_framebuffer; }

    // Places the camera around the study (done once per study, and by r).
    static void placeCamera(ViewerState& state, const Geometry& geometry);

private:
    // What a picture shows; two equal scenes draw the same picture (textures' content follows
    // the GPU mirror's revision).
    struct Scene {
        render::OrbitCamera camera;
        int width = 1, height = 1;
        render::VolumeLayers layers;
        render::VolumeAnnotations annotations;
        uint64_t gpuRevision = 0;
        bool operator==(const Scene&) const = default;
    };
    Scene sceneFor(int width, int height, const ViewerState& state, const LoadedStudy& study, const MapOverlay& overlay,
                   const GpuScene& gpu, bool interactive, float fontScale) const;
    bool handleInput(ViewerState& state, const LoadedStudy& study);

    render::Framebuffer m_framebuffer;
    ViewImage m_image;
    // The scene last drawn: a camera that differs from it (a linked panel, a script) counts as
    // moving.
    std::optional<Scene> m_rendered;
    std::chrono::steady_clock::time_point m_lastInteraction{};
};

} // namespace segxai::app
