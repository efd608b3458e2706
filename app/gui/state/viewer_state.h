#pragma once
#include "engine/core/geometry.h"
#include "engine/core/volume.h"
#include "engine/explain/target.h"
#include "render/slice_view.h"
#include "render/transfer_function.h"
#include "render/volume_renderer.h"

#include <array>
#include <optional>
#include <vector>

namespace segxai::app {

constexpr int kSliceViewCount = 3;
constexpr int kVolumeView = 3; // view index of the 3D view
constexpr int kMaxPanels = 4;

// How a panel's explanation map is drawn.
struct MapDisplay {
    bool show = true;
    int index = 0;            // which explanation of the panel's set
    int map = 0;              // which map (input channel) of it
    int unsignedColormap = 2; // render::Colormap, inferno
    int signedColormap = 5;   // render::Colormap, blue-white-red
    float opacity = 0.7f;
    float threshold = 0.1f; // fraction of the extent below which nothing is drawn
    float gain = 1.0f;      // the colour map spans extent / gain
    // Signed maps: the negative side gets its own range (extent of the negative values /
    // negativeGain) instead of sharing the positive one.
    bool separateNegative = false;
    float negativeGain = 1.0f;
};

// What the Explain tab targets: a kind of the engine's target grammar with the class and
// threshold chosen in the tab (instances and voxels are at the crosshair, the box is
// ViewerState::box).
struct TargetChoice {
    TargetSpec::Kind kind = TargetSpec::Kind::ClassRegion;
    int classIndex = 1;
    bool useThreshold = false;
    double threshold = 0.5;
};

enum class Layout { Tri, Compare };
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
    std::vector<bool> classVisible; // per class of the segmentation
    // Segments coloured by a value per class (0..1, through inferno) instead of their class
    // colours: the attribution mass of the Aggregation tab's chosen class. Empty: off.
    std::vector<float> segmentShading;
    bool showProbability = false;
    int probabilityClass = 1;
    int probabilityColormap = 1; // render::Colormap, hot
    float probabilityOpacity = 0.6f;
    float probabilityThreshold = 0.05f;

    // Explanation maps: one display per comparison panel.
    std::array<MapDisplay, kMaxPanels> displays{};
    int activePanel = 0;
    Layout layout = Layout::Tri;
    int compareView = 0;         // the view compared panels show: axial, coronal, sagittal, 3D
    bool showDifference = false; // a difference view of panels A and B
    // Uncertainty maps get their own colour map (render::Colormap, viridis); with the fade on,
    // explanation maps fade where the ensemble is unsure (opacity x certainty).
    int uncertaintyColormap = 3;
    bool fadeByCertainty = false;
    bool rankDifference = false; // ranks instead of normalised values
    TargetChoice target;

    // The picked structure (an instance id of Workspace::instances(), 0: none), and a click
    // that asks to pick what is under the crosshair.
    int32_t selectedInstance = 0;
    bool pickPending = false;

    // A box target drawn on a slice: voxel corners, and its depth around the slice.
    bool drawingBox = false;
    std::optional<std::pair<Index3, Index3>> box;
    int boxDepth = 5;
    std::optional<HoverInfo> hover;

    // The 3D view: one camera for every panel, the transfer function and what is fused.
    render::OrbitCamera camera;
    bool cameraPlaced = false; // placed around the study once
    render::TransferFunction transfer = render::TransferFunction::preset(render::TransferFunction::Preset::MrSoft);
    bool mip = false;
    std::array<bool, 3> clip{false, false, false}; // cut above the crosshair on world x, y, z
    // With a structure picked and no cut of the user's, cut away the half of the volume between
    // the camera and the structure, so that the skin does not hide it.
    bool cutToPick = true;
    // A legend of the overlays (ground truth, model, pick) in the first slice view.
    bool overlayLegend = true;
    bool labelShells = true;
    float shellOpacity = 0.85f;
    float mapOpacity3d = 0.6f;

    void resetCameras() { cameras = {}; }
};

} // namespace segxai::app
