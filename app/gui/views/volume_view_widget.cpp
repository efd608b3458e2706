#include "app/gui/views/volume_view_widget.h"

#include "app/gui/views/render_key.h"
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

void VolumeViewWidget::renderTo(render::Framebuffer& target, int width, int height, const ViewerState& state,
                                const LoadedStudy& loaded, const MapOverlay& overlay, const GpuScene& gpu,
                                render::VolumeRenderer& renderer, bool interactive, float fontScale) const {
    const Geometry& g = loaded.study->geometry;
    render::VolumeLayers layers;
    layers.image = gpu.channel(state.displayChannel);
    if (state.displayChannel < int(state.windows.size())) {
        layers.low = state.windows[size_t(state.displayChannel)].min;
        layers.high = state.windows[size_t(state.displayChannel)].max;
    }
    layers.transfer = &gpu.transfer();
    layers.mip = state.mip;
    render::VolumeAnnotations annotations;
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
    }
    layers.clipPoint = g.voxelToWorld(glm::dvec3(state.crosshair[0], state.crosshair[1], state.crosshair[2]));
    layers.clipAxes = glm::ivec3(state.clip[0], state.clip[1], state.clip[2]);
    layers.stepScale = interactive ? 3.0f : 1.0f;
    renderer.render(state.camera, width, height, layers, annotations, target);
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
    const render::OrbitCamera& c = state.camera;
    const std::string cameraKey =
        renderKey(c.azimuth, c.elevation, c.distance, c.pan.x, c.pan.y, c.target.x, c.target.y, c.target.z);
    if (moved || (cameraKey != m_cameraKey && !m_cameraKey.empty())) m_lastInteraction = now;
    m_cameraKey = cameraKey;
    // Coarse while the mouse moves and a moment after; then one full-quality frame.
    const bool interactive = now - m_lastInteraction < std::chrono::milliseconds(200);
    if (interactive) glfwPostEmptyEvent();
    const int renderWidth = interactive ? std::max(1, width / 2) : width;
    const int renderHeight = interactive ? std::max(1, height / 2) : height;
    // Everything the picture depends on: it is rendered again only when this changes.
    const ValueRange window =
        state.displayChannel < int(state.windows.size()) ? state.windows[size_t(state.displayChannel)] : ValueRange{};
    // The crosshair matters only to clipping.
    const bool clipping = state.clip[0] || state.clip[1] || state.clip[2];
    const Index3 clipAt = clipping ? state.crosshair : Index3{0, 0, 0};
    const std::string key =
        renderKey(renderWidth, renderHeight, cameraKey, state.displayChannel, window.min, window.max, state.mip,
                  static_cast<const void*>(overlay.values), overlay.title, overlay.display.show, overlay.display.gain,
                  overlay.display.threshold, overlay.negativeExtent, overlay.display.separateNegative,
                  overlay.display.negativeGain, overlay.display.unsignedColormap, overlay.display.signedColormap,
                  state.labelShells, state.shellOpacity, state.mapOpacity3d, state.showSegmentation, state.clip[0],
                  state.clip[1], state.clip[2], clipAt[0], clipAt[1], clipAt[2], gpu.revision());
    if (key != m_renderedKey || !m_framebuffer.valid()) {
        renderTo(m_framebuffer, renderWidth, renderHeight, state, loaded, overlay, gpu, renderer, interactive);
        m_renderedKey = key;
    }
    m_image.add(m_framebuffer, origin, ImVec2(origin.x + float(width), origin.y + float(height)));
    return moved;
}

} // namespace segxai::app
