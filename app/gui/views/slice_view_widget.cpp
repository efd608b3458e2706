#include "app/gui/views/slice_view_widget.h"

#include "app/gui/views/view_image.h"

#include <GLFW/glfw3.h>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai::app {
namespace {

Index3 clampedVoxel(const Geometry& g, const glm::dvec3& continuousIndex) {
    Index3 v;
    for (int a = 0; a < 3; ++a) {
        v[a] = std::clamp<int64_t>(std::llround(continuousIndex[a]), 0, g.dims[a] - 1);
    }
    return v;
}

std::string capitalised(const char* name) {
    std::string s(name);
    if (!s.empty()) s[0] = char(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

} // namespace

MapOverlay::Range MapOverlay::range() const {
    Range r;
    r.positive = extent / display.gain;
    r.negative = signedMap && display.separateNegative ? negativeExtent / display.negativeGain : r.positive;
    r.threshold = display.threshold * (signedMap ? std::min(r.positive, r.negative) : r.positive);
    return r;
}

render::OverlayLayer MapOverlay::layer(float opacity) const {
    const Range r = range();
    render::OverlayLayer o;
    o.values = values;
    o.signedMap = signedMap;
    o.colormap = render::Colormap(signedMap ? display.signedColormap : display.unsignedColormap);
    o.low = 0.0f;
    o.high = o.positiveExtent = r.positive;
    o.negativeExtent = r.negative;
    o.threshold = r.threshold;
    o.opacity = opacity;
    o.certainty = certainty;
    return o;
}

render::ColourBar MapOverlay::colourBar() const {
    const Range r = range();
    const render::Colormap colormap = render::Colormap(signedMap ? display.signedColormap : display.unsignedColormap);
    render::ColourBar bar{true, colormap, signedMap, signedMap ? -r.negative : 0.0f, r.positive, "", r.threshold, ""};
    // The ends are a robust extent (and the gain), not the extremes: say so, and give the maximum.
    bar.note = fmt::format("ends: {}{}; max {:.3g}", extentName.empty() ? "p99.5" : extentName,
                           display.gain != 1.0f ? fmt::format(" / gain {:.2g}", display.gain) : "", maximum);
    return bar;
}

std::pair<int, int> SliceViewWidget::sliceAxisIndex(const Geometry& geometry, const ViewerState& state) const {
    const glm::dvec3 normal = render::sliceFrame(axis(), state.convention).normal;
    int best = 0;
    double bestDot = -1.0;
    for (int a = 0; a < 3; ++a) {
        const double d = std::abs(glm::dot(geometry.direction[a], normal));
        if (d > bestDot) {
            bestDot = d;
            best = a;
        }
    }
    return {best, glm::dot(geometry.direction[best], normal) >= 0.0 ? 1 : -1};
}

render::SliceViewport SliceViewWidget::viewportFor(int width, int height, const ViewerState& state,
                                                   const Geometry& geometry) const {
    const render::SliceFrame frame = render::sliceFrame(axis(), state.convention);
    glm::dvec3 corners[8];
    for (int c = 0; c < 8; ++c) {
        glm::dvec3 index;
        for (int a = 0; a < 3; ++a)
            index[a] = (c >> a & 1) ? double(geometry.dims[a]) - 0.5 : -0.5;
        corners[c] = geometry.voxelToWorld(index);
    }
    render::SliceViewport v = render::fitViewport(frame, corners, width, height);
    const ViewCamera& camera = state.cameras[size_t(m_index)];
    v.mmPerPixel /= camera.zoom;
    v.center += camera.pan.x * frame.right + camera.pan.y * frame.up;
    const glm::dvec3 cross =
        geometry.voxelToWorld(glm::dvec3(state.crosshair[0], state.crosshair[1], state.crosshair[2]));
    v.center += frame.normal * glm::dot(cross - v.center, frame.normal);
    return v;
}

SliceViewWidget::Scene SliceViewWidget::sceneFor(int width, int height, const ViewerState& state,
                                                 const LoadedStudy& loaded, const MapOverlay& overlay,
                                                 const GpuScene& gpu, float fontScale) const {
    const Geometry& g = loaded.study->geometry;
    Scene scene;
    scene.viewport = viewportFor(width, height, state, g);
    scene.gpuRevision = gpu.revision();
    const render::SliceViewport& viewport = scene.viewport;
    render::SliceLayers& layers = scene.layers;
    layers.image = gpu.channel(state.displayChannel);
    if (state.displayChannel < int(state.windows.size())) {
        layers.windowLow = state.windows[size_t(state.displayChannel)].min;
        layers.windowHigh = state.windows[size_t(state.displayChannel)].max;
    }
    render::SliceAnnotations& annotations = scene.annotations;
    if (overlay.values && overlay.display.show) {
        layers.overlay = overlay.layer(overlay.display.opacity);
        annotations.colourBar = overlay.colourBar();
        annotations.topRightText = overlay.title;
    } else if (state.showProbability && gpu.probability()) {
        layers.overlay.values = gpu.probability();
        layers.overlay.colormap = render::Colormap(state.probabilityColormap);
        layers.overlay.low = 0.0f;
        layers.overlay.high = 1.0f;
        layers.overlay.threshold = state.probabilityThreshold;
        layers.overlay.opacity = state.probabilityOpacity;
        annotations.colourBar = {true, layers.overlay.colormap, false, 0.0f, 1.0f, "probability", 0.0f, ""};
    }
    if (state.showSegmentation) {
        layers.labels[0] = {gpu.segmentation(), &gpu.segmentationColors(), state.segmentationOpacity,
                            state.segmentationOutline};
    }
    if (state.showGroundTruth) {
        layers.labels[1] = {gpu.groundTruth(), &gpu.labelColors(), state.labelOpacity, state.labelOutline};
    }
    layers.labels[2] = {gpu.selection(), &gpu.selectionColors(), 1.0f, true};
    if (state.overlayLegend && m_index == 0) {
        const auto rgba = [](glm::u8vec4 c) { return glm::vec4(glm::vec3(c) / 255.0f, 1.0f); };
        if (layers.labels[1].visible()) {
            annotations.legend.push_back({"ground truth", rgba(gpu.truthColour()), state.labelOutline});
        }
        if (layers.labels[0].visible()) {
            annotations.legend.push_back({"model", rgba(gpu.classColour(1)), state.segmentationOutline});
        }
        if (layers.labels[2].visible()) annotations.legend.push_back({"picked structure", rgba(kPickColour), true});
    }
    annotations.crosshair = state.showCrosshair;
    annotations.crosshairWorld = g.voxelToWorld(glm::dvec3(state.crosshair[0], state.crosshair[1], state.crosshair[2]));
    annotations.fontSize = 15.0f * fontScale;
    const auto [sliceAxis, sign] = sliceAxisIndex(g, state);
    (void)sign;
    annotations.topLeftText = fmt::format("{}  {} / {}", capitalised(render::sliceAxisName(axis())),
                                          state.crosshair[size_t(sliceAxis)] + 1, g.dims[size_t(sliceAxis)]);
    if (state.box) {
        // The box's rectangle on this view when the slice passes through it.
        const auto& [lo, hi] = *state.box;
        const int64_t slice = state.crosshair[size_t(sliceAxis)];
        if (slice >= lo[size_t(sliceAxis)] && slice <= hi[size_t(sliceAxis)]) {
            glm::vec2 a(1e9f), b(-1e9f);
            for (int corner = 0; corner < 8; ++corner) {
                glm::dvec3 index;
                for (int axis = 0; axis < 3; ++axis) {
                    index[axis] =
                        (corner >> axis & 1) ? double(hi[size_t(axis)]) + 0.5 : double(lo[size_t(axis)]) - 0.5;
                }
                index[sliceAxis] = double(slice);
                const glm::vec2 p = glm::vec2(viewport.worldToPixel(g.voxelToWorld(index)));
                a = glm::min(a, p);
                b = glm::max(b, p);
            }
            annotations.boxes.push_back({a, b});
        }
    }
    return scene;
}

void SliceViewWidget::renderTo(render::Framebuffer& target, int width, int height, const ViewerState& state,
                               const LoadedStudy& loaded, const MapOverlay& overlay, const GpuScene& gpu,
                               render::SliceRenderer& renderer, float fontScale) const {
    const Scene scene = sceneFor(width, height, state, loaded, overlay, gpu, fontScale);
    renderer.render(scene.viewport, scene.layers, scene.annotations, target);
}

bool SliceViewWidget::draw(const ImVec2& size, ViewerState& state, const LoadedStudy& loaded, const MapOverlay& overlay,
                           const GpuScene& gpu, render::SliceRenderer& renderer) {
    const int width = std::max(1, int(size.x)), height = std::max(1, int(size.y));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("slice", ImVec2(float(width), float(height)),
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
                               ImGuiButtonFlags_MouseButtonMiddle);
    const bool changed = handleInput(origin, state, loaded);

    // Everything the picture depends on: rendered again only when it changes.
    Scene scene = sceneFor(width, height, state, loaded, overlay, gpu, 1.0f);
    m_viewport = scene.viewport;
    if (!m_rendered || !(scene == *m_rendered) || !m_framebuffer.valid()) {
        renderer.render(scene.viewport, scene.layers, scene.annotations, m_framebuffer);
        m_rendered = std::move(scene);
    }
    m_image.add(m_framebuffer, origin, ImVec2(origin.x + float(width), origin.y + float(height)));
    return changed;
}

bool SliceViewWidget::handleInput(const ImVec2& origin, ViewerState& state, const LoadedStudy& loaded) {
    const ImGuiIO& io = ImGui::GetIO();
    const Geometry& g = loaded.study->geometry;
    const glm::dvec2 mouse(io.MousePos.x - origin.x, io.MousePos.y - origin.y);
    bool changed = false;
    if (ImGui::IsItemHovered()) {
        state.hover = hoverAt(mouse, g);
        changed = stepSlices(state, g) || changed;
        if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) changed = toggleMaximised(state) || changed;
    }
    if (ImGui::IsItemClicked(ImGuiMouseButton_Left) && !m_doubleClicked) beginLeftDrag(state);
    if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        m_boxAnchor.reset();
        m_doubleClicked = false;
    }
    const bool active = ImGui::IsItemActive();
    if (active && ImGui::IsMouseDown(ImGuiMouseButton_Left) && !m_doubleClicked) {
        changed = leftDrag(mouse, state, g) || changed;
    }
    if (active && ImGui::IsMouseDown(ImGuiMouseButton_Right) && io.MouseDelta.y != 0.0f) {
        ViewCamera& camera = state.cameras[size_t(m_index)];
        camera.zoom = std::clamp(camera.zoom * std::exp(-io.MouseDelta.y * 0.01), 0.05, 100.0);
        changed = true;
    }
    if (active && ImGui::IsMouseDown(ImGuiMouseButton_Middle)) {
        ViewCamera& camera = state.cameras[size_t(m_index)];
        camera.pan += glm::dvec2(-io.MouseDelta.x, io.MouseDelta.y) * m_viewport.mmPerPixel;
        changed = true;
    }
    return changed;
}

HoverInfo SliceViewWidget::hoverAt(const glm::dvec2& mouse, const Geometry& g) const {
    const glm::dvec3 world = m_viewport.pixelToWorld(mouse);
    const glm::dvec3 c = g.worldToVoxel(world);
    HoverInfo hover;
    hover.world = world;
    hover.voxel = clampedVoxel(g, c);
    hover.insideVolume = true;
    for (int a = 0; a < 3; ++a) {
        hover.insideVolume = hover.insideVolume && c[a] > -0.5 && c[a] < double(g.dims[a]) - 0.5;
    }
    return hover;
}

bool SliceViewWidget::stepSlices(ViewerState& state, const Geometry& g) const {
    const ImGuiIO& io = ImGui::GetIO();
    int steps = io.MouseWheel > 0.0f ? 1 : io.MouseWheel < 0.0f ? -1 : 0;
    bool changed = false;
    if (!io.WantTextInput) {
        if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageUp)) ||
            ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) {
            ++steps;
        }
        if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageDown)) ||
            ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) {
            --steps;
        }
        if (ImGui::IsKeyPressed(GLFW_KEY_R, false)) {
            state.resetCameras();
            changed = true;
        }
    }
    if (steps == 0) return changed;
    const auto [axis, sign] = sliceAxisIndex(g, state);
    auto& index = state.crosshair[size_t(axis)];
    index = std::clamp<int64_t>(index + steps * sign, 0, g.dims[size_t(axis)] - 1);
    return true;
}

bool SliceViewWidget::toggleMaximised(ViewerState& state) {
    // A double-click changes the layout only: the crosshair and the pick go back to where the
    // double-click's first click found them.
    if (m_beforeClick) {
        state.crosshair = m_beforeClick->crosshair;
        state.selectedInstance = m_beforeClick->selectedInstance;
    }
    state.pickPending = false;
    m_doubleClicked = true;
    state.maximised = state.maximised == m_index ? -1 : m_index;
    return true;
}

void SliceViewWidget::beginLeftDrag(ViewerState& state) {
    const ImGuiIO& io = ImGui::GetIO();
    m_dragStart = io.MousePos;
    m_beforeClick = BeforeClick{state.crosshair, state.selectedInstance};
    // A plain click picks the structure under it (after the crosshair moves there).
    if (!io.KeyCtrl && !io.KeyShift && !state.drawingBox) state.pickPending = true;
    if (state.displayChannel < int(state.windows.size()))
        m_windowAtDragStart = state.windows[size_t(state.displayChannel)];
}

bool SliceViewWidget::leftDrag(const glm::dvec2& mouse, ViewerState& state, const Geometry& g) {
    const ImGuiIO& io = ImGui::GetIO();
    const auto [axis, sign] = sliceAxisIndex(g, state);
    if (state.drawingBox && !io.KeyCtrl && !io.KeyShift) {
        // Box target: the drag spans the box in this view's plane; the depth is around the slice.
        const Index3 v = clampedVoxel(g, g.worldToVoxel(m_viewport.pixelToWorld(mouse)));
        const int64_t slice = state.crosshair[size_t(axis)];
        if (!m_boxAnchor) m_boxAnchor = v;
        Index3 lo, hi;
        for (size_t a = 0; a < 3; ++a) {
            lo[a] = std::min(v[a], (*m_boxAnchor)[a]);
            hi[a] = std::max(v[a], (*m_boxAnchor)[a]);
        }
        lo[size_t(axis)] = std::max<int64_t>(0, slice - state.boxDepth);
        hi[size_t(axis)] = std::min<int64_t>(g.dims[size_t(axis)] - 1, slice + state.boxDepth);
        state.box = std::make_pair(lo, hi);
        return true;
    }
    if (io.KeyCtrl && state.displayChannel < int(state.windows.size())) {
        // Window/level: horizontal drag scales the width, vertical drag moves the level.
        const ValueRange w0 = m_windowAtDragStart;
        const double width0 = std::max(1e-6, double(w0.max - w0.min));
        const double level0 = 0.5 * (w0.max + w0.min);
        const double dx = io.MousePos.x - m_dragStart.x, dy = io.MousePos.y - m_dragStart.y;
        const double width = width0 * std::exp(dx * 0.005);
        const double level = level0 - dy * width0 * 0.003;
        state.windows[size_t(state.displayChannel)] = {float(level - width / 2), float(level + width / 2)};
        return true;
    }
    if (io.KeyShift) {
        ViewCamera& camera = state.cameras[size_t(m_index)];
        camera.pan += glm::dvec2(-io.MouseDelta.x, io.MouseDelta.y) * m_viewport.mmPerPixel;
        return true;
    }
    const Index3 before = state.crosshair;
    Index3 v = clampedVoxel(g, g.worldToVoxel(m_viewport.pixelToWorld(mouse)));
    v[size_t(axis)] = before[size_t(axis)]; // stay on this view's slice
    state.crosshair = v;
    return v != before;
}

} // namespace segxai::app
