#include "app/gui/views/volume_view_widget.h"

#include "app/gui/views/view_image.h"

#include <GLFW/glfw3.h>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai::app {

void VolumeViewWidget::placeCamera(ViewerState& state, const Geometry& geometry) {
    const WorldBox box = geometry.worldBounds();
    state.camera = render::OrbitCamera{};
    state.camera.target = (box.min + box.max) * 0.5;
    const double extent = glm::length(box.max - box.min);
    state.camera.distance = extent / (2.0 * std::tan(glm::radians(state.camera.fieldOfView) * 0.5)) * 1.05;
    state.camera.azimuth = 30.0;
    state.camera.elevation = 20.0;
    state.cameraPlaced = true;
}

VolumeViewWidget::Scene VolumeViewWidget::sceneFor(int width, int height, const ViewerState& state,
                                                   const LoadedStudy& loaded, const MapOverlay& overlay,
                                                   const GpuScene& gpu, bool interactive, float fontScale) const {
    const Geometry& g = loaded.study->geometry;
    Scene scene;
    scene.camera = state.camera;
    scene.width = width;
    scene.height = height;
    scene.gpuRevision = gpu.revision();
    render::VolumeLayers& layers = scene.layers;
    layers.image = gpu.channel(state.displayChannel);
    if (state.displayChannel < int(state.windows.size())) {
        layers.low = state.windows[size_t(state.displayChannel)].min;
        layers.high = state.windows[size_t(state.displayChannel)].max;
    }
    layers.transfer = &gpu.transfer();
    layers.mip = state.mip;
    render::VolumeAnnotations& annotations = scene.annotations;
    annotations.fontSize = 15.0f * fontScale;
    annotations.topLeftText = state.mip ? "3D (MIP)" : "3D";
    if (overlay.values && overlay.display.show) {
        layers.map = overlay.layer(state.mapOpacity3d);
        annotations.colourBar = overlay.colourBar();
        annotations.topRightText = overlay.title;
    }
    if (state.labelShells && state.showSegmentation && gpu.segmentation()) {
        layers.labels = gpu.segmentation();
        layers.labelColors = &gpu.segmentationColors();
        layers.labelOpacity = state.shellOpacity;
        layers.selection = gpu.selection();
        layers.selectionColour = glm::vec3(kPickColour) / 255.0f;
    }
    // The cut point matters only when something is cut (a moving crosshair redraws nothing).
    if (state.clip[0] || state.clip[1] || state.clip[2]) {
        layers.clipPoint = g.voxelToWorld(glm::dvec3(state.crosshair[0], state.crosshair[1], state.crosshair[2]));
        layers.clipAxes = glm::ivec3(state.clip[0], state.clip[1], state.clip[2]);
    } else if (state.cutToPick && gpu.selectionCentre()) {
        // The half facing the camera, along the world axis it mostly looks down, goes.
        const glm::dvec3 toEye = state.camera.eye() - *gpu.selectionCentre();
        int axis = 0;
        for (int a = 1; a < 3; ++a) {
            if (std::abs(toEye[a]) > std::abs(toEye[axis])) axis = a;
        }
        layers.clipPoint = *gpu.selectionCentre();
        layers.clipAxes[axis] = toEye[axis] > 0.0 ? 1 : -1;
        annotations.topLeftText += " - cut to the picked structure";
    }
    layers.stepScale = interactive ? 3.0f : 1.0f;
    return scene;
}

void VolumeViewWidget::renderTo(render::Framebuffer& target, int width, int height, const ViewerState& state,
                                const LoadedStudy& loaded, const MapOverlay& overlay, const GpuScene& gpu,
                                render::VolumeRenderer& renderer, bool interactive, float fontScale) const {
    const Scene scene = sceneFor(width, height, state, loaded, overlay, gpu, interactive, fontScale);
    renderer.render(scene.camera, scene.width, scene.height, scene.layers, scene.annotations, target);
}

bool VolumeViewWidget::handleInput(ViewerState& state, const LoadedStudy& loaded) {
    ImGuiIO& io = ImGui::GetIO();
    const bool hovered = ImGui::IsItemHovered(), active = ImGui::IsItemActive();
    render::OrbitCamera& c = state.camera;
    bool changed = false;
    const double mmPerPixel =
        2.0 * c.distance * std::tan(glm::radians(c.fieldOfView) * 0.5) / std::max(1.0f, ImGui::GetItemRectSize().y);
    if (active && ImGui::IsMouseDown(ImGuiMouseButton_Left) && !io.KeyShift) {
        c.azimuth = std::fmod(c.azimuth - io.MouseDelta.x * 0.4, 360.0);
        c.elevation = std::clamp(c.elevation + io.MouseDelta.y * 0.4, -89.0, 89.0);
        changed = io.MouseDelta.x != 0.0f || io.MouseDelta.y != 0.0f;
    }
    if (active &&
        (ImGui::IsMouseDown(ImGuiMouseButton_Middle) || (io.KeyShift && ImGui::IsMouseDown(ImGuiMouseButton_Left)))) {
        c.pan += glm::dvec2(-io.MouseDelta.x, io.MouseDelta.y) * mmPerPixel;
        changed = true;
    }
    if (active && ImGui::IsMouseDown(ImGuiMouseButton_Right) && io.MouseDelta.y != 0.0f) {
        c.distance = std::clamp(c.distance * std::exp(io.MouseDelta.y * 0.01), 10.0, 1e5);
        changed = true;
    }
    if (hovered && io.MouseWheel != 0.0f) {
        c.distance = std::clamp(c.distance * std::exp(-io.MouseWheel * 0.1), 10.0, 1e5);
        changed = true;
    }
    if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
        state.maximised = state.maximised == kVolumeView ? -1 : kVolumeView;
    }
    if (hovered && !io.WantTextInput && ImGui::IsKeyPressed(GLFW_KEY_R, false))
        placeCamera(state, loaded.study->geometry);
    return changed;
}

bool VolumeViewWidget::draw(const ImVec2& size, ViewerState& state, const LoadedStudy& loaded,
                            const MapOverlay& overlay, const GpuScene& gpu, render::VolumeRenderer& renderer) {
    if (!state.cameraPlaced) placeCamera(state, loaded.study->geometry);
    const int width = std::max(1, int(size.x)), height = std::max(1, int(size.y));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("volume", ImVec2(float(width), float(height)),
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
                               ImGuiButtonFlags_MouseButtonMiddle);
    const bool moved = handleInput(state, loaded);
    const auto now = std::chrono::steady_clock::now();
    if (moved || (m_rendered && !(state.camera == m_rendered->camera))) m_lastInteraction = now;
    // Coarse while the mouse moves and a moment after; then one full-quality frame.
    const bool interactive = now - m_lastInteraction < std::chrono::milliseconds(200);
    if (interactive) glfwPostEmptyEvent();
    const int renderWidth = interactive ? std::max(1, width / 2) : width;
    const int renderHeight = interactive ? std::max(1, height / 2) : height;
    // Everything the picture depends on: it is rendered again only when it changes.
    Scene scene = sceneFor(renderWidth, renderHeight, state, loaded, overlay, gpu, interactive, 1.0f);
    if (!m_rendered || !(scene == *m_rendered) || !m_framebuffer.valid()) {
        renderer.render(scene.camera, scene.width, scene.height, scene.layers, scene.annotations, m_framebuffer);
        m_rendered = std::move(scene);
    }
    m_image.add(m_framebuffer, origin, ImVec2(origin.x + float(width), origin.y + float(height)));
    return moved;
}

} // namespace segxai::app
