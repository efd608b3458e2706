#pragma once
#include "engine/geometry.h"
#include "engine/volume.h"
#include "render/slice_view.h"

#include <array>
#include <optional>
#include <vector>

namespace segxai::app {

constexpr int kSliceViewCount = 3;
constexpr std::array<render::SliceAxis, kSliceViewCount> kSliceAxes = {
    render::SliceAxis::Axial, render::SliceAxis::Coronal, render::SliceAxis::Sagittal};

// Zoom and pan of one view, relative to the view that fits the whole study.
struct ViewCamera {
    double zoom = 1.0;
    glm::dvec2 pan{0.0}; // mm along the view's right and up
};

struct HoverInfo {
    Index3 voxel{0, 0, 0};
    glm::dvec3 world{0.0};
    bool insideVolume = false;
};

// Everything the linked views share: crosshair, cameras, display settings. UI thread only.
struct ViewerState {
    Index3 crosshair{0, 0, 0}; // voxel index in the study grid (views slice through it)
    render::Convention convention = render::Convention::Radiological;
    std::array<ViewCamera, kSliceViewCount> cameras{};
    int maximised = -1; // view index, or -1 for all views
    int displayChannel = 0;
    std::vector<ValueRange> windows; // display range per channel
    bool linearInterpolation = true;
    bool showCrosshair = true;
    bool showGroundTruth = true;
    float labelOpacity = 0.8f;
    bool labelOutline = true; // outlined, so a model's filled labels show beneath

    // The model's segmentation and probabilities.
    bool showSegmentation = true;
    float segmentationOpacity = 0.45f;
    bool segmentationOutline = false;
    std::vector<bool> classVisible;     // per class of the segmentation
    bool showProbability = false;
    int probabilityClass = 1;
    int probabilityColormap = 1;        // render::Colormap, hot
    float probabilityOpacity = 0.6f;
    float probabilityThreshold = 0.05f;

    // Explanation maps.
    bool showExplanation = true;
    int explanationIndex = 0;         // which explanation of the set
    int explanationMap = 0;           // which map (input channel) of it
    int unsignedColormap = 2;         // render::Colormap, inferno
    int signedColormap = 5;           // render::Colormap, blue-white-red
    float explanationOpacity = 0.7f;
    float explanationThreshold = 0.1f; // fraction of the extent below which nothing is drawn
    float explanationGain = 1.0f;      // the colour map spans extent / gain

    // A box target drawn on a slice: voxel corners, and its depth around the slice.
    bool drawingBox = false;
    std::optional<std::pair<Index3, Index3>> box;
    int boxDepth = 5;
    std::optional<HoverInfo> hover;

    void resetCameras() { cameras = {}; }
};

} // namespace segxai::app
