#pragma once
#include "render/canvas_2d.h"
#include "render/slice_renderer.h"
#include "render/transfer_function.h"

#include <glm/glm.hpp>

namespace segxai::render {

// A camera orbiting a world point (mm, LPS). Azimuth 0 and elevation 0 look at the patient's
// face from the front (anterior), superior up.
struct OrbitCamera {
    glm::dvec3 target{0.0};
    double distance = 500.0;
    double azimuth = 0.0;   // degrees about the superior axis
    double elevation = 0.0; // degrees above the horizontal plane
    double fieldOfView = 30.0;
    glm::dvec2 pan{0.0}; // mm along the view's right and up

    glm::dvec3 eye() const;
    glm::dvec3 up() const;
    glm::dmat4 view() const;
    glm::dmat4 projection(double aspect) const;
    bool operator==(const OrbitCamera&) const = default;
};

struct VolumeLayers {
    const VolumeTexture* image = nullptr;
    float low = 0.0f, high = 1.0f; // image values spanning the transfer function
    const TransferTexture* transfer = nullptr;
    bool mip = false;
    OverlayLayer map; // fused along the ray
    const VolumeTexture* labels = nullptr;
    const LabelColorTable* labelColors = nullptr;
    float labelOpacity = 0.85f;
    const VolumeTexture* selection = nullptr;     // non-zero: the picked structure (on a grid of its own)
    glm::vec3 selectionColour{1.0f, 0.25f, 1.0f}; // its shell's colour (0..1)
    glm::dvec3 clipPoint{0.0};
    glm::ivec3 clipAxes{0}; // 1: cut away what lies above the point on that world axis, -1: below
    float stepScale = 1.0f; // 1: one voxel per step; larger while interacting
    bool operator==(const VolumeLayers&) const = default;
};

struct VolumeAnnotations {
    bool axes = true; // world axes at the lower left
    float fontSize = 15.0f;
    std::string topLeftText;
    std::string topRightText;
    ColourBar colourBar;
    bool operator==(const VolumeAnnotations&) const = default;
};

class VolumeRenderer {
public:
    VolumeRenderer(ShaderLibrary& shaders, FontAtlas& font);
    void render(const OrbitCamera& camera, int width, int height, const VolumeLayers& layers,
                const VolumeAnnotations& annotations, Framebuffer& target);

private:
    ShaderLibrary& m_shaders;
    Canvas2D m_canvas;
    VertexArrayName m_emptyVao;
    ColormapTexture m_colormaps;
};

} // namespace segxai::render
